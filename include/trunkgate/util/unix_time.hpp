#pragma once
// Unix times read from notes and spool files: the range trunkgate accepts, and how far in the
// future a time may be (clock skew between the machines that write them).

#include <cstdint>
#include <optional>
#include <string>

namespace trunkgate {

/// How far in the future a recorded time may lie and still be taken as "now": the clocks of CI
/// runners, approvers' machines and the git server disagree by a little. Documented in
/// docs/gates.md ("Times in notes").
constexpr std::int64_t clock_skew_seconds = 300;

/// 9999-12-31T23:59:59Z, the largest Unix time in seconds trunkgate accepts. Today's time in
/// milliseconds (about 1.8e12) is far above it, so a millisecond timestamp is refused rather than
/// read as a date thousands of years away.
constexpr std::int64_t max_unix_seconds = 253402300799;

/// Why `seconds` is not a plausible Unix time in seconds (negative, or beyond year 9999, e.g.
/// milliseconds), or nullopt when it is. Needs no clock: a structural check for parsers.
std::optional<std::string> unix_seconds_problem(std::int64_t seconds);

/// Why `seconds` lies in the future at `now` by more than `clock_skew_seconds`, or nullopt.
/// `seconds` and `now` are expected in [0, max_unix_seconds] (no overflow then).
std::optional<std::string> future_time_problem(std::int64_t seconds, std::int64_t now);

/// A time as the command line gives it: Unix seconds, YYYY-MM-DD (midnight UTC; `date_only` is
/// then set) or YYYY-MM-DDTHH:MM:SS followed by nothing, Z or +00:00 (UTC). nullopt otherwise.
std::optional<std::int64_t> parse_time(const std::string& text, bool* date_only = nullptr);

/// The environment variable that sets trunkgate's clock: a test hook (docs/report.md).
constexpr const char* clock_override_variable = "TRUNKGATE_NOW";

/// Now, in Unix seconds: TRUNKGATE_NOW when it is set (parse_time's forms), else the system
/// clock. Every decision's "now" comes from here (the hooks, the queue's runner, statuses,
/// approvals, the report); only the event spool's retry timing reads the system clock itself.
/// Throws input_error when TRUNKGATE_NOW is set to something that is not a time.
std::int64_t current_time();

/// The UTC date of `time` (Unix seconds), YYYY-MM-DD.
std::string iso_date(std::int64_t time);

/// `time` (Unix seconds) at `offset_minutes` from UTC as ISO 8601, e.g. 2026-11-27T09:30:00+01:00.
std::string iso8601(std::int64_t time, int offset_minutes);

} // namespace trunkgate
