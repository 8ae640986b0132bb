#pragma once
// `git rev-list TIPS --not HIDDEN`: the commits a push brings. One paint, as git's limit_list,
// ordered by generation where the commit-graph has the commits (exact, and it stops as soon as no
// commit in the queue can be new) and by committer date where it does not.

#include <git2.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

namespace trunkgate {

/// What hides a commit: these commits, and with `existing_refs`, the commit of every ref in the
/// repository whose name (as the server names it) matches `only` (every ref when empty). In a
/// developer's clone (`developer_clone`) the existing refs are the remote-tracking refs, named as
/// the server's refs/heads/..., and tags. Refs named in `except` are left out.
struct hidden_commits {
    std::vector<git_oid> commits;
    bool existing_refs = false;
    bool developer_clone = false;
    std::vector<std::string> only;
    std::set<std::string, std::less<>> except;
};

/// One commit found by new_commits, with its parents.
struct found_commit {
    git_oid id;
    std::vector<git_oid> parents;
};

/// The commits reachable from `tips` and from nothing in `hidden`, children before their parents
/// (newest first where that leaves a choice). A tip or parent that is missing or no commit ends
/// the walk there. Reads the commit-graph when there is one (see with_commit_graph). Throws
/// libgit2_error.
std::vector<found_commit> new_commits(git_repository* repo, const std::vector<git_oid>& tips,
                                      const hidden_commits& hidden);

/// The commit every ref `wanted` names points to, peeled through annotated tags; refs to trees
/// or blobs, and symbolic refs, give nothing. Throws libgit2_error.
std::vector<git_oid> existing_ref_commits(git_repository* repo, const hidden_commits& which);

} // namespace trunkgate
