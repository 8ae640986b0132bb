#pragma once
// `trunkgate install`: puts the hook wrappers and a policy into bare repositories.

#include <optional>
#include <string>
#include <vector>

namespace trunkgate {

struct install_options {
    std::optional<std::string> policy_file; ///< installed as trunkgate.toml; default: the template
    bool force = false;                     ///< allow a non-bare repository
    std::string program_dir;                ///< where trunkgate-pre-receive lives
    std::string templates_dir;              ///< templates/ (hooks/, policy/)
};

/// Installs into one repository and returns what it did, one line per action. Idempotent: a
/// second run reports "unchanged" and changes nothing. A pre-existing hook that is not ours is
/// kept as `<hook>.chained` and still runs. Throws input_error for a path that is not a
/// repository, a non-bare one without `force`, or a hook layout it cannot safely change;
/// policy_error for a policy that does not load; internal_error for file system failures and
/// libgit2_error, with libgit2's message, for a repository libgit2 cannot open.
std::vector<std::string> install_into(const std::string& repo_path, const install_options& options);

/// The templates directory next to the running program: <bin>/../share/trunkgate/templates.
std::string default_templates_dir(const std::string& program_dir);

} // namespace trunkgate
