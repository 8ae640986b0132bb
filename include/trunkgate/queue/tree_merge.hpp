#pragma once
// Three-way merges of trees whose cost follows what changed: a subtree that two sides agree on
// is taken whole and never read (as git's merge-ort does), and what libgit2 would decide
// differently from such a walk (possible renames, merge drivers) is left to libgit2.

#include <git2.h>

#include <optional>
#include <string>
#include <vector>

namespace trunkgate {

/// Which merge made a result.
enum class merge_route {
    tree_walk, ///< merge_trees()'s own walk: only subtrees that differ on all three sides read
    libgit2,   ///< libgit2's git_merge_trees (or git_merge_commits), every entry read
};

/// What merging two trees against their ancestor gave.
struct tree_merge_result {
    std::optional<git_oid> tree;        ///< the merged tree, written, when the merge is clean
    std::vector<std::string> conflicts; ///< otherwise the conflicting paths, sorted, each once
    merge_route route = merge_route::tree_walk;
};

/// libgit2's default merge options (rename detection on), from git_merge_options_init.
git_merge_options default_merge_options();

/// Merges `ours` and `theirs` against `ancestor` (nullptr for the empty tree) with the result
/// libgit2's git_merge_trees gives with default_merge_options(): the same tree, or the same
/// conflicting paths. Merged blobs and trees are written to `repo`; nothing else changes.
/// Per entry: the side that changed wins, a subtree changed on both sides is merged entry by
/// entry, a file changed on both sides is merged with git_merge_file. libgit2 does the whole
/// merge (`route` says so) when a side both deletes and adds paths (libgit2 may see a rename
/// there), when a file merge needs a merge driver other than the built-in text one, and for a
/// directory/file conflict it may report differently. Throws libgit2_error.
tree_merge_result merge_trees(git_repository* repo, const git_tree* ancestor, const git_tree* ours,
                              const git_tree* theirs);

/// The outcome libgit2 left in a merged `index` (git_merge_trees, git_merge_commits,
/// git_cherrypick_commit): its conflicting paths, or else its tree, written to `repo`. `route` is
/// libgit2. Throws libgit2_error.
tree_merge_result read_merged_index(git_repository* repo, git_index* index);

} // namespace trunkgate
