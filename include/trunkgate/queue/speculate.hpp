#pragma once
// Speculative commits: the target's tip with a queued change put on it the way [[queue]] method
// says, written as objects only (no ref moves), so CI can test exactly what would land.

#include <git2.h>

#include <optional>
#include <string>
#include <vector>

#include "trunkgate/policy/policy.hpp"
#include "trunkgate/queue/tree_merge.hpp"

namespace trunkgate {

/// A change as the queue applies it.
struct queued_change {
    git_oid tip;         ///< the change's last commit, as pushed
    std::string label;   ///< for messages: "q-0042"
    std::string message; ///< for `merge`: the merge commit's message
};

/// What putting a change on a base gave.
struct speculation {
    std::optional<git_oid> commit;      ///< the speculative commit, when it could be made
    std::vector<std::string> conflicts; ///< paths that conflict (sorted, each once), if any
    std::string problem; ///< why no commit was made, for the pusher ("" when `commit` is set)
    std::vector<merge_route> merges; ///< how each tree merge was made, in order (diagnostics)
};

/// Puts `change` on `onto` with `method`, writing only objects:
/// - rebase: each commit reachable from `change.tip` and not from `onto`, oldest first, merges
///   skipped (as `git rebase` does), cherry-picked onto the running result, keeping author and
///   message; a commit that changes nothing any more is dropped. When every commit is dropped,
///   the result is `onto` itself.
/// - merge: `onto` when `change.tip` is already in it; `change.tip` when `onto` is an ancestor
///   of it (a fast-forward); else a merge commit with parents [onto, change.tip].
/// - fast_forward_only: `change.tip` when `onto` is an ancestor of it (or equal), else a
///   problem ("not a fast-forward of ...").
/// Conflicts give no commit: `conflicts` lists the paths and `problem` names the commit that
/// did not apply. `committer` signs every commit made. Throws libgit2_error when the repository
/// cannot be read or written.
speculation speculate(git_repository* repo, const git_oid& onto, const queued_change& change,
                      queue_method method, const git_signature* committer);

} // namespace trunkgate
