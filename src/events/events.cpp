#include "trunkgate/events/events.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <pwd.h>
#include <unistd.h>

#include "trunkgate/events/github_shape.hpp"
#include "trunkgate/events/pushed_history.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/history/history.hpp"
#include "trunkgate/history/tree_diff.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

using json = nlohmann::ordered_json;

namespace {

// How commits name people and their text: re-encoded from the commit's `encoding` header, and
// each email's login from [identity.users] as GitHub's `username`.
struct commit_reader {
    const policy& rules_policy;
    const repository_identity& repository;
    const identity_directory& identities;
};

json person(const git_signature* signature, const char* encoding,
            const identity_directory& identities) {
    if (!signature)
        return {{"name", ""}, {"email", nullptr}};
    const auto email = to_utf8(signature->email ? signature->email : "", encoding);
    json who = {{"name", to_utf8(signature->name ? signature->name : "", encoding)},
                {"email", email},
                {"date", iso8601(signature->when.time, signature->when.offset)}};
    if (const auto login = identities.login_for_email(email); !login.empty())
        who["username"] = login;
    return who;
}

// The message as GitHub shows it: UTF-8, without the trailing newline; at most `limit` bytes,
// cut where no UTF-8 sequence is split, and marked.
std::string shown_message(const git_commit* commit, std::int64_t limit) {
    const char* raw = git_commit_message_raw(commit);
    auto message = to_utf8(raw ? raw : "", git_commit_message_encoding(commit));
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r'))
        message.pop_back();
    if (static_cast<std::int64_t>(message.size()) <= limit)
        return message;
    auto cut = static_cast<std::size_t>(limit);
    // Back off over continuation bytes (10xxxxxx) to the start of the sequence that straddles.
    while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80)
        --cut;
    return message.substr(0, cut) + truncated_message_marker(message.size());
}

json commit_json(git_repository* repo, const commit_reader& reader, const git_oid& id,
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
    const auto* encoding = git_commit_message_encoding(commit->get());
    const auto hex = to_hex(id);
    return {{"id", hex},
            {"tree_id", to_hex(*git_commit_tree_id(commit->get()))},
            {"distinct", distinct},
            {"message", shown_message(commit->get(), reader.rules_policy.events.max_message_bytes)},
            {"timestamp", author ? iso8601(author->when.time, author->when.offset)
                                 : iso8601(git_commit_time(commit->get()), 0)},
            {"url", replace_all(reader.repository.commit_url, "{sha}", hex)},
            {"author", person(author, encoding, reader.identities)},
            {"committer", person(git_commit_committer(commit->get()), encoding, reader.identities)},
            {"added", std::move(added)},
            {"removed", std::move(removed)},
            {"modified", std::move(modified)}};
}

