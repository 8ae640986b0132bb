#include "trunkgate/events.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <set>

#include "trunkgate/commits.hpp"
#include "trunkgate/git.hpp"
#include "trunkgate/history.hpp"
#include "trunkgate/text.hpp"

namespace trunkgate {

using json = nlohmann::ordered_json;

std::string iso8601(std::int64_t time, int offset_minutes) {
    const std::time_t local = static_cast<std::time_t>(time + offset_minutes * 60LL);
    std::tm parts{};
    gmtime_r(&local, &parts);
    char text[64];
    const int offset = offset_minutes < 0 ? -offset_minutes : offset_minutes;
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
                  parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
                  parts.tm_min, parts.tm_sec, offset_minutes < 0 ? '-' : '+', offset / 60,
                  offset % 60);
    return text;
}

std::string repository_full_name(const policy& rules_policy, const std::string& git_dir) {
    if (!rules_policy.repository.full_name.empty())
        return rules_policy.repository.full_name;
    std::string dir = git_dir;
    while (!dir.empty() && dir.back() == '/')
        dir.pop_back();
    auto name = dir.substr(dir.find_last_of('/') + 1);
    if (name == ".git") { // a work tree's repository: name it after the work tree
        dir = dir.substr(0, dir.find_last_of('/'));
        name = dir.substr(dir.find_last_of('/') + 1);
    }
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".git") == 0)
        name.resize(name.size() - 4);
    return name;
}

