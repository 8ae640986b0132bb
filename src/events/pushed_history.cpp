#include "trunkgate/events/pushed_history.hpp"

#include <algorithm>

#include "trunkgate/history/new_commits.hpp"

namespace trunkgate {

pushed_history::pushed_history(git_repository* repo, const std::vector<git_oid>& pushed_tips,
                               const std::vector<git_oid>& old_tips) {
    hidden_commits hidden;
    hidden.commits = old_tips;
    auto found = new_commits(repo, pushed_tips, hidden);
    for (std::uint32_t order = 0; order < found.size(); ++order)
        new_commits_.emplace(found[order].id,
                             new_commit{order, std::move(found[order].parents), found[order].id});
}

std::vector<git_oid> pushed_history::reachable_new(const git_oid& tip) const {
    std::vector<const new_commit*> reached;
    std::vector<git_oid> pending{tip};
    oid_map<bool> seen{{tip, true}};
    while (!pending.empty()) {
        const auto id = pending.back();
        pending.pop_back();
        const auto known = new_commits_.find(id);
        if (known == new_commits_.end())
            continue;
        reached.push_back(&known->second);
        for (const auto& parent : known->second.parents)
            if (seen.emplace(parent, true).second)
                pending.push_back(parent);
    }
    // The push's order is children first, so any part of it is too.
    std::sort(reached.begin(), reached.end(),
              [](const new_commit* a, const new_commit* b) { return a->order < b->order; });
    std::vector<git_oid> ids;
    ids.reserve(reached.size());
    for (const auto* commit : reached)
        ids.push_back(commit->id);
    return ids;
}

std::vector<git_oid> pre_push_tips(git_repository* repo, const std::vector<ref_update>& updates) {
    hidden_commits before;
    before.existing_refs = true;
    for (const auto& update : updates)
        before.except.insert(update.ref);
    auto tips = existing_ref_commits(repo, before);
    for (const auto& update : updates)
        if (update.kind() != update_kind::create)
            if (const auto old_commit = commit_of(repo, update.old_hex))
                tips.push_back(*old_commit);
    return tips;
}

listed_commits ref_lister::list(const git_oid& tip, const std::optional<git_oid>& old_tip,
                                std::int64_t max_commits) const {
    std::vector<git_oid> newest_first;
    if (old_tip) {
        hidden_commits hidden;
        hidden.commits.push_back(*old_tip);
        for (auto& found : new_commits(repo_, {tip}, hidden))
            newest_first.push_back(found.id);
    } else
        newest_first = history_.reachable_new(tip);
    listed_commits listed;
    listed.total = static_cast<std::int64_t>(newest_first.size());
    if (listed.total > max_commits)
        newest_first.resize(static_cast<std::size_t>(std::max<std::int64_t>(max_commits, 0)));
    listed.newest_first = std::move(newest_first);
    return listed;
}

} // namespace trunkgate