std::string dump(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

struct built_event {
    std::string body;
    std::int64_t total_commits = 0;
    std::int64_t listed_commits = 0;
    std::int64_t dropped_commits = 0;
    bool over_limit = false;
};

// The branch a tag was pushed at, for GitHub's base_ref: every branch tip, read once per push
// and only when a tag is pushed; the trunk wins when several branches point at the commit.
class branch_tips {
  public:
    branch_tips(git_repository* repo, const std::string& trunk_ref)
        : repo_(repo), trunk_ref_(trunk_ref) {}

    json base_ref_of(const git_oid& commit) {
        if (!loaded_)
            load();
        const auto found = tips_.find(commit);
        return found == tips_.end() ? json(nullptr) : json(found->second);
    }

  private:
    void load() {
        loaded_ = true;
        for_each_ref_commit(
            repo_, "refs/heads/*", [&](std::string_view ref, const git_oid& commit) {
                const std::string name(ref);
                auto [at, added] = tips_.emplace(commit, name);
                if (!added &&
                    (name == trunk_ref_ || (at->second != trunk_ref_ && name < at->second)))
                    at->second = name;
            });
    }

    git_repository* repo_;
    std::string trunk_ref_;
    bool loaded_ = false;
    oid_map<std::string> tips_;
};

// What one push holds for every ref's event.
struct push_scope {
    git_repository* repo;
    const commit_reader& reader;
    const pushed_history& history;
    const ref_lister& lister;
    /// `"repository":{…},"pusher":{…},"sender":{…}`, the same in every event of the push: made
    /// once, spliced into each body (10,000 refs would otherwise copy and write it 10,000 times).
    const std::string& repository_pusher_sender;
    branch_tips& tips;
    oid_map<bool>& announced; ///< commits already listed as distinct by an earlier ref
};

std::string short_sha(const std::string& hex) {
    return hex.substr(0, 12);
}

// The ref's name as GitHub's compare page takes it: refs/heads/ and refs/tags/ left out.
std::string short_ref(const std::string& ref) {
    for (const std::string_view prefix : {"refs/heads/", "refs/tags/"})
        if (ref.rfind(prefix, 0) == 0)
            return ref.substr(prefix.size());
    return ref;
}

// GitHub's `compare` forms: BEFORE...AFTER for an update, BEFORE...000000000000 for a delete;
// for a new ref the one commit it brings, FIRST^...AFTER for several, the ref's name for none.
// [repository] compare_url, when given, replaces them all.
std::string compare_of(const repository_identity& repository, const ref_update& update,
                       const std::vector<git_oid>& newest_first, std::int64_t listed_total) {
    if (!repository.compare_url.empty())
        return replace_all(replace_all(repository.compare_url, "{before}", update.old_hex),
                           "{after}", update.new_hex);
    const auto& html = repository.html_url;
    switch (update.kind()) {
    case update_kind::remove:
        return html + "/compare/" + short_sha(update.old_hex) + "..." + std::string(12, '0');
    case update_kind::create:
        if (listed_total == 0)
            return html + "/compare/" + percent_encode_path(short_ref(update.ref));
        if (listed_total == 1)
            return replace_all(repository.commit_url, "{sha}", update.new_hex);
        if (static_cast<std::int64_t>(newest_first.size()) == listed_total)
            return html + "/compare/" + short_sha(to_hex(newest_first.back())) + "^..." +
                   short_sha(update.new_hex);
        return html + "/compare/" + percent_encode_path(short_ref(update.ref));
    default:
        return html + "/compare/" + short_sha(update.old_hex) + "..." + short_sha(update.new_hex);
    }
}

// One JSON object of `head`'s keys, then the already serialized `middle` members, then `tail`'s.
std::string joined(const json& head, const std::string& middle, const json& tail) {
    auto text = dump(head);
    text.back() = ',';
    text += middle;
    text += ',';
    text.append(dump(tail), 1);
    return text;
}

built_event ref_event(push_scope& scope, const ref_update& update) {
    auto* repo = scope.repo;
    const auto& limits = scope.reader.rules_policy.events;
    const auto kind = update.kind();
    const auto new_commit = commit_of(repo, update.new_hex);
    const auto old_commit = commit_of(repo, update.old_hex);
    listed_commits listed;
    std::optional<git_oid> exclude;
    json head_commit = nullptr;
    json base_ref = nullptr;
    bool forced = false;
    if (kind != update_kind::remove && new_commit) {
        exclude = kind == update_kind::update ? old_commit : std::nullopt;
        listed = scope.lister.list(*new_commit, exclude, limits.max_commits);
        // The tip is the newest listed commit whenever it is listed at all.
        const bool tip_listed = !listed.newest_first.empty() &&
                                git_oid_equal(&listed.newest_first.front(), &*new_commit);
        const bool tip_distinct = tip_listed && (!exclude || scope.history.is_new(*new_commit)) &&
                                  scope.announced.count(*new_commit) == 0;
        head_commit = commit_json(repo, scope.reader, *new_commit, tip_distinct);
        // As the pre-receive hook sees it: an old value that is no commit was rewritten.
        forced = kind == update_kind::update &&
                 (!old_commit || !is_ancestor(repo, *old_commit, *new_commit));
        if (update.ref.rfind("refs/tags/", 0) == 0)
            base_ref = scope.tips.base_ref_of(*new_commit);
    }
    const json head = {{"ref", update.ref}, {"before", update.old_hex}, {"after", update.new_hex}};
    json tail = {
        {"created", kind == update_kind::create},
        {"deleted", kind == update_kind::remove},
        {"forced", forced},
        {"base_ref", std::move(base_ref)},
        {"compare", compare_of(scope.reader.repository, update, listed.newest_first, listed.total)},
        {"commits", json::array()},
        {"head_commit", head_commit}};
    built_event built;
    built.total_commits = listed.total;
    // The commits, newest first, while they fit in max_payload_bytes: the oldest are dropped
    // first (total_commits still counts them), and a dropped commit is never read or diffed.
    const auto base_size =
        static_cast<std::int64_t>(joined(head, scope.repository_pusher_sender, tail).size());
    std::int64_t used = base_size;
    std::vector<json> kept_newest_first;
    bool full = false;
    for (const auto& id : listed.newest_first) {
        const bool is_new = !exclude || scope.history.is_new(id);
        const bool distinct = is_new && scope.announced.emplace(id, true).second;
        if (full) {
            ++built.dropped_commits;
            continue;
        }
        auto commit = git_oid_equal(&id, &*new_commit)
                          ? head_commit
                          : commit_json(repo, scope.reader, id, distinct);
        commit["distinct"] = distinct;
        const auto size = static_cast<std::int64_t>(dump(commit).size()) +
                          (kept_newest_first.empty() ? 0 : 1); // the comma
        if (used + size > limits.max_payload_bytes) {
            full = true;
            ++built.dropped_commits;
            continue;
        }
        used += size;
        kept_newest_first.push_back(std::move(commit));
    }
    built.listed_commits = static_cast<std::int64_t>(kept_newest_first.size());
    auto& commits = tail["commits"];
    for (auto it = kept_newest_first.rbegin(); it != kept_newest_first.rend(); ++it)
        commits.push_back(std::move(*it));
    if (!commits.empty() && commits.back()["id"] == tail["head_commit"]["id"])
        tail["head_commit"] = commits.back();
    built.over_limit = used > limits.max_payload_bytes;
    built.body = joined(head, scope.repository_pusher_sender, tail);
    return built;
}

// The account the hook runs as, for a push no [identity] variable names.
std::string process_user() {
    struct passwd entry {};
    struct passwd* found = nullptr;
    std::vector<char> buffer(16384);
    if (getpwuid_r(geteuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found)
        return found->pw_name;
    return "uid-" + std::to_string(geteuid());
}

} // namespace

std::string truncated_message_marker(std::size_t full_size) {
    return "\n[trunkgate: message truncated, " + std::to_string(full_size) + " bytes in full]";
}

bool asks_ci_skip(const std::vector<std::string>& push_options) {
    return std::any_of(push_options.begin(), push_options.end(), [](const std::string& option) {
        return option == "ci.skip" || option == "ci.skip=true" || option == "ci.skip=1";
    });
}

std::string with_trunkgate_fields(const std::string& body, std::int64_t total_commits,
                                  const std::vector<std::string>& push_options) {
    if (body.empty() || body.back() != '}')
        throw internal_error("an event body is not a JSON object");
    const json extra = {{"total_commits", total_commits},
                        {"push_options", push_options},
                        {"ci_skip", asks_ci_skip(push_options)}};
    const auto fields = dump(extra);
    return body.substr(0, body.size() - 1) + "," + fields.substr(1);
}

void build_push_events(git_repository* repo, const policy& rules_policy,
                       const std::vector<ref_update>& updates, const event_context& context,
                       const std::function<void(push_event&&)>& sink) {
    std::vector<git_oid> pushed_tips;
    for (const auto& update : updates)
        if (update.kind() != update_kind::remove)
            if (const auto tip = commit_of(repo, update.new_hex))
                pushed_tips.push_back(*tip);
    const pushed_history history(repo, pushed_tips, pre_push_tips(repo, updates));
    const ref_lister lister(repo, history);
    const auto identity = describe_repository(rules_policy, context.git_dir);
    const identity_directory identities(rules_policy);
    const commit_reader reader{rules_policy, identity, identities};
    const auto login = context.pusher.empty() ? process_user() : context.pusher;
    const auto email = identities.email_for_login(login);
    const json people_and_place = {
        {"repository", repository_object(identity, context.pushed_at)},
        {"pusher", {{"name", login}, {"email", email.empty() ? json(nullptr) : json(email)}}},
        {"sender", user_object(identity, login)}};
    const auto members = dump(people_and_place);
    const auto repository_pusher_sender = members.substr(1, members.size() - 2);
    branch_tips tips(repo, rules_policy.trunk_ref());
    oid_map<bool> announced;
    push_scope scope{repo, reader, history, lister, repository_pusher_sender, tips, announced};
    for (const auto& update : updates) {
        auto built = ref_event(scope, update);
        sink({update.ref, std::move(built.body), built.total_commits, built.listed_commits,
              built.dropped_commits, built.over_limit, identity.id});
    }
}

} // namespace trunkgate
