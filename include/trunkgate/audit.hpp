#pragma once
// The audit log: one JSON line per decision the pre-receive hook takes, in
// $GIT_DIR/trunkgate/audit.log.

#include <cstdint>
#include <string>
#include <vector>

#include "trunkgate/evaluate.hpp"
#include "trunkgate/ref_update.hpp"

namespace trunkgate {

/// The JSON line for one decision: {"time", "identity", "decision": "accept"|"reject"|"bypass",
/// "refs": [{"ref", "old", "new"}], "findings": [{"rule", "level", "ref", "commit", "message"}],
/// "bypass_reason": string or null, "policy"}. No trailing newline.
std::string audit_line(std::int64_t time, const std::string& identity,
                       const std::vector<ref_update>& updates, const verdict& result);

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

/// The records of the audit log whose time is at or after `since` (Unix seconds; 0 = all), and
/// every damaged line, each skipped on its own: a damaged line never hides a neighbour. A missing
/// log is empty; one that cannot be read throws internal_error.
audit_log read_audit(const std::string& git_dir, std::int64_t since);

} // namespace trunkgate
