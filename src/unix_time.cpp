#include "trunkgate/unix_time.hpp"

namespace trunkgate {

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
