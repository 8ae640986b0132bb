#pragma once
// One spool entry, one delivery: its fields, the JSON of its file, and the ids that name it.

#include <cstdint>
#include <string>
#include <vector>

namespace trunkgate {

struct spool_entry {
    std::string id; ///< delivery id (UUID v4): X-GitHub-Delivery, the same on every retry
    std::string ref;
    std::string url;        ///< endpoint URL, never with credentials (redact before showing)
    std::string secret_env; ///< names where the secret comes from; never the secret itself
    std::string secret_file;
    std::string auth_env; ///< names where Basic auth "user:password" comes from; never the value
    std::string auth_file;
    std::string ca_file;
    std::int64_t timeout_ms = 5000;
    std::vector<std::string> headers; ///< "Name: value" lines fixed at queue time (User-Agent, ...)
    std::string body;                 ///< the exact bytes to send
    std::int64_t created_at = 0;
    std::int64_t order = 0; ///< queue order: events of one push go out in push order
    std::int64_t next_try = 0;
    std::int64_t attempts = 0;
    std::string state = "queued"; ///< queued | failed (a permanent 4xx; waits for redelivery)
    std::string last_error;
    long last_status = 0; ///< HTTP status of the last attempt, 0 when none came back
    std::int64_t delivered_at = 0;
};

/// A fresh random UUID (version 4). Throws internal_error when no randomness is available.
std::string new_uuid();

/// Serialises an entry as JSON.
std::string entry_json(const spool_entry& entry);
/// Parses what entry_json wrote, checking every field at time `now` (Unix seconds): strings where
/// strings belong, integers (never decimal numbers) in range, times in Unix seconds (not
/// negative, not milliseconds, created_at and delivered_at at most clock_skew_seconds ahead of
/// `now`, next_try at most a day ahead). Throws input_error naming the field, never a nlohmann
/// exception; the ranges are in docs/events.md.
spool_entry parse_entry(const std::string& text, std::int64_t now);

/// True when `id` can name a delivery or a staged push in the spool's file names: 1 to 64
/// characters, each 0-9, a-f or '-'.
bool valid_id(const std::string& id);

/// True when the file name `name` is an entry's: it ends in ".json" and does not start with '.'.
bool is_entry_file(const std::string& name);

} // namespace trunkgate
