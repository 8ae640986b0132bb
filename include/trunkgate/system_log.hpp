#pragma once
// The server's own log: what a hook cannot tell anyone else (a decision that could not be
// audited, events that could not be queued) goes to syslog(3), so no loss is ever silent.

#include <string_view>

namespace trunkgate {

/// Sends `message` to syslog(3) as ident "trunkgate", facility LOG_USER, priority LOG_ERR, with
/// the process id. Control characters are escaped (printable()). Never throws; when no syslog
/// daemon listens the line is dropped by the C library, as for any program.
void system_log(std::string_view message) noexcept;

} // namespace trunkgate
