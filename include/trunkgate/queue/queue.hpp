#pragma once
// The merge queue (docs/queue.md): changes enter it, each is tested as a speculative commit (the
// target's tip plus every change ahead plus itself), and the target moves only to a speculative
// commit whose required checks all passed.

#include <git2.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "trunkgate/history/ref_update.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/queue/store.hpp"
#include "trunkgate/util/http.hpp"

namespace trunkgate {

/// The branch CI builds for the batch `id` of the queue of `target` (a batch is named after its
/// last entry; a batch of one after its only entry): refs/heads/trunkgate/queue/<branch>/<id>.
std::string speculative_ref(const std::string& target, const std::string& id);

/// The hidden ref that keeps a queued change's commits in the repository while it waits:
/// refs/trunkgate/queue/<id>.
std::string change_ref(const std::string& id);

/// The status context the queue records on a change's own commit when it lands ("success") or
/// is ejected ("failure"), with the reason as its description.
inline const std::string queue_status_context = "trunkgate/queue";

/// What asks to enter a queue.
struct change_request {
    std::string target; ///< "refs/heads/main"; must have a [[queue]]
    std::string commit; ///< a revision that names a commit
    std::string topic;  ///< "" or a topic: the same pusher's active entry with it is replaced
    std::string pusher;
    bool priority = false; ///< asked for; granted only to [[queue]] priority identities
};

/// An entry made, and where it stands.
struct enqueued {
    queue_entry entry;
    std::size_t position = 0;     ///< 1 for the head of the queue
    std::string replaced;         ///< the id of the entry it replaced (same topic), if any
    bool priority_denied = false; ///< priority was asked by someone not allowed it
};

/// Puts a change in the queue of its target: keeps its commit alive under change_ref(), then
/// records the entry (durably). Throws input_error when the target has no [[queue]] or the
/// commit is no commit of the repository, libgit2_error and internal_error otherwise.
enqueued enqueue_change(git_repository* repo, const policy& rules_policy, queue_store& store,
                        const change_request& request, std::int64_t now);

/// Cancels an active entry: its speculative branch and change ref are deleted. `by` is who
/// asks; only its pusher or an identity in [bypass] identities may. Returns the ref updates made
/// (for push events). Throws input_error for an unknown id, an ended entry or a refusal.
std::vector<ref_update> cancel_change(git_repository* repo, const policy& rules_policy,
                                      queue_store& store, const std::string& id,
                                      const std::string& by, std::int64_t now);

/// What one run of the queue did.
struct queue_run_report {
    std::vector<std::string> lines;   ///< one per thing that happened, for people
    std::vector<ref_update> updates;  ///< refs the run created, moved or deleted (push events)
    std::vector<ref_update> landings; ///< of which target moves (audited)
    std::vector<std::string> landed;  ///< the ids of the entries those moves landed
    bool busy = false;                ///< another runner holds the queue; nothing was done
};

struct queue_run_options {
    std::int64_t now = 0;
    http_client* status_client = nullptr; ///< for [checks] source = "http"; null: libcurl
};

/// One pass over every [[queue]] of the policy, single-flight per repository (a second runner
/// returns at once with `busy`): recovers an interrupted landing, reads the required checks of
/// the speculative commits under test, lands the head batch when all passed (one
/// compare-and-swap of the target for all its entries), bisects a failed batch of several,
/// ejects a batch of one on failure or timeout (after `retries` fresh builds) and a change on
/// conflict, rebuilds what stood behind, builds batches of up to batch_size waiting entries
/// for up to max_parallel speculative builds, and deletes speculative branches no longer under
/// test. Safe to run at any time and to kill at any point. Throws libgit2_error and
/// internal_error.
queue_run_report run_queue(git_repository* repo, const policy& rules_policy, queue_store& store,
                           const queue_run_options& options);

} // namespace trunkgate
