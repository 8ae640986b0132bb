#pragma once
// Who is pushing, and what they passed with `git push -o`. Read through an environment seam so
// unit tests need no real environment.

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace trunkgate {

/// Looks up one environment variable; nullopt when unset.
using env_lookup = std::function<std::optional<std::string>(const std::string& name)>;

/// The process environment (getenv).
env_lookup process_environment();

/// The first non-empty variable among `names` (policy [identity] env), or "" when none is set.
std::string resolve_identity(const std::vector<std::string>& names, const env_lookup& env);

/// The push options from GIT_PUSH_OPTION_COUNT / GIT_PUSH_OPTION_<i>; empty when none were sent.
std::vector<std::string> read_push_options(const env_lookup& env);

} // namespace trunkgate
