#pragma once
// The commits a push adds to the repository, each read once with what it changes.

#include <git2.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trunkgate/gate/push.hpp"
#include "trunkgate/history/tree_diff.hpp"

namespace trunkgate {

/// A path a commit adds or modifies (deletions are only counted).
struct changed_entry {
    std::string path;    ///< full path in the tree, as stored (bytes, not escaped)
    git_oid id;          ///< the new object
    git_filemode_t mode; ///< the new mode: blob, executable, link or commit (submodule)
    std::optional<std::int64_t> size; ///< blob size, when sizes were asked for
};

/// One new commit, as the commit rules see it. Valid only during the visit.
struct commit_facts {
    git_oid id;
    std::string ref;          ///< the first updated ref (in push order) that adds it
    std::string_view message; ///< raw message, possibly not UTF-8
    std::string_view subject; ///< first line of the message
    std::string_view author_email;
    std::string_view committer_email;
    std::int64_t changed_paths = 0;     ///< paths added, modified or deleted vs. the first parent
    std::vector<changed_entry> entries; ///< non-tree paths added or modified
};

/// Which commits to read, and how much of each.
struct commit_walk_options {
    std::vector<std::string> refs{"refs/heads/*"}; ///< updated refs whose new commits are read
    bool diffs = true;                             ///< compute changed paths
    bool sizes = false;                            ///< read blob sizes (object headers only)
};

/// Visits, oldest first, every commit reachable from the new tip of an updated ref matching
/// `options.refs` and from no ref matching `options.refs` that existed before the push (see
/// hide_existing_refs): a commit that arrived through another ref is judged when it first
/// reaches a covered one. Each
/// commit is visited once even when several refs add it. Throws libgit2_error.
void for_each_new_commit(git_repository* repo, const push_view& push,
                         const commit_walk_options& options,
                         const std::function<void(const commit_facts&)>& visit);

} // namespace trunkgate
