#pragma once
// What changed between two trees, compared as `git diff-tree -r` does.

#include <git2.h>

#include <functional>
#include <string>

namespace trunkgate {

/// How a path differs between two trees.
enum class tree_change { added, modified, removed };

/// Receives one changed path (never a tree): the new entry, or the old one for a removal.
using tree_change_visitor =
    std::function<void(tree_change change, const std::string& path, const git_tree_entry* entry)>;

/// Reports every non-tree path that differs between `old_tree` and `new_tree` (either may be null
/// for the empty tree), in tree order. Subtrees with equal ids are skipped unread, as
/// `git diff-tree -r` does. Throws libgit2_error.
void diff_trees(git_repository* repo, const git_tree* old_tree, const git_tree* new_tree,
                const tree_change_visitor& visit);

/// diff_trees() of a commit against its first parent (a root commit against the empty tree).
void diff_commit(git_repository* repo, const git_commit* commit, const tree_change_visitor& visit);

} // namespace trunkgate
