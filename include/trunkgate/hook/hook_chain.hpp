#pragma once
// The hooks chained after trunkgate's: what the hook wrappers pass (`--chain HOOK`,
// `--chain-repository`), and which files that names for the repository git runs the hook in.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trunkgate {

/// A hook program's command line (docs/cli.md "trunkgate-pre-receive").
struct hook_chain {
    std::optional<std::string> chained_hook; ///< --chain HOOK: a hook kept next to the wrapper
    bool repository_hook = false; ///< --chain-repository: also $GIT_DIR/hooks/<hook>.chained
};

/// Parses a hook program's arguments: none, `--chain HOOK` and `--chain-repository`, each at
/// most once, in any order. Throws input_error for anything else.
hook_chain parse_hook_arguments(const std::vector<std::string>& args);

/// The chained hooks to run, in order: `--chain`'s hook, then, with `--chain-repository`,
/// `<git_dir>hooks/<hook_name>.chained` (`git_dir` with its trailing slash; skipped when empty).
/// Only executable regular files are listed (after following symbolic links, as git does), and
/// each file once: gitolite links a common `.chained` hook into every repository, and a
/// repository's own hooks directory holds both. Never throws.
std::vector<std::string> chained_hooks(const hook_chain& chain, const std::string& git_dir,
                                       std::string_view hook_name);

} // namespace trunkgate
