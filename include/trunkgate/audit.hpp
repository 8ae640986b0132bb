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

/// Appends `line` to $GIT_DIR/trunkgate/audit.log under an exclusive lock, as one write, so
/// concurrent pushes never interleave. Throws internal_error.
void append_audit(const std::string& git_dir, const std::string& line);

/// The lines of the audit log whose time is at or after `since` (Unix seconds; 0 = all).
/// Lines that are not JSON are skipped.
std::vector<std::string> read_audit(const std::string& git_dir, std::int64_t since);

} // namespace trunkgate
