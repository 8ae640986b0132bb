#pragma once
// Getting spooled events to the pipeline backend: at least once, signed, with backoff.

#include <cstdint>
#include <string>
#include <vector>

#include "trunkgate/events.hpp"
#include "trunkgate/http.hpp"
#include "trunkgate/identity.hpp"
#include "trunkgate/policy.hpp"
#include "trunkgate/spool.hpp"

namespace trunkgate {

/// The spool directory of a repository: [events] spool_dir, relative to $GIT_DIR unless absolute.
std::string spool_dir_for(const policy& rules_policy, const std::string& git_dir);

/// Durably queues one delivery per event and endpoint whose refs match; returns them.
std::vector<spool_entry> enqueue_events(const spool& queue, const events_policy& events,
                                        const std::vector<push_event>& pushed, std::int64_t now);

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
    int retrying = 0; ///< failed now, tried again later
    int failed = 0;   ///< permanent 4xx: kept until `trunkgate events redeliver`
    int dead = 0;     ///< older than max_age_hours: moved to dead/
    int busy = 0;     ///< another process is delivering it right now
    std::vector<std::string> lines;
};

/// Sends every due queued entry. Each is locked while it is sent, so concurrent runs never send
/// the same entry at the same time; the outcome is written back before the lock is released.
delivery_report deliver_due(const spool& queue, http_client& client, const env_lookup& env,
                            const delivery_options& options);

/// Seconds to wait before attempt number `attempts` + 1: 15 s doubling to at most an hour, with
/// +-25 % jitter from `jitter` in [0, 1).
std::int64_t backoff_seconds(std::int64_t attempts, double jitter);

} // namespace trunkgate
