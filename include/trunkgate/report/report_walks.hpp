#pragma once
// The commits that reach a ref for the first time: a set of commits closed under "parent of",
// grown one move of the ref at a time, so each commit is walked once however often the ref moves
// (rollbacks and redeployments included).

#include <git2.h>

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "trunkgate/history/commit_nodes.hpp"

namespace trunkgate {

class reach_set {
  public:
    /// `nodes` is shared by every set of one report and must outlive it.
    explicit reach_set(commit_nodes& nodes) : nodes_(nodes) {}

    /// Adds `tip` and every ancestor; returns the node indexes that were not in the set yet,
    /// children before parents. A missing commit ends the walk there. Throws
    /// commit_graph_doubt (with_commit_graph retries without the graph), libgit2_error.
    std::vector<std::uint32_t> add(const git_oid& tip);
    /// Whether `node` is in the set.
    bool contains(std::uint32_t node) const { return node < in_.size() && in_[node]; }
    /// How many commits the set holds.
    std::size_t size() const { return size_; }

  private:
    bool mark(std::uint32_t node);

    commit_nodes& nodes_;
    std::vector<bool> in_;
    std::size_t size_ = 0;
    std::vector<std::uint32_t> stack_; // scratch
};

/// A branch against trunk, as the gate's branch rules measure it (history/history.hpp's
/// measure_branch), exact whatever the commit dates.
struct branch_against_trunk {
    std::int64_t behind = 0;
    std::int64_t ahead = 0;
    std::optional<std::int64_t> oldest_time; ///< committer time of its oldest commit not on trunk
};

/// Every ancestor of trunk's tip, and for each commit of its first-parent chain how many
/// ancestors it has: one walk of trunk's history. Then behind = ancestors of trunk - ancestors
/// of the trunk commits a branch stands on, which for a branch forked from the first-parent
/// chain is a lookup: the branch costs only its own commits. Set arithmetic, so exact whatever
/// the commit dates, with or without a commit-graph.
class trunk_ancestry {
  public:
    /// Walks every ancestor of `trunk`. Throws as reach_set::add.
    trunk_ancestry(commit_nodes& nodes, const git_oid& trunk);

    /// `tip` measured against trunk. Throws as reach_set::add.
    branch_against_trunk measure(const git_oid& tip);

  private:
    /// How many commits `commits` and their ancestors are (a walk of its own).
    std::size_t ancestors_of(const std::vector<std::uint32_t>& commits);

    commit_nodes& nodes_;
    reach_set ancestors_;
    std::unordered_map<std::uint32_t, std::size_t> chain_count_; ///< chain commit -> ancestors
    std::vector<bool> seen_;                                     // scratch, by node
};

} // namespace trunkgate
