#pragma once
// The repositories under a directory: what `--all-under DIR` acts on.

#include <string>
#include <vector>

namespace trunkgate {

/// The bare repositories at or below `root`, in sorted order, each as `root/relative/path`. A
/// directory is a repository when it holds HEAD, objects/ and refs/ (the test git itself makes).
/// The search never follows a symbolic link below `root` (so it stays inside it), never
/// descends into a repository or into a work tree (a directory with a `.git`), skips what it
/// cannot read, and looks at most `max_depth` levels down. Throws input_error when `root` is not
/// a directory.
std::vector<std::string> find_bare_repositories(const std::string& root, int max_depth = 8);

/// find_bare_repositories(), and also the `.git` directory of each work tree found (what
/// `deliver` and `doctor` serve: a work tree's repository can have trunkgate too). Throws
/// input_error when `root` is not a directory.
std::vector<std::string> find_repositories_under(const std::string& root, int max_depth = 8,
                                                 bool work_trees = true);

} // namespace trunkgate
