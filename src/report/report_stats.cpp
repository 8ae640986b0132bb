// The report's arithmetic: nearest-rank percentiles, duration ranges and the DORA bands
// (docs/report.md, "What is counted" and "DORA bands").

#include <algorithm>

#include "trunkgate/report/report.hpp"

namespace trunkgate {

namespace {

constexpr std::int64_t hour_seconds = 3600;
constexpr std::int64_t day_seconds = 86400;
constexpr std::int64_t week_seconds = 7 * day_seconds;
constexpr std::int64_t month_seconds = 30 * day_seconds;

} // namespace

distribution make_distribution(std::vector<std::int64_t> values) {
    distribution result;
    result.count = static_cast<std::int64_t>(values.size());
    if (values.empty())
        return result;
    std::sort(values.begin(), values.end());
    const auto rank = [&](std::int64_t percent) {
        const auto nth = (percent * result.count + 99) / 100; // ceil(q * n)
        return values[static_cast<std::size_t>(std::max<std::int64_t>(nth, 1) - 1)];
    };
    result.median = rank(50);
    result.p90 = rank(90);
    result.p95 = rank(95);
    return result;
}

std::vector<range_count> duration_ranges(const std::vector<std::int64_t>& durations) {
    std::vector<range_count> ranges{
        {"< 1 hour", 0, hour_seconds, 0},
        {"1 hour to 1 day", hour_seconds, day_seconds, 0},
        {"1 day to 1 week", day_seconds, week_seconds, 0},
        {"1 week to 30 days", week_seconds, month_seconds, 0},
        {"30 to 180 days", month_seconds, 6 * month_seconds, 0},
        {"180 days or more", 6 * month_seconds, std::nullopt, 0},
    };
    for (const auto duration : durations)
        for (auto& range : ranges)
            if (duration >= range.low && (!range.high || duration < *range.high)) {
                ++range.count;
                break;
            }
    return ranges;
}

std::string deployment_frequency_band(double per_day) {
    if (per_day >= 1)
        return "elite";
    if (per_day * 7 >= 1)
        return "high";
    if (per_day * 30 >= 1)
        return "medium";
    return "low";
}

std::optional<std::string> lead_time_band(const std::optional<std::int64_t>& median_seconds) {
    if (!median_seconds)
        return std::nullopt;
    if (*median_seconds < day_seconds)
        return "elite";
    if (*median_seconds <= week_seconds)
        return "high";
    if (*median_seconds <= month_seconds)
        return "medium";
    return "low";
}

std::optional<std::string> change_failure_band(const std::optional<double>& rate) {
    if (!rate)
        return std::nullopt;
    if (*rate <= 0.05)
        return "elite";
    if (*rate <= 0.10)
        return "high";
    if (*rate <= 0.15)
        return "medium";
    return "low";
}

std::optional<std::string> time_to_restore_band(const std::optional<std::int64_t>& median_seconds) {
    if (!median_seconds)
        return std::nullopt;
    if (*median_seconds < hour_seconds)
        return "elite";
    if (*median_seconds < day_seconds)
        return "high";
    if (*median_seconds <= week_seconds)
        return "medium";
    return "low";
}

} // namespace trunkgate
