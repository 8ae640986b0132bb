#include "trunkgate/util/unix_time.hpp"

#include <cstdio>
#include <ctime>

namespace trunkgate {

std::string iso8601(std::int64_t time, int offset_minutes) {
    const std::time_t local = static_cast<std::time_t>(time + offset_minutes * 60LL);
    std::tm parts{};
    gmtime_r(&local, &parts);
    char text[64];
    const int offset = offset_minutes < 0 ? -offset_minutes : offset_minutes;
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
                  parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
                  parts.tm_min, parts.tm_sec, offset_minutes < 0 ? '-' : '+', offset / 60,
                  offset % 60);
    return text;
}

std::optional<std::string> unix_seconds_problem(std::int64_t seconds) {
    if (seconds < 0)
        return "a negative time (" + std::to_string(seconds) + ")";
    if (seconds > max_unix_seconds)
        return std::to_string(seconds) + " is later than year 9999" +
               (seconds / 1000 <= max_unix_seconds ? " (milliseconds?)" : "");
    return std::nullopt;
}

std::optional<std::string> future_time_problem(std::int64_t seconds, std::int64_t now) {
    if (seconds - now <= clock_skew_seconds)
        return std::nullopt;
    return "dated " + std::to_string(seconds - now) + " s in the future (clocks may differ by " +
           std::to_string(clock_skew_seconds) + " s)";
}

} // namespace trunkgate
