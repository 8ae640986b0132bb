// The report's arithmetic: UTC days and weeks, nearest-rank percentiles, duration ranges and the
// DORA bands (docs/report.md, "What is counted" and "DORA bands").

#include <algorithm>

#include "trunkgate/report/report.hpp"

namespace trunkgate {

namespace {

constexpr std::int64_t hour_seconds = 3600;
constexpr std::int64_t week_seconds = 7 * day_seconds;
constexpr std::int64_t month_seconds = 30 * day_seconds;

std::int64_t floor_div(std::int64_t value, std::int64_t by) {
    return value / by - (value % by < 0 ? 1 : 0);
}

// 1970-01-01 was a Thursday, three days after a Monday.
std::int64_t utc_week_start(std::int64_t time) {
    const auto day = floor_div(time, day_seconds);
    return (day - ((day % 7 + 7 + 3) % 7)) * day_seconds;
}

// One entry per day (or week) of the period, oldest first, with the count of `times` in it.
std::vector<period_count> count_by(const std::vector<std::int64_t>& times,
                                   const report_period& period,
                                   std::int64_t (*start_of)(std::int64_t), std::int64_t step) {
    std::vector<period_count> counts;
    if (period.until <= period.since)
        return counts;
    for (auto start = start_of(period.since); start <= start_of(period.until - 1); start += step)
        counts.push_back({start, 0});
    for (const auto time : times) {
        const auto index = (start_of(time) - counts.front().start) / step;
        if (index >= 0 && index < static_cast<std::int64_t>(counts.size()))
            ++counts[static_cast<std::size_t>(index)].count;
    }
    return counts;
}

} // namespace

std::int64_t utc_day_start(std::int64_t time) {
    return floor_div(time, day_seconds) * day_seconds;
}

std::vector<period_count> counts_per_day(const std::vector<std::int64_t>& times,
                                         const report_period& period) {
    return count_by(times, period, utc_day_start, day_seconds);
}

std::vector<period_count> counts_per_week(const std::vector<std::int64_t>& times,
                                          const report_period& period) {
    return count_by(times, period, utc_week_start, week_seconds);
}

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
