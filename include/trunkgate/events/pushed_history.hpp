#pragma once
// The commits a push brings, for its events: found once for the whole push, listed per ref.

#include <git2.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "trunkgate/history/git.hpp"
#include "trunkgate/history/ref_update.hpp"

namespace trunkgate {

/// The commits a push brings into the repository: reachable from a pushed tip and from no ref as
/// it was before the push (the refs it did not touch, and the old values of those it updated).
/// Computed once per push by history's new_commits (`git rev-list NEW... --not OLD...`), which
/// reads the commit-graph where the repository has one.
class pushed_history {
  public:
    /// Paints from `pushed_tips` and `old_tips` (pre_push_tips()); a tip that is no commit, or
    /// a commit missing from a shallow or broken history, ends the walk there. Throws
    /// libgit2_error when the object database cannot be opened.
    pushed_history(git_repository* repo, const std::vector<git_oid>& pushed_tips,
                   const std::vector<git_oid>& old_tips);

    /// Reachable from a pushed tip and from no ref before the push.
    bool is_new(const git_oid& id) const { return new_commits_.count(id) != 0; }
    std::size_t size() const { return new_commits_.size(); }
    /// The new commits `tip` reaches, children before parents (newest first where that leaves
    /// a choice).
    std::vector<git_oid> reachable_new(const git_oid& tip) const;

  private:
    struct new_commit {
        std::uint32_t order; ///< in the push's children-first order
        std::vector<git_oid> parents;
        git_oid id;
    };
    oid_map<new_commit> new_commits_;
};

/// Every ref as it was before the push, peeled to the commit it names, each read once: the refs
/// the push did not touch and the old values of those it updated or deleted. Throws
/// libgit2_error.
std::vector<git_oid> pre_push_tips(git_repository* repo, const std::vector<ref_update>& updates);

/// One ref's commits, as ref_lister::list() finds them.
struct listed_commits {
    std::vector<git_oid> newest_first; ///< at most max_commits
    std::int64_t total = 0;
};

/// Each ref's listing: for an update, the commits of the new tip not in the old one (history's
/// new_commits, which reads the commit-graph); for a new ref, the commits new to the repository
/// that it reaches, from the push's pushed_history. Children before parents. Borrows `repo` and
/// `history`, which must outlive it.
class ref_lister {
  public:
    ref_lister(git_repository* repo, const pushed_history& history)
        : repo_(repo), history_(history) {}

    /// The commits of `tip` not in `old_tip`, or with no old tip, those new to the repository.
    /// Throws libgit2_error.
    listed_commits list(const git_oid& tip, const std::optional<git_oid>& old_tip,
                        std::int64_t max_commits) const;

  private:
    git_repository* repo_;
    const pushed_history& history_;
};

} // namespace trunkgate
