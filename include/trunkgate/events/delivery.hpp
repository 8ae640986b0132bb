#pragma once
// Getting spooled events to the pipeline backend: at least once, signed, with backoff.

#include <cstdint>
#include <string>
#include <vector>

#include "trunkgate/events/events.hpp"
#include "trunkgate/events/spool.hpp"
#include "trunkgate/history/ref_update.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/http.hpp"
#include "trunkgate/util/identity.hpp"

namespace trunkgate {

/// The User-Agent of an endpoint without `user_agent`: "GitHub-Hookshot/trunkgate-VERSION",
/// which receivers that recognise GitHub by its User-Agent (fourkeys) accept.
std::string default_user_agent();

/// The spool directory of a repository: [events] spool_dir, relative to $GIT_DIR unless absolute.
std::string spool_dir_for(const policy& rules_policy, const std::string& git_dir);

/// What queueing one push's events did.
struct queue_result {
    std::vector<spool_entry> queued;  ///< now in queue/, in queue order; bodies left out
    std::size_t expected = 0;         ///< deliveries built (one per event and matching endpoint)
    std::vector<std::string> notices; ///< events trimmed to the [events] limits, one line each
    std::string problem;              ///< why not all were queued; empty when all were
};

/// Builds each ref's event and stages one delivery per matching endpoint as soon as it is built
/// (memory holds one event at a time), then publishes the push into queue/ (staged_push):
/// all or none. A failure while building or staging (a libgit2 error, ENOSPC, EACCES) removes
/// what was staged and leaves `queued` empty; a failure part-way through publishing leaves
/// exactly the published ones in `queued`, and the rest staged for `trunkgate deliver`. Either
/// way `problem` says why. Throws internal_error only when the staging area cannot be created.
queue_result queue_push_events(const spool& queue, git_repository* repo, const policy& rules_policy,
                               const std::vector<ref_update>& updates, const event_context& context,
                               std::int64_t now);

/// Records that a push's events could not be queued, so the loss is never silent: one line to
/// the system log (system_log(), LOG_ERR) and, when it still takes a line, to the spool's
/// events.log. Names the repository, the number of refs and `problem`; never an endpoint URL or
/// secret. Never throws.
void record_unqueued(const std::string& spool_dir, const std::string& git_dir,
                     std::size_t ref_count, const std::string& problem);

struct delivery_options {
    std::int64_t now = 0;
    std::int64_t max_age_hours = 72;   ///< undelivered longer than this: moved to dead/
    std::size_t delivered_kept = 1000; ///< delivered/ keeps the most recent ones
    std::vector<std::string> only_ids; ///< when not empty, deliver just these
    bool ignore_schedule = false;      ///< attempt even before next_try (inline delivery)
};

/// What one delivery run did, with one line per attempt for people.
struct delivery_report {
    int delivered = 0;
    int retrying = 0;   ///< failed now, tried again later
    int failed = 0;     ///< permanent 4xx: kept until `trunkgate events redeliver`
    int dead = 0;       ///< older than max_age_hours: moved to dead/
    int busy = 0;       ///< another process is delivering it right now
    int unreadable = 0; ///< in queue/ but impossible to read, parse or lock: left as it is
    std::vector<std::string> lines;
};

/// Sends every due queued entry. Each is locked while it is sent, so concurrent runs never send
/// the same entry at the same time; the outcome is written back before the lock is released.
/// An entry that cannot be read, parsed or locked is counted in `unreadable`, gets a line here
/// and in events.log, and is left where it is; the others are still sent, in queue order.
delivery_report deliver_due(const spool& queue, http_client& client, const env_lookup& env,
                            const delivery_options& options);

/// Seconds to wait before attempt number `attempts` + 1: 15 s doubling to at most an hour, with
/// +-25 % jitter from `jitter` in [0, 1).
std::int64_t backoff_seconds(std::int64_t attempts, double jitter);

} // namespace trunkgate
