#include "trunkgate/report/report_walks.hpp"

#include <algorithm>

namespace trunkgate {

bool reach_set::mark(std::uint32_t node) {
    if (node >= in_.size())
        in_.resize(std::max<std::size_t>(node + 1, in_.size() * 2), false);
    if (in_[node])
        return false;
    in_[node] = true;
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

} // namespace trunkgate
