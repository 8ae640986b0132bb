// The report as a terminal summary.

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <vector>

#include "trunkgate/report/render.hpp"
#include "trunkgate/util/text.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

namespace {

// Pushers and live branches the summary names (the busiest, the most urgent first).
constexpr std::size_t listed_rows = 20;
// A name column is as wide as its longest name, up to this.
constexpr std::size_t widest_column = 40;

// The width of a column of `names` (in bytes: names are mostly ASCII).
std::size_t column_width(const std::vector<std::string>& names) {
    std::size_t width = 0;
    for (const auto& name : names)
        width = std::max(width, std::min(name.size(), widest_column));
    return width;
}

std::string padded(const std::string& text, std::size_t width) {
    return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}

std::string fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

std::string percent(double share) {
    return fixed(share * 100, share * 100 < 10 ? 1 : 0) + "%";
}

// "40 seconds", "45 minutes", "5.5 hours", "3.2 days": readable at every scale.
std::string duration_text(std::int64_t seconds) {
    if (seconds < 2 * 60)
        return count_noun(static_cast<std::uint64_t>(seconds), "second", "seconds");
    if (seconds < 2 * 3600)
        return count_noun(static_cast<std::uint64_t>(seconds / 60), "minute", "minutes");
    if (seconds < 2 * day_seconds)
        return fixed(static_cast<double>(seconds) / 3600, 1) + " hours";
    return fixed(static_cast<double>(seconds) / day_seconds, 1) + " days";
}

std::string optional_duration(const std::optional<std::int64_t>& seconds) {
    return seconds ? duration_text(*seconds) : "-";
}

std::string band_text(const std::optional<std::string>& band) {
    return "band: " + band.value_or("none");
}

void write_integration(std::ostream& out, const integration_figures& figures) {
    out << "Integration (" << figures.trunk_ref << ")\n"
        << "  landings: " << figures.landings << " (" << fixed(figures.per_day, 2) << " a day; "
        << fixed(figures.per_pusher_per_day, 2) << " per active pusher a day), " << figures.direct
        << " direct, " << figures.queued << " queued\n";
    if (figures.size.count > 0)
        out << "  size: median " << count_noun(*figures.size.median, "commit", "commits")
            << ", p90 " << *figures.size.p90 << "\n";
    out << "  active pushers: " << figures.active_pushers << ", on "
        << count_noun(figures.active_days, "day", "days") << " trunk moved\n";
    std::vector<std::string> names;
    for (const auto& pusher : figures.pushers)
        names.push_back(printable(pusher.identity));
    const auto width = column_width(names);
    const auto shown = std::min(figures.pushers.size(), listed_rows);
    for (std::size_t i = 0; i < shown; ++i) {
        const auto& pusher = figures.pushers[i];
        out << "    " << padded(names[i], width) << "  "
            << count_noun(pusher.landings, "landing", "landings") << " on "
            << count_noun(pusher.days_landed, "day", "days") << " ("
            << percent(pusher.share_of_days) << " of the days trunk moved)\n";
    }
    if (shown < figures.pushers.size())
        out << "    and " << figures.pushers.size() - shown
            << " more (--format json or html lists every one)\n";
}

void write_branches(std::ostream& out, const branch_figures& figures) {
    std::size_t over = 0;
    for (const auto& branch : figures.live)
        over += !branch.over_limits.empty();
    out << "Branches\n  " << figures.live.size() << " live, " << over << " over limits\n";
    std::vector<std::string> refs;
    for (const auto& branch : figures.live)
        refs.push_back(printable(branch.ref));
    const auto width = column_width(refs);
    const auto shown = std::min(figures.live.size(), listed_rows);
    for (std::size_t i = 0; i < shown; ++i) {
        const auto& branch = figures.live[i];
        out << "    " << padded(refs[i], width) << "  age " << duration_text(branch.age_seconds)
            << ", " << branch.behind << " behind, " << branch.ahead << " ahead";
        if (branch.last_push_time)
            out << ", last push " << iso_date(*branch.last_push_time) << " by "
                << printable(branch.last_pusher);
        if (!branch.over_limits.empty())
            out << "  OVER: " << join(branch.over_limits, ", ");
        out << "\n";
    }
    if (shown < figures.live.size())
        out << "    and " << figures.live.size() - shown
            << " more (--format json or html lists every one)\n";
    out << "  lifetimes of " << count_noun(figures.lifetime.count, "ended branch", "ended branches")
        << ": median " << optional_duration(figures.lifetime.median) << ", p90 "
        << optional_duration(figures.lifetime.p90) << "\n";
}

std::string failure_causes(const deploy_ref_figures& figures) {
    std::size_t rollback = 0, revert = 0, check = 0;
    for (const auto& made : figures.deployments)
        for (const auto& cause : made.failed_by) {
            rollback += cause == "rollback";
            revert += cause == "revert";
            check += cause == "check";
        }
    return "rollback " + std::to_string(rollback) + ", revert " + std::to_string(revert) +
           ", check " + std::to_string(check);
}

void write_deployments(std::ostream& out, const deploy_ref_figures& figures) {
    out << "Deployments of " << printable(figures.ref) << "\n"
        << "  deployment frequency: " << figures.deployments.size() << " ("
        << fixed(figures.per_day, 2) << " a day, " << fixed(figures.per_week, 2) << " a week)  "
        << band_text(figures.bands.deployment_frequency) << "\n"
        << "  lead time for changes: median " << optional_duration(figures.lead_time.median)
        << ", p90 " << optional_duration(figures.lead_time.p90) << " ("
        << count_noun(figures.lead_time.count, "commit", "commits") << ")  "
        << band_text(figures.bands.lead_time) << "\n"
        << "  change failure rate: "
        << (figures.change_failure_rate ? percent(*figures.change_failure_rate) : "-") << " ("
        << figures.failed << " of " << figures.deployments.size() << ": " << failure_causes(figures)
        << ")  " << band_text(figures.bands.change_failure_rate) << "\n"
        << "  time to restore: median " << optional_duration(figures.time_to_restore.median) << " ("
        << figures.unrestored << " unrestored)  " << band_text(figures.bands.time_to_restore)
        << "\n";
}

void write_trunk_health(std::ostream& out, const trunk_health_figures& figures) {
    out << "Trunk red time: " << duration_text(figures.red_seconds) << " of "
        << duration_text(figures.observed_seconds);
    if (figures.red_share)
        out << " (" << percent(*figures.red_share) << ")";
    out << ", " << count_noun(figures.red.size(), "red span", "red spans") << "; required: "
        << (figures.required_checks.empty() ? "none" : join(figures.required_checks, ", ")) << "\n";
}

void write_gate(std::ostream& out, const report& figures) {
    out << "Bypasses: " << figures.bypasses.size() << "\n";
    for (const auto& bypass : figures.bypasses)
        out << "  " << iso8601(bypass.time, 0) << "  " << printable(bypass.identity) << "  "
            << printable(join(bypass.refs, " ")) << "  \"" << printable(bypass.reason) << "\"\n";
    out << "Rejections: " << count_noun(figures.rejected_pushes, "push", "pushes") << "\n";
    std::vector<std::string> rules;
    for (const auto& rule : figures.rejections)
        rules.push_back(rule.rule);
    const auto width = column_width(rules);
    for (const auto& rule : figures.rejections)
        out << "  " << padded(rule.rule, width) << "  " << rule.pushes << "\n";
}

void write_queue(std::ostream& out, const queue_figures& figures) {
    out << "Queue: " << figures.landed << " landed, " << figures.ejected << " ejected, "
        << figures.cancelled << " cancelled; time to land p50 "
        << optional_duration(figures.time_to_land.median) << ", p95 "
        << optional_duration(figures.time_to_land.p95) << "; "
        << (figures.builds_per_landed ? fixed(*figures.builds_per_landed, 2) : "-")
        << " builds per landed change\n";
    for (const auto& reason : figures.ejections)
        out << "  ejected: " << reason.reason << "  " << reason.count << "\n";
}

} // namespace

std::string report_text(const report& figures) {
    std::ostringstream out;
    out << "trunkgate report: " << printable(figures.repository) << ", "
        << iso8601(figures.period.since, 0) << " to " << iso8601(figures.period.until, 0) << " ("
        << fixed(figures.period.days(), 1) << " days)\n\n";
    write_integration(out, figures.integration);
    out << "\n";
    write_branches(out, figures.branches);
    for (const auto& ref : figures.deployments) {
        out << "\n";
        write_deployments(out, ref);
    }
    if (figures.deployments.empty())
        out << "\nDeployments: none recorded (deploy refs: [report] deploy_refs, or refs with "
               "promote_from)\n";
    out << "\n";
    write_trunk_health(out, figures.trunk_health);
    write_gate(out, figures);
    if (figures.queue)
        write_queue(out, *figures.queue);
    out << "\nBands: " << dora_bands_source << "\n";
    if (!figures.notes.empty()) {
        out << "Notes:\n";
        for (const auto& note : figures.notes)
            out << "  " << printable(note) << "\n";
    }
    return out.str();
}

} // namespace trunkgate