namespace {

json url_or_null(const std::string& url_template, std::string_view placeholder,
                 const std::string& value) {
    if (url_template.empty())
        return nullptr;
    return replace_all(url_template, placeholder, value);
}

json person(const git_signature* signature) {
    if (!signature)
        return {{"name", nullptr}, {"email", nullptr}, {"date", nullptr}};
    return {{"name", signature->name ? signature->name : ""},
            {"email", signature->email ? signature->email : ""},
            {"date", iso8601(signature->when.time, signature->when.offset)}};
}

json commit_json(git_repository* repo, const policy& rules_policy, const git_oid& id,
                 bool distinct) {
    const auto commit = find_commit(repo, id);
    if (!commit)
        throw internal_error("commit " + to_hex(id) + " is missing");
    json added = json::array(), removed = json::array(), modified = json::array();
    diff_commit(repo, commit->get(),
                [&](tree_change change, const std::string& path, const git_tree_entry*) {
                    (change == tree_change::added     ? added
                     : change == tree_change::removed ? removed
                                                      : modified)
                        .push_back(path);
                });
    const auto* author = git_commit_author(commit->get());
    const char* message = git_commit_message_raw(commit->get());
    const auto hex = to_hex(id);
    return {{"id", hex},
            {"tree_id", to_hex(*git_commit_tree_id(commit->get()))},
            {"distinct", distinct},
            {"message", message ? message : ""},
            {"timestamp", author ? iso8601(author->when.time, author->when.offset) : ""},
            {"url", url_or_null(rules_policy.repository.commit_url, "{sha}", hex)},
            {"author", person(author)},
            {"committer", person(git_commit_committer(commit->get()))},
            {"added", std::move(added)},
            {"removed", std::move(removed)},
            {"modified", std::move(modified)}};
}

revwalk_ptr new_walk(git_repository* repo, const git_oid& tip) {
    git_revwalk* raw = nullptr;
    check(git_revwalk_new(&raw, repo), "start a history walk");
    revwalk_ptr walk(raw);
    check(git_revwalk_sorting(walk.get(), GIT_SORT_TOPOLOGICAL), "sort the walk");
    check(git_revwalk_push(walk.get(), &tip), "walk from the new tip");
    return walk;
}

// Refs as they were before the push: every ref the push did not touch, and the old values of
// the ones it updated (post-receive runs after git has moved them).
void hide_pre_push_refs(git_repository* repo, git_revwalk* walk,
                        const std::vector<ref_update>& updates) {
    std::set<std::string, std::less<>> updated;
    for (const auto& update : updates)
        updated.insert(update.ref);
    hide_refs(repo, walk, [&](std::string_view name) { return updated.count(name) == 0; });
    for (const auto& update : updates)
        if (update.kind() != update_kind::create)
            if (const auto old_commit = commit_of(repo, update.old_hex))
                check(git_revwalk_hide(walk, &*old_commit), "hide an old tip");
}

// The commits new to the repository from `tip`: reachable from it and from no ref before the push.
oid_map<bool> new_to_repository(git_repository* repo, const git_oid& tip,
                                const std::vector<ref_update>& updates) {
    auto walk = new_walk(repo, tip);
    hide_pre_push_refs(repo, walk.get(), updates);
    oid_map<bool> fresh;
    git_oid id;
    while (git_revwalk_next(&id, walk.get()) == 0)
        fresh.emplace(id, true);
    git_error_clear();
    return fresh;
}

struct listed_commits {
    std::vector<git_oid> newest_first; ///< at most max_commits
    std::int64_t total = 0;
};

listed_commits list_pushed(git_repository* repo, const git_oid& tip,
                           const std::optional<git_oid>& old_tip,
                           const std::vector<ref_update>& updates, std::int64_t max_commits) {
    auto walk = new_walk(repo, tip);
    if (old_tip)
        check(git_revwalk_hide(walk.get(), &*old_tip), "hide the old tip");
    else
        hide_pre_push_refs(repo, walk.get(), updates);
    listed_commits listed;
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

json ref_event(git_repository* repo, const policy& rules_policy, const ref_update& update,
               const std::vector<ref_update>& updates, const event_context& context,
               oid_map<bool>& announced) {
    const auto kind = update.kind();
    const auto new_commit = commit_of(repo, update.new_hex);
    const auto old_commit = commit_of(repo, update.old_hex);
    json commits = json::array();
    json head_commit = nullptr;
    std::int64_t total = 0;
    bool forced = false;
    if (kind != update_kind::remove && new_commit) {
        const auto exclude = kind == update_kind::update ? old_commit : std::nullopt;
        const auto listed =
            list_pushed(repo, *new_commit, exclude, updates, rules_policy.events.max_commits);
        total = listed.total;
        // A new ref lists exactly the commits new to the repository: one walk answers both.
        const auto fresh =
            exclude ? new_to_repository(repo, *new_commit, updates) : oid_map<bool>{};
        for (auto it = listed.newest_first.rbegin(); it != listed.newest_first.rend(); ++it) {
            const bool is_new = !exclude || fresh.count(*it);
            const bool distinct = is_new && announced.emplace(*it, true).second;
            commits.push_back(commit_json(repo, rules_policy, *it, distinct));
        }
        head_commit = commits.empty() || commits.back()["id"] != to_hex(*new_commit)
                          ? commit_json(repo, rules_policy, *new_commit, false)
                          : commits.back();
        // As the pre-receive hook sees it: an old value that is no commit was rewritten.
        forced = kind == update_kind::update &&
                 (!old_commit || !is_ancestor(repo, *old_commit, *new_commit));
    }
    const auto full_name = repository_full_name(rules_policy, context.git_dir);
    const json pusher = context.pusher.empty() ? json(nullptr) : json(context.pusher);
    json options = json::array();
    bool ci_skip = false;
    for (const auto& option : context.push_options) {
        options.push_back(option);
        ci_skip =
            ci_skip || option == "ci.skip" || option == "ci.skip=true" || option == "ci.skip=1";
    }
    return {{"ref", update.ref},
            {"before", update.old_hex},
            {"after", update.new_hex},
            {"created", kind == update_kind::create},
            {"deleted", kind == update_kind::remove},
            {"forced", forced},
            {"base_ref", nullptr},
            {"compare", rules_policy.repository.compare_url.empty()
                            ? json(nullptr)
                            : json(replace_all(replace_all(rules_policy.repository.compare_url,
                                                           "{before}", update.old_hex),
                                               "{after}", update.new_hex))},
            {"commits", std::move(commits)},
            {"head_commit", std::move(head_commit)},
            {"total_commits", total},
            {"pusher", {{"name", pusher}, {"email", nullptr}}},
            {"sender", {{"login", pusher}}},
            {"repository",
             {{"name", full_name.substr(full_name.find_last_of('/') + 1)},
              {"full_name", full_name},
              {"default_branch", rules_policy.trunk_branch},
              {"url", rules_policy.repository.url.empty() ? json(nullptr)
                                                          : json(rules_policy.repository.url)}}},
            {"push_options", std::move(options)},
            {"ci_skip", ci_skip}};
}

} // namespace

std::vector<push_event> build_push_events(git_repository* repo, const policy& rules_policy,
                                          const std::vector<ref_update>& updates,
                                          const event_context& context) {
    std::vector<push_event> events;
    oid_map<bool> announced;
    for (const auto& update : updates) {
        const auto body = ref_event(repo, rules_policy, update, updates, context, announced);
        events.push_back({update.ref, body.dump(-1, ' ', false, json::error_handler_t::replace)});
    }
    return events;
}

} // namespace trunkgate
