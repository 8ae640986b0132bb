#include "trunkgate/events/pushed_history.hpp"

#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <string_view>

namespace trunkgate {

namespace {

struct odb_object_deleter {
    void operator()(git_odb_object* object) const noexcept { git_odb_object_free(object); }
};
using odb_object_ptr = std::unique_ptr<git_odb_object, odb_object_deleter>;

} // namespace

pushed_history::pushed_history(git_repository* repo, const std::vector<git_oid>& pushed_tips,
                               const std::vector<git_oid>& old_tips) {
    git_odb* raw = nullptr;
    check(git_repository_odb(&raw, repo), "open the object database");
    odb_.reset(raw);
    for (const auto& tip : old_tips)
        if (auto* node = find(tip))
            hide(*node);
    for (const auto& tip : pushed_tips)
        find(tip);
    paint();
    for (const auto& [id, node] : nodes_)
        if (node.processed && !node.hidden)
            new_commits_.emplace(id, true);
    nodes_.clear(); // only the answer is kept
}

// The node of commit `id`, read and queued on first sight; nullptr when it is no commit.
pushed_history::commit_node* pushed_history::find(const git_oid& id) {
    const auto known = nodes_.find(id);
    if (known != nodes_.end())
        return &known->second;
    git_odb_object* raw = nullptr;
    if (git_odb_read(&raw, odb_.get(), &id) != 0) {
        git_error_clear();
        return nullptr; // a shallow or broken history ends here, as libgit2's walk would
    }
    odb_object_ptr object(raw);
    if (git_odb_object_type(object.get()) != GIT_OBJECT_COMMIT)
        return nullptr;
    commit_node fresh;
    parse_header(static_cast<const char*>(git_odb_object_data(object.get())),
                 git_odb_object_size(object.get()), fresh);
    auto& added = nodes_.emplace(id, std::move(fresh)).first->second;
    added.queued = true;
    if (!added.hidden)
        ++new_in_queue_;
    queue_.emplace(added.time, id);
    return &added;
}

// Parents and committer time from a commit's header lines, as git's parse_commit_buffer.
void pushed_history::parse_header(const char* data, std::size_t size, commit_node& into) {
    std::string_view text(data, size);
    const auto header_end = text.find("\n\n");
    text = text.substr(0, header_end);
    std::size_t line_start = 0;
    while (line_start < text.size()) {
        auto line_end = text.find('\n', line_start);
        if (line_end == std::string_view::npos)
            line_end = text.size();
        const auto line = text.substr(line_start, line_end - line_start);
        git_oid parent;
        if (line.rfind("parent ", 0) == 0 && line.size() >= 7 + GIT_OID_HEXSZ &&
            git_oid_fromstrn(&parent, line.data() + 7, GIT_OID_HEXSZ) == 0)
            into.parents.push_back(parent);
        else if (line.rfind("committer ", 0) == 0) {
            const auto close = line.rfind('>');
            if (close != std::string_view::npos)
                into.time = std::strtoll(std::string(line.substr(close + 1)).c_str(), nullptr, 10);
        }
        line_start = line_end + 1;
    }
}

// Marks `start` and everything already known below it as reachable from an old tip.
void pushed_history::hide(commit_node& start) {
    std::vector<commit_node*> pending{&start};
    while (!pending.empty()) {
        commit_node* current = pending.back();
        pending.pop_back();
        if (current->hidden)
            continue;
        current->hidden = true;
        if (current->queued)
            --new_in_queue_;
        if (current->processed)
            for (const auto& parent : current->parents) {
                const auto known = nodes_.find(parent);
                if (known != nodes_.end())
                    pending.push_back(&known->second);
            }
    }
}

void pushed_history::paint() {
    const int slop = 5; // commits looked at after the last one that could be new, as git
    int left = slop;
    while (!queue_.empty()) {
        if (new_in_queue_ == 0 && left-- == 0)
            break;
        if (new_in_queue_ > 0)
            left = slop;
        const auto id = queue_.top().second;
        queue_.pop();
        auto& current = nodes_.at(id);
        current.queued = false;
        if (!current.hidden)
            --new_in_queue_;
        current.processed = true;
        const auto parents = current.parents; // find() may rehash nodes_
        const bool hidden = current.hidden;
        for (const auto& parent_id : parents) {
            commit_node* parent = find(parent_id);
            if (parent && hidden)
                hide(*parent);
        }
    }
}

std::vector<git_oid> pre_push_tips(git_repository* repo, const std::vector<ref_update>& updates) {
    std::set<std::string, std::less<>> updated;
    for (const auto& update : updates)
        updated.insert(update.ref);
    std::vector<git_oid> tips;
    for_each_ref_commit(repo, nullptr, [&](std::string_view name, const git_oid& commit) {
        if (updated.count(name) == 0)
            tips.push_back(commit);
    });
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
