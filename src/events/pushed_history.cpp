#include "trunkgate/events/pushed_history.hpp"

#include "trunkgate/history/new_commits.hpp"

namespace trunkgate {

pushed_history::pushed_history(git_repository* repo, const std::vector<git_oid>& pushed_tips,
                               const std::vector<git_oid>& old_tips) {
    hidden_commits hidden;
    hidden.commits = old_tips;
    for (const auto& found : new_commits(repo, pushed_tips, hidden))
        new_commits_.emplace(found.id, true);
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
    listed_commits listed;
    if (!old_tip && !history_.is_new(tip))
        return listed;
    git_revwalk* raw = nullptr;
    check(git_revwalk_new(&raw, repo_), "start a history walk");
    revwalk_ptr walk(raw);
    check(git_revwalk_sorting(walk.get(), GIT_SORT_TOPOLOGICAL), "sort the walk");
    if (old_tip)
        check(git_revwalk_hide(walk.get(), &*old_tip), "hide the old tip");
    else
        check(git_revwalk_add_hide_cb(walk.get(), &ref_lister::is_old,
                                      const_cast<pushed_history*>(&history_)),
              "limit the walk to new commits");
    check(git_revwalk_push(walk.get(), &tip), "walk from the new tip");
    git_oid id;
    int rc;
    while ((rc = git_revwalk_next(&id, walk.get())) == 0) {
        if (listed.total++ < max_commits)
            listed.newest_first.push_back(id);
    }
    if (rc != GIT_ITEROVER)
        check(rc, "walk the pushed commits");
    return listed;
}

int ref_lister::is_old(const git_oid* id, void* payload) {
    return static_cast<const pushed_history*>(payload)->is_new(*id) ? 0 : 1;
}

} // namespace trunkgate
