#pragma once
// The system log (syslog(3), ident "trunkgate"): where a loss is recorded when nothing in the
// repository can be written any more: a decision that could not be audited, push events that
// could not be queued. So no loss is ever silent.

#include <functional>
#include <string>

namespace trunkgate {

/// Writes `line` to the system log at `priority` (LOG_ERR, LOG_WARNING ...) with ident
/// "trunkgate", facility LOG_USER and the process id; control characters are escaped
/// (printable()). Never throws; a system without a log daemon drops the line, as syslog(3) does.
void system_log(int priority, const std::string& line) noexcept;

/// For tests: routes every system_log() line to `sink` instead of syslog(3); an empty function
/// restores syslog(3).
void set_system_log_sink(std::function<void(int priority, const std::string& line)> sink);

} // namespace trunkgate
