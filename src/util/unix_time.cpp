#include "trunkgate/util/unix_time.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "trunkgate/util/error.hpp"

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

std::string iso_date(std::int64_t time) {
    return iso8601(time, 0).substr(0, 10);
}

std::optional<std::int64_t> parse_time(const std::string& text, bool* date_only) {
    if (date_only)
        *date_only = false;
    if (!text.empty() && text.size() <= 12 &&
        text.find_first_not_of("0123456789") == std::string::npos)
        return std::stoll(text);
    std::tm parts{};
    const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &parts);
    if (!end) {
        parts = std::tm{};
        end = strptime(text.c_str(), "%Y-%m-%d", &parts);
        if (end && *end == '\0' && date_only)
            *date_only = true;
    }
    const std::string_view rest = end ? end : "";
    if (!end || !(rest.empty() || rest == "Z" || rest == "+00:00"))
        return std::nullopt;
    return static_cast<std::int64_t>(timegm(&parts));
}

std::int64_t current_time() {
    const char* text = std::getenv(clock_override_variable);
    if (!text)
        return static_cast<std::int64_t>(std::time(nullptr));
    const auto time = parse_time(text);
    if (!time)
        throw input_error(std::string(clock_override_variable) +
                          " is set but is not a time: it takes Unix seconds or "
                          "YYYY-MM-DDTHH:MM:SSZ (it is a test hook: docs/report.md)");
    return *time;
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
