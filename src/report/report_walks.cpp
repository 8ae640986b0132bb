#include "trunkgate/report/report_walks.hpp"

#include <algorithm>

namespace trunkgate {

bool reach_set::mark(std::uint32_t node) {
    if (node >= in_.size())
        in_.resize(std::max<std::size_t>(node + 1, in_.size() * 2), false);
    if (in_[node])
        return false;
    in_[node] = true;
    ++size_;
    return true;
}

std::vector<std::uint32_t> reach_set::add(const git_oid& tip) {
    std::vector<std::uint32_t> added;
    stack_.clear();
    const auto first = nodes_.node_for(tip);
    if (mark(first))
        stack_.push_back(first);
    while (!stack_.empty()) {
        const auto node = stack_.back();
        stack_.pop_back();
        if (!nodes_.parse(node))
            continue; // missing, or no commit: the history ends here
        added.push_back(node);
        const auto* parents = nodes_.parents(node);
        for (std::uint32_t i = 0; i < nodes_[node].parent_count; ++i)
            if (mark(parents[i]))
                stack_.push_back(parents[i]);
    }
    return added;
}

trunk_ancestry::trunk_ancestry(commit_nodes& nodes, const git_oid& trunk)
    : nodes_(nodes), ancestors_(nodes) {
    // The first-parent chain, newest first; then each commit's ancestors, oldest first, so that
    // the set holds exactly the ancestors of the chain commit just added.
    std::vector<std::uint32_t> chain;
    for (auto node = nodes_.node_for(trunk); nodes_.parse(node);) {
        chain.push_back(node);
        if (nodes_[node].parent_count == 0)
            break;
        node = nodes_.parents(node)[0];
    }
    for (auto at = chain.rbegin(); at != chain.rend(); ++at) {
        ancestors_.add(nodes_[*at].id);
        chain_count_.emplace(*at, ancestors_.size());
    }
}

branch_against_trunk trunk_ancestry::measure(const git_oid& tip) {
    branch_against_trunk result;
    std::vector<std::uint32_t> stack{nodes_.node_for(tip)};
    std::vector<std::uint32_t> visited;
    std::vector<std::uint32_t> meets; // trunk commits the branch's own commits stand on
    std::size_t fork_ancestors = 0;   // of the newest chain commit among them
    bool off_chain = false;
    while (!stack.empty()) {
        const auto node = stack.back();
        stack.pop_back();
        if (node >= seen_.size())
            seen_.resize(std::max<std::size_t>(node + 1, seen_.size() * 2), false);
        if (seen_[node])
            continue;
        seen_[node] = true;
        visited.push_back(node);
        if (ancestors_.contains(node)) {
            meets.push_back(node);
            const auto on_chain = chain_count_.find(node);
            off_chain = off_chain || on_chain == chain_count_.end();
            if (on_chain != chain_count_.end())
                fork_ancestors = std::max(fork_ancestors, on_chain->second);
            continue;
        }
        if (!nodes_.parse(node))
            continue;
        ++result.ahead;
        const auto time = nodes_[node].time;
        result.oldest_time = std::min(result.oldest_time.value_or(time), time);
        const auto* parents = nodes_.parents(node);
        for (std::uint32_t i = 0; i < nodes_[node].parent_count; ++i)
            stack.push_back(parents[i]);
    }
    for (const auto node : visited)
        seen_[node] = false;
    if (off_chain)
        fork_ancestors = ancestors_of(meets);
    result.behind = static_cast<std::int64_t>(ancestors_.size() - fork_ancestors);
    return result;
}

std::size_t trunk_ancestry::ancestors_of(const std::vector<std::uint32_t>& commits) {
    reach_set reached(nodes_);
    for (const auto node : commits)
        reached.add(nodes_[node].id);
    return reached.size();
}

} // namespace trunkgate
