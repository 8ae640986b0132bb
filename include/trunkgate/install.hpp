#pragma once
// `trunkgate install`: puts the hook wrappers and a policy into bare repositories.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trunkgate {

struct install_options {
    std::optional<std::string> policy_file; ///< installed as trunkgate.toml; default: the template
    bool force = false;                     ///< allow a non-bare repository
    std::string program_dir;                ///< where trunkgate-pre-receive lives
    std::string templates_dir;              ///< templates/ (hooks/, policy/)
    std::string server_policy; ///< the server-wide policy (server_policy_path()); "" for none
};

/// True when `hook_text` is a wrapper `trunkgate install` wrote: its second line starts with
/// `# trunkgate-managed hook`. Anything else is someone else's hook, which install chains.
bool is_trunkgate_hook(std::string_view hook_text);

/// Installs into one repository and returns what it did, one line per action. Idempotent: a
/// second run reports "unchanged" and changes nothing. A pre-existing hook that is not ours is
/// kept as `<hook>.chained` and still runs; a symbolic link to a trunkgate wrapper (gitolite's
/// common hooks) is left as it is. Without `policy_file`, the default template is written
/// only when the repository would have no policy at all (no trunkgate.toml, no git config
/// trunkgate.policy, no server-wide policy). Throws input_error for a path that is not a
/// repository, a non-bare one without `force`, or a hook layout it cannot safely change;
/// policy_error for a policy that does not load; internal_error for file system failures.
std::vector<std::string> install_into(const std::string& repo_path, const install_options& options);

/// The templates directory next to the running program: <bin>/../share/trunkgate/templates.
std::string default_templates_dir(const std::string& program_dir);

} // namespace trunkgate
