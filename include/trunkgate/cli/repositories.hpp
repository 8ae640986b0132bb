#pragma once
// Acting on repositories from the command line: as their owner (docs/cli.md "Running as root"),
// one at a time or across a fleet (--all-under).

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "trunkgate/cli/command.hpp"
#include "trunkgate/util/ownership.hpp"

namespace trunkgate {

/// Who acts on a repository, decided before anything opens it or writes into it: root becomes
/// the repository's owner, so that libgit2's ownership check passes and no file it leaves behind
/// is root's; anyone else who is not the owner may only read.
struct owner_decision {
    std::string git_dir;               ///< "" when the path is no repository (opening says so)
    std::optional<system_user> become; ///< root: act as this user (its owner)
    std::string refusal;               ///< not empty: do not serve it; the line says why
};

/// For a command on the one repository at or above `path`: becomes its owner (root), or throws
/// usage_error saying why this user may not act on it (`writes`: the command writes into it).
void act_as_owner(const cli_io& streams, const std::string& path, bool writes);

/// For a command on several repositories (`paths`; `rerun(path)` is the command line that
/// serves one): root becomes their owner at once when they all have the same one; when they
/// belong to several users, each repository of another user than root keeps its `become`, to be
/// served by a child acting as that user. `search`: a path may be inside a repository.
std::vector<owner_decision>
decide_owners(const std::vector<std::string>& paths, bool search,
              const std::function<std::vector<std::string>(const std::string&)>& rerun);

/// Serves one repository of a multi-repository command with `serve`: refused (its line, exit
/// 2), here, or in a child acting as its owner, whose output is passed on. Returns the exit code.
int serve_as_owner(const cli_io& streams, const owner_decision& decision,
                   const std::function<int(const cli_io&)>& serve);

/// The repositories a fleet command acts on: those named, then the bare ones under each
/// --all-under DIR. A DIR that is not a directory is reported and raises `status` to 2.
std::vector<std::string> repositories_to_act_on(const cli_io& streams, const parsed_args& parsed,
                                                int& status);

/// The repositories of a command that takes --repo DIR... and --all-under DIR...: the named ones
/// (or "." when neither option is given), then the ones found below each DIR. A DIR that is not
/// a directory is reported and raises `status` to 2.
struct repository_list {
    std::vector<std::string> paths;
    std::size_t named = 0; ///< paths[0..named) were named; the rest were found

    bool found(std::size_t index) const { return index >= named; }
};
repository_list named_and_found_repositories(const cli_io& streams, const parsed_args& parsed,
                                             int& status);

/// Whether trunkgate was ever set up in the repository at `git_dir`: its policy or its state.
bool has_trunkgate(const std::string& git_dir);

/// Runs `act` on every repository as its owner, printing `REPO: what it did` per line, and goes
/// on after a repository that fails: one broken repository must not leave the rest of a fleet
/// half done. Returns the worst of `status` and each repository's exit code (2 for input
/// errors, 3 for anything else).
int act_on_repositories(const cli_io& streams, const std::vector<std::string>& repos, int status,
                        const std::function<std::vector<std::string>(const std::string&)>& rerun,
                        const std::function<std::vector<std::string>(const std::string&)>& act);

} // namespace trunkgate
