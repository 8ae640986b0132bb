#pragma once
// The audit log, $GIT_DIR/trunkgate/audit.log: one JSON line per decision the pre-receive hook
// takes, and one per push that landed, written by the post-receive hook with the refs that
// really moved (docs/gates.md, "The audit log").

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "trunkgate/gate/evaluate.hpp"
#include "trunkgate/history/ref_update.hpp"

namespace trunkgate {

/// The JSON line for one decision: {"kind": "decision", "time", "push": string or null,
/// "identity", "decision": "accept"|"reject"|"bypass", "refs": [{"ref", "old", "new"}],
/// "findings": [{"rule", "level", "ref", "commit", "message"}], "bypass_reason": string or null,
/// "policy"}. `push_id` is current_push_id(). No trailing newline.
std::string audit_line(std::int64_t time, const std::optional<std::string>& push_id,
                       const std::string& identity, const std::vector<ref_update>& updates,
                       const verdict& result);

/// The JSON line for the refs of a push that landed (the post-receive hook's update lines):
/// {"kind": "landed", "time", "push": string or null, "identity", "refs": [{"ref", "old",
/// "new"}]}, and "queue": [ids] when the merge queue moved them (`queue_entries`, the entries
/// it landed). No trailing newline.
std::string landed_line(std::int64_t time, const std::optional<std::string>& push_id,
                        const std::string& identity, const std::vector<ref_update>& updates,
                        const std::vector<std::string>& queue_entries = {});

/// Appends `line` and a newline to $GIT_DIR/trunkgate/audit.log under an exclusive lock, so
/// concurrent pushes never interleave. Record-atomic: when the write fails part-way (ENOSPC, EIO)
/// the file is cut back to its size before, and a torn last line left by a crash is ended first so
/// the new record stays whole. Throws internal_error (the caller rejects the push).
void append_audit(const std::string& git_dir, const std::string& line);

/// A line of the audit log that is not a record: its 1-based number and what is wrong with it.
struct damaged_audit_line {
    std::size_t line_number = 0;
    std::string problem;
};

/// What read_audit found: the records (exact lines), and the damaged lines it skipped.
struct audit_log {
    std::vector<std::string> records;
    std::vector<damaged_audit_line> damaged;
};

/// Calls `visit` with each record of the audit log in log order, its line and the line parsed
/// (JSON of the documented shape), and `damaged` with each line that is not one; never keeps more
/// than one line. Lines `skip` accepts are passed over unparsed and unchecked. A missing log has
/// no records; one that cannot be read throws internal_error.
void for_each_audit_record(
    const std::string& git_dir,
    const std::function<void(std::string& line, const nlohmann::json& record)>& visit,
    const std::function<void(const damaged_audit_line& line)>& damaged,
    const std::function<bool(std::string_view line)>& skip = nullptr);

/// The records of the audit log whose time is at or after `since` (Unix seconds; 0 = all), and
/// every damaged line, each skipped on its own: a damaged line never hides a neighbour. A missing
/// log is empty; one that cannot be read throws internal_error.
audit_log read_audit(const std::string& git_dir, std::int64_t since);

/// One entry of `trunkgate audit`: a decision with what landed of it, or a landed record that
/// no decision claims.
struct audit_entry {
    std::string record; ///< the line as the log holds it
    bool is_decision = true;
    /// For a decision: the refs the post-receive hook reported for its push, in log order; empty
    /// when none landed; nullopt when unknown (a record written before landed records existed).
    std::optional<std::vector<ref_update>> landed;
};

/// Pairs each landed record of `records` (read_audit's, oldest first) with its decision: the
/// latest earlier decision with the same push id, or, for records without a push id, the latest
/// earlier accept or bypass without a push id and not yet paired whose refs include every landed
/// line. Returns the decisions and the unpaired landed records whose time is at or after `since`,
/// in log order. Never throws for a record read_audit accepted.
std::vector<audit_entry> pair_landed(const std::vector<std::string>& records, std::int64_t since);

} // namespace trunkgate
