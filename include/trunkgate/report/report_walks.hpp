#pragma once
// The commits that reach a ref for the first time: a set of commits closed under "parent of",
// grown one move of the ref at a time, so each commit is walked once however often the ref moves
// (rollbacks and redeployments included).

#include <git2.h>

#include <cstdint>
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

  private:
    bool mark(std::uint32_t node);

    commit_nodes& nodes_;
    std::vector<bool> in_;
    std::vector<std::uint32_t> stack_; // scratch
};

} // namespace trunkgate
