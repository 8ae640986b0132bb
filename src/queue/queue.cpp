#include "trunkgate/queue/queue.hpp"

#include <algorithm>

#include "trunkgate/history/git.hpp"
#include "trunkgate/history/refs.hpp"
#include "trunkgate/policy/glob.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

namespace {

// The pusher's active entry for the same target and topic, which a new one replaces.
std::optional<queue_entry> same_topic(const queue_store& store, const change_request& request) {
    if (request.topic.empty())
        return std::nullopt;
    for (auto& entry : store.entries(request.target))
        if (is_active(entry.state) && entry.topic == request.topic &&
            entry.pusher == request.pusher)
            return entry;
    return std::nullopt;
}

std::size_t position_of(const queue_store& store, const queue_entry& entry) {
    std::size_t position = 0;
    for (const auto& listed : store.entries(entry.target)) {
        if (!is_active(listed.state))
            break;
        ++position;
        if (listed.id == entry.id)
            return position;
    }
    return position;
}

} // namespace

std::string speculative_ref(const std::string& target, const std::string& id) {
    return "refs/heads/trunkgate/queue/" + target.substr(std::string("refs/heads/").size()) + "/" +
           id;
}

std::string change_ref(const std::string& id) {
    return "refs/trunkgate/queue/" + id;
}

enqueued enqueue_change(git_repository* repo, const policy& rules_policy, queue_store& store,
                        const change_request& request, std::int64_t now) {
    const auto* rule = rules_policy.queue_for(request.target);
    if (!rule)
        throw input_error(printable(request.target) + " has no merge queue ([[queue]] target)");
    if (!glob_match_any(rule->allowed, request.pusher))
        throw input_error(
            (request.pusher.empty() ? std::string("an unidentified pusher")
                                    : "'" + printable(request.pusher) + "'") +
            " may not queue changes for " + printable(request.target) + " (allowed: " +
            (rule->allowed.empty() ? std::string("nobody") : join(rule->allowed, ", ")) +
            "; [[queue]] allowed)");
    const auto commit = resolve_commit(repo, request.commit);
    enqueued made;
    made.priority_denied = request.priority && !glob_match_any(rule->priority, request.pusher);
    queue_entry entry;
    entry.target = request.target;
    entry.topic = request.topic;
    entry.commit = to_hex(commit);
    entry.pusher = request.pusher;
    entry.priority = request.priority && !made.priority_denied;
    const auto previous = same_topic(store, request);
    made.entry = store.enqueue(entry, now);
    // The change ref is written after the entry: an entry whose ref is missing is ejected by the
    // runner with that reason, while a ref without an entry would be an orphan nobody removes.
    write_ref(repo, change_ref(made.entry.id), commit, "trunkgate queue: enqueue " + made.entry.id);
    if (previous) {
        cancel_change(repo, rules_policy, store, previous->id, request.pusher, now);
        made.replaced = previous->id;
    }
    made.position = position_of(store, made.entry);
    return made;
}

std::vector<ref_update> cancel_change(git_repository* repo, const policy& rules_policy,
                                      queue_store& store, const std::string& id,
                                      const std::string& by, std::int64_t now) {
    const auto entry = store.find(id);
    if (!entry)
        throw input_error("no queue entry " + printable(id));
    if (!is_active(entry->state))
        throw input_error(id + " is " + std::string(to_string(entry->state)) +
                          " already; only a waiting or testing entry can be cancelled");
    const bool admin = glob_match_any(rules_policy.bypass_identities, by);
    if (by != entry->pusher && !admin)
        throw input_error(id + " was queued by " + printable(entry->pusher) + "; only they or " +
                          "an identity of [bypass] identities may cancel it");
    if (entry->state == queue_state::landing)
        throw input_error(id + " is landing right now; it cannot be cancelled");
    if (!store.cancel(id, "cancelled by " + by, now))
        throw input_error(id + " changed state while it was being cancelled; look again");
    std::vector<ref_update> updates;
    // The branch of its batch: the other entries of the batch cannot land without it either,
    // and the next run rebuilds them.
    if (auto deleted = delete_ref(repo, speculative_ref(entry->target, batch_of(*entry))))
        updates.push_back(std::move(*deleted));
    delete_ref(repo, change_ref(id));
    return updates;
}

} // namespace trunkgate
