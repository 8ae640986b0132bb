#pragma once
// The commits a push brings, for its events: found once for the whole push, listed per ref.

#include <git2.h>

#include <cstdint>
#include <optional>
#include <queue>
#include <utility>
#include <vector>

#include "trunkgate/history/git.hpp"
#include "trunkgate/history/ref_update.hpp"

namespace trunkgate {

/// The commits a push brings into the repository: reachable from a pushed tip and from no ref as
/// it was before the push (the refs it did not touch, and the old values of those it updated).
/// Computed once per push with one date-ordered paint over every tip, as git's limit_list does
/// for `git rev-list NEW... --not OLD...`: hidden-ness flows from the old tips down to their
/// ancestors, and the paint stops a few commits after no commit in the queue can be new any more.
/// Like git without a commit-graph, it trusts committer dates to grow along history.
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

  private:
    struct commit_node {
        std::int64_t time = 0;
        std::vector<git_oid> parents;
        bool hidden = false;
        bool queued = false;
        bool processed = false; ///< its parents have nodes and were queued
    };

    // Newest committer time first; ties in no particular order.
    struct by_time {
        bool operator()(const std::pair<std::int64_t, git_oid>& a,
                        const std::pair<std::int64_t, git_oid>& b) const {
            return a.first < b.first;
        }
    };

    commit_node* find(const git_oid& id);
    static void parse_header(const char* data, std::size_t size, commit_node& into);
    void hide(commit_node& start);
    void paint();

    odb_ptr odb_;
    oid_map<commit_node> nodes_;
    std::priority_queue<std::pair<std::int64_t, git_oid>,
                        std::vector<std::pair<std::int64_t, git_oid>>, by_time>
        queue_;
    std::size_t new_in_queue_ = 0;
    oid_map<bool> new_commits_;
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

/// Each ref's listing: a libgit2 walk in topological order (the order events have always listed),
/// stopped by a hide callback at every commit the push did not bring. A fresh walk per ref: a
/// reused one would reset every commit it ever parsed on each use, 10,000 refs × 10,000 commits.
/// Borrows `repo` and `history`, which must outlive it.
class ref_lister {
  public:
    ref_lister(git_repository* repo, const pushed_history& history)
        : repo_(repo), history_(history) {}

    /// The commits of `tip` not in `old_tip`, or with no old tip, those new to the repository:
    /// the walk stops at every commit some ref had before the push. Throws libgit2_error.
    listed_commits list(const git_oid& tip, const std::optional<git_oid>& old_tip,
                        std::int64_t max_commits) const;

  private:
    static int is_old(const git_oid* id, void* payload);

    git_repository* repo_;
    const pushed_history& history_;
};

} // namespace trunkgate
