#pragma once
// `trunkgate install` and `trunkgate uninstall`: the hook wrappers and a policy, put into bare
// repositories or into a hooks directory many repositories share, and taken out again.

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
/// `# trunkgate-managed hook`. Anything else is someone else's hook, which install chains and
/// uninstall leaves alone.
bool is_trunkgate_hook(std::string_view hook_text);

/// Installs into one repository and returns what it did, one line per action. Idempotent: a
/// second run reports "unchanged" and changes nothing. A pre-existing hook that is not ours is
/// kept as `<hook>.chained` and still runs; a symbolic link to a trunkgate wrapper (gitolite's
/// common hooks) is left as it is. Without `policy_file`, the default template is written only
/// when the repository would have no policy at all (no trunkgate.toml, no git config
/// trunkgate.policy, no server-wide policy). Throws input_error for a path that is not a
/// repository, a non-bare one without `force`, or a hook layout it cannot safely change;
/// policy_error for a policy that does not load; internal_error for file system failures and
/// libgit2_error, with libgit2's message, for a repository libgit2 cannot open.
std::vector<std::string> install_into(const std::string& repo_path, const install_options& options);

/// Writes the two wrappers into `hooks_dir` (created when missing; its parent must exist), for a
/// core.hooksPath or gitolite's common hooks: they serve whichever repository git runs them for.
/// No policy and no git config are written. Hooks already there are chained as install_into()
/// chains them. Throws input_error when `hooks_dir` is not a directory or a foreign hook and its
/// `.chained` both exist; internal_error for file system failures.
std::vector<std::string> install_into_hooks_dir(const std::string& hooks_dir,
                                                const install_options& options);

/// Takes trunkgate's wrappers out of a repository's hooks directory: a wrapper is removed, and
/// `<hook>.chained` renamed back to `<hook>` (the same file: bytes, mode, owner). A hook that is
/// not trunkgate's is never touched. trunkgate.toml, $GIT_DIR/trunkgate/ (audit log, spool) and
/// the git config stay. Idempotent. Returns one line per hook. Throws input_error for a path
/// that is not a repository, or one whose hooks are a core.hooksPath outside it (shared, maybe:
/// use uninstall_from_hooks_dir()); internal_error for file system failures.
std::vector<std::string> uninstall_from(const std::string& repo_path);

/// uninstall_from() for a shared hooks directory: every repository using it loses trunkgate.
/// Throws input_error when `hooks_dir` is not a directory; internal_error for file system
/// failures.
std::vector<std::string> uninstall_from_hooks_dir(const std::string& hooks_dir);

/// The templates directory next to the running program: <bin>/../share/trunkgate/templates.
std::string default_templates_dir(const std::string& program_dir);

} // namespace trunkgate
