#pragma once
// The branch-protection policy: a TOML file (docs/policy.md documents every key).

#include <re2/re2.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "trunkgate/finding.hpp"

namespace trunkgate {

enum class policy_mode { enforce, evaluate };

/// A compiled RE2 pattern together with its source text (for messages).
struct pattern {
    std::string source;
    std::shared_ptr<const RE2> regex;
    /// True when the pattern matches somewhere in `text` (anchor with ^ and $ for a whole match).
    bool search(std::string_view text) const;
};

struct protect_rule {
    std::vector<std::string> refs;
    bool allow_force_push = false;
    bool allow_delete = false;
    bool linear_history = false;
    std::vector<std::string> push_allowed{"*"};
};

struct branch_policy {
    std::vector<std::string> refs{"refs/heads/*"};
    std::optional<pattern> name_pattern;
    std::optional<std::int64_t> max_behind;
    std::optional<std::int64_t> max_age_days;
    std::optional<std::int64_t> max_ahead;
};

struct tag_policy {
    std::optional<pattern> name_pattern;
    bool immutable = true;
};

struct policy {
    std::string source; ///< the file it was read from, as given
    policy_mode mode = policy_mode::enforce;
    std::string trunk_branch = "main";
    std::vector<protect_rule> protect;
    branch_policy branches;
    tag_policy tags;
    std::map<std::string, level, std::less<>> enforcement; ///< rule id -> level override
    std::vector<std::string> identity_env{"TRUNKGATE_USER", "GL_USER", "REMOTE_USER",
                                          "GITEA_PUSHER_NAME", "USER"};
    std::string contact;

    std::string trunk_ref() const { return "refs/heads/" + trunk_branch; }
    /// Every [[protect]] entry whose refs match `ref`.
    std::vector<const protect_rule*> protections_for(std::string_view ref) const;
    /// The level of rule `id`: the [enforcement] override, else `fallback`.
    level level_of(std::string_view id, level fallback) const;
};

/// Parses and validates policy text. `source` names it in errors. Throws policy_error with the
/// line and column of the first problem; unknown keys and invalid patterns are errors.
policy parse_policy(std::string_view text, const std::string& source);

/// Reads and parses the policy file at `path`. Throws policy_error.
policy load_policy(const std::string& path);

/// Where a policy comes from, in order: `explicit_path` (--policy or TRUNKGATE_POLICY), git config
/// `trunkgate.policy` of the repository (relative paths are relative to $GIT_DIR), then
/// `$GIT_DIR/trunkgate.toml`. Returns the first that is set; throws policy_error when none exists.
std::string locate_policy(const std::optional<std::string>& explicit_path,
                          const std::optional<std::string>& configured_path,
                          const std::string& git_dir);

} // namespace trunkgate
