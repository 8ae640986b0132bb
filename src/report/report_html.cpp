// The report as one self-contained HTML page (docs/report.md, "The HTML page"): inline styles,
// inline SVG charts, no script, nothing fetched. Every string from the figures is user-controlled
// (identities, ref names, bypass reasons), so each one passes through text() on its way out.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "trunkgate/report/render.hpp"
#include "trunkgate/util/text.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

namespace {

// The charts' bar colours, documented in docs/report.md: the Chromium test counts these pixels,
// so nothing else on the page uses them.
constexpr const char* landings_colour = "#2b6cb0";
constexpr const char* lead_time_colour = "#d97706";
constexpr const char* branch_age_colour = "#7b3fa0";
constexpr const char* limit_colour = "#c53030";

// ---- text ------------------------------------------------------------------------------------

// HTML-escaped, after printable(): well-formed UTF-8 without controls or bidi overrides, so a
// ref name cannot reorder the line it is shown in either.
std::string text(std::string_view raw) {
    std::string out;
    for (char c : printable(raw)) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::string format(const char* pattern, double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, pattern, value);
    return buffer;
}

std::string number(double value) {
    return format("%.2f", value);
}
std::string coordinate(double value) {
    return format("%.1f", value);
}
std::string percent(double share) {
    return format("%.1f %%", share * 100);
}

std::string time_text(std::int64_t time) {
    auto iso = iso8601(time, 0);
    return iso.substr(0, 10) + " " + iso.substr(11, 5) + " UTC";
}

std::string duration(std::int64_t seconds) {
    const auto plural = [](std::int64_t n, const char* unit) {
        return std::to_string(n) + " " + unit;
    };
    if (seconds < 60)
        return plural(seconds, "s");
    if (seconds < 3600)
        return plural(seconds / 60, "min");
    // The smaller unit only when it is not 0: "20 h", "3 h 20 min", "2 d 4 h".
    const auto minutes = seconds / 60 % 60, hours = seconds / 3600 % 24;
    if (seconds < day_seconds)
        return plural(seconds / 3600, "h") + (minutes ? " " + plural(minutes, "min") : "");
    return plural(seconds / day_seconds, "d") + (hours ? " " + plural(hours, "h") : "");
}

std::string optional_duration(const std::optional<std::int64_t>& seconds) {
    return seconds ? duration(*seconds) : "–";
}

std::string short_id(const std::string& hex) {
    return hex.substr(0, 10);
}

std::string branch_name(const std::string& ref) {
    const std::string_view prefix = "refs/heads/";
    return ref.compare(0, prefix.size(), prefix) == 0 ? ref.substr(prefix.size()) : ref;
}

// ---- tables ----------------------------------------------------------------------------------

// A table cell: its text (escaped when written) and an optional class.
struct cell {
    std::string value;
    std::string css_class;
    cell(std::string v, std::string c = "") : value(std::move(v)), css_class(std::move(c)) {}
    cell(const char* v) : value(v) {}
};

void table_open(std::string& out, const std::vector<std::string>& headers) {
    out += "<table>\n<thead><tr>";
    for (const auto& header : headers)
        out += "<th>" + text(header) + "</th>";
    out += "</tr></thead>\n<tbody>\n";
}

void table_row(std::string& out, const std::vector<cell>& cells,
               const std::string& row_class = "") {
    out += row_class.empty() ? "<tr>" : "<tr class=\"" + row_class + "\">";
    for (const auto& c : cells) {
        out += c.css_class.empty() ? "<td>" : "<td class=\"" + c.css_class + "\">";
        out += text(c.value) + "</td>";
    }
    out += "</tr>\n";
}

void table_close(std::string& out) {
    out += "</tbody>\n</table>\n";
}

void paragraph(std::string& out, const std::string& raw, const char* css_class = "") {
    out += *css_class ? std::string("<p class=\"") + css_class + "\">" : "<p>";
    out += text(raw) + "</p>\n";
}

cell band_cell(const std::optional<std::string>& band) {
    if (!band)
        return cell("–", "band");
    return cell(*band, "band band-" + text(*band));
}

void distribution_rows(std::string& out, const std::string& name, const distribution& values,
                       bool seconds) {
    const auto show = [&](const std::optional<std::int64_t>& v) -> std::string {
        if (!v)
            return "–";
        return seconds ? duration(*v) : std::to_string(*v);
    };
    table_row(out, {name + ": count", std::to_string(values.count)});
    table_row(out, {name + ": median", show(values.median)});
    table_row(out, {name + ": p90", show(values.p90)});
    table_row(out, {name + ": p95", show(values.p95)});
}

// ---- SVG charts ------------------------------------------------------------------------------

// The plotting area inside a chart, in SVG user units (the viewBox is the chart's width).
struct plot_area {
    double left = 0;
    double top = 0;
    double width = 0;
    double height = 0;
    double bottom() const { return top + height; }
    double right() const { return left + width; }
};

// The smallest of 1, 2, 5 × 10^k that is at least `value` (and at least 1): an axis maximum a
// reader can divide in their head.
double nice_maximum(double value) {
    if (value <= 1)
        return 1;
    const double magnitude = std::pow(10, std::floor(std::log10(value)));
    for (double step : {1.0, 2.0, 5.0, 10.0})
        if (step * magnitude >= value)
            return step * magnitude;
    return 10 * magnitude;
}

void svg_open(std::string& out, const char* id, double width, double height,
              const std::string& label) {
    out += "<figure>\n<svg id=\"" + std::string(id) +
           "\" class=\"chart\" role=\"img\" viewBox=\"0 0 " + coordinate(width) + " " +
           coordinate(height) + "\" width=\"" + coordinate(width) + "\" height=\"" +
           coordinate(height) + "\" aria-label=\"" + text(label) + "\">\n<title>" + text(label) +
           "</title>\n";
}

void svg_close(std::string& out, const std::string& caption) {
    out += "</svg>\n<figcaption>" + text(caption) + "</figcaption>\n</figure>\n";
}

void svg_text(std::string& out, double x, double y, const std::string& raw,
              const char* anchor = "start", const char* css_class = "label") {
    out += "<text class=\"" + std::string(css_class) + "\" x=\"" + coordinate(x) + "\" y=\"" +
           coordinate(y) + "\" text-anchor=\"" + anchor + "\">" + text(raw) + "</text>\n";
}

void svg_line(std::string& out, double x1, double y1, double x2, double y2, const char* css_class) {
    out += "<line class=\"" + std::string(css_class) + "\" x1=\"" + coordinate(x1) + "\" y1=\"" +
           coordinate(y1) + "\" x2=\"" + coordinate(x2) + "\" y2=\"" + coordinate(y2) + "\"/>\n";
}

// One bar with its value as a tooltip. A bar of height or width 0 is still written, so the
// markup holds one bar per value and a reader's tooltip finds it.
void svg_bar(std::string& out, double x, double y, double width, double height, const char* fill,
             const std::string& tooltip) {
    out += "<rect class=\"bar\" x=\"" + coordinate(x) + "\" y=\"" + coordinate(y) + "\" width=\"" +
           coordinate(width) + "\" height=\"" + coordinate(height) + "\" fill=\"" + fill +
           "\"><title>" + text(tooltip) + "</title></rect>\n";
}

void svg_empty(std::string& out, const plot_area& area, const std::string& message) {
    svg_text(out, area.left + area.width / 2, area.top + area.height / 2, message, "middle",
             "empty");
}

// A vertical value axis: the baseline, a tick and label at 0, half and the maximum (no half
// when the maximum is 1: counts have no halves).
void value_axis(std::string& out, const plot_area& area, double maximum) {
    for (double share : {0.0, 0.5, 1.0}) {
        if (share == 0.5 && maximum < 2)
            continue;
        const double y = area.bottom() - share * area.height;
        svg_line(out, area.left, y, area.right(), y, share == 0 ? "axis" : "grid");
        const double value = share * maximum;
        svg_text(out, area.left - 6, y + 4,
                 value == std::floor(value) ? std::to_string(std::llround(value)) : number(value),
                 "end");
    }
}

// A horizontal value axis (for horizontal bars): ticks at 0, half and the maximum, in days.
void day_axis(std::string& out, const plot_area& area, double maximum) {
    for (double share : {0.0, 0.5, 1.0}) {
        const double x = area.left + share * area.width;
        svg_line(out, x, area.top, x, area.bottom(), share == 0 ? "axis" : "grid");
        const double value = share * maximum;
        svg_text(
            out, x, area.bottom() + 16,
            (value == std::floor(value) ? std::to_string(std::llround(value)) : number(value)) +
                " d",
            "middle");
    }
}

// Vertical bars, one per value, evenly over the area; thin ones (many days) touch.
void vertical_bars(std::string& out, const plot_area& area, const std::vector<std::int64_t>& values,
                   const std::vector<std::string>& tooltips, double maximum, const char* fill) {
    const double step = area.width / static_cast<double>(values.size());
    const double gap = step >= 6 ? step * 0.2 : 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
        const double height = area.height * static_cast<double>(values[i]) / maximum;
        svg_bar(out, area.left + step * static_cast<double>(i) + gap / 2, area.bottom() - height,
                step - gap, height, fill, tooltips[i]);
    }
}

constexpr double chart_width = 1000;

// (a) Landings per day: one bar per day of the period.
void landings_chart(std::string& out, const integration_figures& integration) {
    const auto& days = integration.days;
    const plot_area area{50, 20, chart_width - 70, 200};
    svg_open(out, "chart-landings", chart_width, area.bottom() + 40, "Landings on trunk per day");
    std::int64_t most = 0;
    std::vector<std::int64_t> values;
    std::vector<std::string> tooltips;
    for (const auto& day : days) {
        most = std::max(most, day.count);
        values.push_back(day.count);
        tooltips.push_back(
            iso_date(day.start) + ": " +
            count_noun(static_cast<std::uint64_t>(day.count), "landing", "landings"));
    }
    const double maximum = nice_maximum(static_cast<double>(most));
    value_axis(out, area, maximum);
    if (!values.empty())
        vertical_bars(out, area, values, tooltips, maximum, landings_colour);
    if (most == 0)
        svg_empty(out, area, "no landings in this period");
    if (!days.empty()) {
        svg_text(out, area.left, area.bottom() + 18, iso_date(days.front().start), "start");
        svg_text(out, area.right(), area.bottom() + 18, iso_date(days.back().start), "end");
    }
    svg_close(out, "Landings on " + integration.trunk_ref + " per UTC day (" +
                       std::to_string(days.size()) + " days).");
}

// (b) Lead time: per deploy ref a histogram over its ranges, the panels one under the other.
void lead_time_panel(std::string& out, const deploy_ref_figures& ref, double top) {
    const plot_area area{50, top + 24, chart_width - 70, 120};
    svg_text(out, area.left, top + 14, ref.ref, "start", "panel");
    std::int64_t most = 0;
    std::vector<std::int64_t> values;
    std::vector<std::string> tooltips;
    for (const auto& range : ref.lead_time_ranges) {
        most = std::max(most, range.count);
        values.push_back(range.count);
        tooltips.push_back(
            range.label + ": " +
            count_noun(static_cast<std::uint64_t>(range.count), "commit", "commits"));
    }
    const double maximum = nice_maximum(static_cast<double>(most));
    value_axis(out, area, maximum);
    if (!values.empty())
        vertical_bars(out, area, values, tooltips, maximum, lead_time_colour);
    const double step = values.empty() ? 0 : area.width / static_cast<double>(values.size());
    for (std::size_t i = 0; i < ref.lead_time_ranges.size(); ++i)
        svg_text(out, area.left + step * (static_cast<double>(i) + 0.5), area.bottom() + 16,
                 ref.lead_time_ranges[i].label, "middle");
    if (most == 0)
        svg_empty(out, area, "no deployed commits in this period");
}

void lead_time_chart(std::string& out, const std::vector<deploy_ref_figures>& deployments) {
    constexpr double panel_height = 175;
    const double height =
        std::max<double>(1, static_cast<double>(deployments.size())) * panel_height;
    svg_open(out, "chart-lead-time", chart_width, height, "Lead time for changes, per deploy ref");
    for (std::size_t i = 0; i < deployments.size(); ++i)
        lead_time_panel(out, deployments[i], static_cast<double>(i) * panel_height);
    if (deployments.empty())
        svg_empty(out, {50, 0, chart_width - 70, height}, "no deployments recorded");
    svg_close(out, "Commits by lead time (author time to first deployment), per deploy ref.");
}

// (c) Branch ages: one horizontal bar per live branch, the max_age_days limit as a line.
constexpr double branch_row = 16;

// A branch's name for its row's label: without refs/heads/, at most 34 bytes, cut between UTF-8
// characters (the tooltip has the whole ref).
std::string branch_label(const std::string& ref) {
    auto name = branch_name(ref);
    if (name.size() <= 34)
        return name;
    std::size_t cut = 33;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80)
        --cut;
    return name.substr(0, cut) + "…";
}

void branch_age_row(std::string& out, const plot_area& area, const live_branch& branch,
                    std::size_t index, double maximum) {
    const double days = static_cast<double>(branch.age_seconds) / day_seconds;
    const double y = area.top + branch_row * static_cast<double>(index);
    svg_text(out, area.left - 6, y + branch_row - 4, branch_label(branch.ref), "end");
    svg_bar(out, area.left, y + 2, area.width * days / maximum, branch_row - 4, branch_age_colour,
            branch.ref + ": " + number(days) + " days");
}

void limit_line(std::string& out, const plot_area& area, double x) {
    out += "<line class=\"limit\" stroke=\"" + std::string(limit_colour) + "\" x1=\"" +
           coordinate(x) + "\" y1=\"" + coordinate(area.top - 6) + "\" x2=\"" + coordinate(x) +
           "\" y2=\"" + coordinate(area.bottom()) + "\"/>\n";
}

void branch_ages_chart(std::string& out, const branch_figures& branches) {
    constexpr double row = branch_row, label_width = 240;
    const auto count = static_cast<double>(branches.live.size());
    const plot_area area{label_width, 10, chart_width - label_width - 40,
                         std::max(1.0, count) * row + (count == 0 ? 40 : 0)};
    svg_open(out, "chart-branch-ages", chart_width, area.bottom() + 30, "Age of each live branch");
    double oldest = 0;
    for (const auto& branch : branches.live)
        oldest = std::max(oldest, static_cast<double>(branch.age_seconds) / day_seconds);
    const auto limit = branches.max_age_days;
    const double maximum =
        nice_maximum(std::max(oldest, limit ? static_cast<double>(*limit) : 0.0));
    day_axis(out, area, maximum);
    for (std::size_t i = 0; i < branches.live.size(); ++i)
        branch_age_row(out, area, branches.live[i], i, maximum);
    if (limit)
        limit_line(out, area, area.left + area.width * static_cast<double>(*limit) / maximum);
    if (branches.live.empty())
        svg_empty(out, area, "no live branches");
    svg_close(out, "Age of each live branch in days (oldest commit not on trunk)" +
                       (limit ? ", the red line is max_age_days = " + std::to_string(*limit)
                              : std::string(", no max_age_days limit set")) +
                       ".");
}

// ---- sections --------------------------------------------------------------------------------

// The style sheet. The chart colours above are set on the bars themselves (fill=), not here.
constexpr const char* style = R"(
:root { color-scheme: light; }
body { font-family: system-ui, "DejaVu Sans", sans-serif; color: #1a1a1a; background: #fff;
       max-width: 1060px; margin: 2em auto; padding: 0 1em; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; overflow-wrap: anywhere; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; margin-top: 2em; }
h3 { font-size: 1.05em; overflow-wrap: anywhere; }
.period, .source, figcaption { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
th { background: #f0f0f0; }
tr.over td { background: #fff4e5; }
td.over { font-weight: bold; }
td.band { font-weight: bold; text-transform: uppercase; font-size: 0.85em; }
td.band-elite { color: #05603a; } td.band-high { color: #1d6b5f; }
td.band-medium { color: #8a5a00; } td.band-low { color: #9b1c1c; }
figure { margin: 1em 0; }
svg.chart { width: 100%; height: auto; display: block; shape-rendering: crispEdges; }
svg .label { font-size: 11px; fill: #333; }
svg .panel { font-size: 13px; font-weight: bold; fill: #1a1a1a; }
svg .empty { font-size: 16px; fill: #777; }
svg .axis { stroke: #444; stroke-width: 1; }
svg .grid { stroke: #ddd; stroke-width: 1; }
svg .limit { stroke-width: 2; stroke-dasharray: 6 3; }
@media print {
  @page { margin: 15mm; }
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  th, td, tr.over td { background: none !important; }
  table { width: 100%; }
  figure, svg.chart { break-inside: avoid; page-break-inside: avoid; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
}
)";

void header(std::string& out, const report& figures) {
    const auto& period = figures.period;
    out += "<header>\n<h1>Trunk health of " + text(figures.repository) + "</h1>\n";
    paragraph(out,
              time_text(period.since) + " to " + time_text(period.until) + " (" +
                  number(period.days()) + " days), generated " + time_text(period.now) + ".",
              "period");
    out += "</header>\n";
}

void dora_table(std::string& out, const deploy_ref_figures& ref) {
    out += "<h3>" + text(ref.ref) + "</h3>\n";
    table_open(out, {"key", "value", "band"});
    const auto count = static_cast<std::int64_t>(ref.deployments.size());
    table_row(out, {"deployment frequency",
                    count_noun(static_cast<std::uint64_t>(count), "deployment", "deployments") +
                        ", " + number(ref.per_day) + " a day, " + number(ref.per_week) + " a week",
                    band_cell(ref.bands.deployment_frequency)});
    table_row(out, {"lead time for changes (median)",
                    optional_duration(ref.lead_time.median) + " (p90 " +
                        optional_duration(ref.lead_time.p90) + ")",
                    band_cell(ref.bands.lead_time)});
    table_row(out, {"change failure rate",
                    (ref.change_failure_rate ? percent(*ref.change_failure_rate) : "–") + " (" +
                        std::to_string(ref.failed) + " of " + std::to_string(count) + " failed)",
                    band_cell(ref.bands.change_failure_rate)});
    table_row(out, {"time to restore (median)",
                    optional_duration(ref.time_to_restore.median) + " (" +
                        std::to_string(ref.unrestored) + " unrestored)",
                    band_cell(ref.bands.time_to_restore)});
    table_close(out);
}

void dora_section(std::string& out, const report& figures) {
    out += "<section id=\"dora\">\n<h2>Delivery: the four DORA keys</h2>\n";
    paragraph(out,
              std::string("Bands: ") + dora_bands_source +
                  "; thresholds in docs/report.md, \"DORA bands\".",
              "source");
    for (const auto& ref : figures.deployments)
        dora_table(out, ref);
    if (figures.deployments.empty())
        paragraph(out, "No deploy ref has a deployment in the audit log.");
    lead_time_chart(out, figures.deployments);
    out += "</section>\n";
}

void pushers_table(std::string& out, const std::vector<pusher_figures>& pushers) {
    out += "<h3>Pushers</h3>\n";
    if (pushers.empty())
        return paragraph(out, "Nobody landed on trunk in this period.");
    table_open(out, {"identity", "landings", "days landed", "share of active days"});
    for (const auto& pusher : pushers)
        table_row(out, {pusher.identity, std::to_string(pusher.landings),
                        std::to_string(pusher.days_landed), percent(pusher.share_of_days)});
    table_close(out);
}

void integration_section(std::string& out, const integration_figures& integration) {
    out += "<section id=\"integration\">\n<h2>Integration on " + text(integration.trunk_ref) +
           "</h2>\n";
    table_open(out, {"figure", "value"});
    table_row(out, {"landings", std::to_string(integration.landings) + " (" +
                                    std::to_string(integration.direct) + " direct, " +
                                    std::to_string(integration.queued) + " by the merge queue)"});
    table_row(out, {"landings a day", number(integration.per_day)});
    table_row(out, {"landings a day per active pusher", number(integration.per_pusher_per_day)});
    table_row(out, {"active pushers", std::to_string(integration.active_pushers)});
    table_row(out, {"days trunk moved", std::to_string(integration.active_days)});
    distribution_rows(out, "commits per landing", integration.size, false);
    table_close(out);
    landings_chart(out, integration);
    pushers_table(out, integration.pushers);
    out += "</section>\n";
}

void live_branches_table(std::string& out, const branch_figures& branches) {
    out += "<h3>Live branches</h3>\n";
    if (branches.live.empty())
        return paragraph(out, "No live branches.");
    table_open(out, {"branch", "age", "behind", "ahead", "last push", "by", "over limits"});
    for (const auto& branch : branches.live) {
        const bool over = !branch.over_limits.empty();
        table_row(out,
                  {branch.ref, duration(branch.age_seconds), std::to_string(branch.behind),
                   std::to_string(branch.ahead),
                   branch.last_push_time ? time_text(*branch.last_push_time) : "–",
                   branch.last_pusher.empty() ? "–" : branch.last_pusher,
                   over ? cell("over: " + join(branch.over_limits, ", "), "over") : cell("–")},
                  over ? "over" : "");
    }
    table_close(out);
}

void ended_branches(std::string& out, const branch_figures& branches) {
    out += "<h3>Ended branches: lifetimes</h3>\n";
    table_open(out, {"figure", "value"});
    distribution_rows(out, "lifetime", branches.lifetime, true);
    for (const auto& range : branches.lifetime_ranges)
        table_row(out, {"lifetime " + range.label, std::to_string(range.count)});
    table_close(out);
    if (branches.ended.empty())
        return paragraph(out, "No branch ended in this period.");
    table_open(out, {"branch", "created", "ended", "how", "lifetime"});
    for (const auto& branch : branches.ended)
        table_row(out, {branch.ref, time_text(branch.created), time_text(branch.ended), branch.how,
                        duration(branch.ended - branch.created)});
    table_close(out);
}

void branches_section(std::string& out, const branch_figures& branches) {
    out += "<section id=\"branches\">\n<h2>Branches</h2>\n";
    branch_ages_chart(out, branches);
    live_branches_table(out, branches);
    ended_branches(out, branches);
    out += "</section>\n";
}

void deployments_table(std::string& out, const deploy_ref_figures& ref) {
    out += "<h3>" + text(ref.ref) + "</h3>\n";
    if (ref.deployments.empty())
        return paragraph(out, "No deployment in this period.");
    table_open(out,
               {"time", "identity", "from", "to", "new commits", "failed by", "restored after"});
    for (const auto& d : ref.deployments) {
        const bool failed = !d.failed_by.empty();
        table_row(out,
                  {time_text(d.time), d.identity, short_id(d.old_hex), short_id(d.new_hex),
                   std::to_string(d.commits),
                   failed ? cell(join(d.failed_by, ", "), "over") : cell("–"),
                   optional_duration(d.restored_after)},
                  failed ? "over" : "");
    }
    table_close(out);
}

void deployments_section(std::string& out, const std::vector<deploy_ref_figures>& deployments) {
    out += "<section id=\"deployments\">\n<h2>Deployments</h2>\n";
    for (const auto& ref : deployments)
        deployments_table(out, ref);
    if (deployments.empty())
        paragraph(out, "No deployments.");
    out += "</section>\n";
}

void red_intervals(std::string& out, const std::vector<red_interval>& intervals);

void trunk_health_section(std::string& out, const trunk_health_figures& health) {
    out += "<section id=\"trunk-health\">\n<h2>Trunk red time</h2>\n";
    table_open(out, {"figure", "value"});
    table_row(out, {"required checks",
                    health.required_checks.empty() ? "none" : join(health.required_checks, ", ")});
    table_row(out, {"observed", duration(health.observed_seconds)});
    table_row(out, {"red", duration(health.red_seconds)});
    table_row(out, {"red share", health.red_share ? percent(*health.red_share) : "–"});
    table_close(out);
    if (!health.red.empty())
        red_intervals(out, health.red);
    out += "</section>\n";
}

void red_intervals(std::string& out, const std::vector<red_interval>& intervals) {
    table_open(out, {"red from", "to", "commit", "unmet checks"});
    for (const auto& red : intervals) {
        std::vector<std::string> unmet;
        for (const auto& check : red.unmet)
            unmet.push_back(check.context + " (" + check.state + ")");
        table_row(
            out, {time_text(red.from), time_text(red.to), short_id(red.commit), join(unmet, ", ")});
    }
    table_close(out);
}

void bypasses_table(std::string& out, const std::vector<bypass_record>& bypasses) {
    if (bypasses.empty())
        return paragraph(out, "No bypasses.");
    table_open(out, {"time", "identity", "refs", "reason"});
    for (const auto& bypass : bypasses)
        table_row(
            out, {time_text(bypass.time), bypass.identity, join(bypass.refs, ", "), bypass.reason});
    table_close(out);
}

void bypasses_section(std::string& out, const std::vector<bypass_record>& bypasses) {
    out += "<section id=\"bypasses\">\n<h2>Bypasses</h2>\n";
    bypasses_table(out, bypasses);
    out += "</section>\n";
}

void rejections_section(std::string& out, const report& figures) {
    out += "<section id=\"rejections\">\n<h2>Rejections</h2>\n";
    paragraph(out,
              count_noun(static_cast<std::uint64_t>(figures.rejected_pushes), "push", "pushes") +
                  " rejected.");
    if (!figures.rejections.empty()) {
        table_open(out, {"rule", "rejected pushes it blocked"});
        for (const auto& rule : figures.rejections)
            table_row(out, {rule.rule, std::to_string(rule.pushes)});
        table_close(out);
    }
    out += "</section>\n";
}

void queue_section(std::string& out, const queue_figures& queue) {
    out += "<section id=\"queue\">\n<h2>Merge queue</h2>\n";
    table_open(out, {"figure", "value"});
    table_row(out, {"landed", std::to_string(queue.landed)});
    table_row(out, {"ejected", std::to_string(queue.ejected)});
    table_row(out, {"cancelled", std::to_string(queue.cancelled)});
    distribution_rows(out, "time to land", queue.time_to_land, true);
    for (const auto& ejection : queue.ejections)
        table_row(out, {"ejected: " + ejection.reason, std::to_string(ejection.count)});
    table_row(out, {"speculative builds", std::to_string(queue.builds)});
    table_row(out, {"builds per landed entry",
                    queue.builds_per_landed ? number(*queue.builds_per_landed) : "–"});
    table_close(out);
    out += "</section>\n";
}

void notes_section(std::string& out, const std::vector<std::string>& notes) {
    out += "<section id=\"notes\">\n<h2>Notes</h2>\n";
    if (notes.empty())
        paragraph(out, "None: every record and note was read.");
    out += notes.empty() ? "" : "<ul>\n";
    for (const auto& note : notes)
        out += "<li>" + text(note) + "</li>\n";
    out += notes.empty() ? "" : "</ul>\n";
    out += "</section>\n";
}

} // namespace

std::string report_html(const report& figures) {
    std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                      "<title>Trunk health of " +
                      text(figures.repository) + "</title>\n<style>" + style +
                      "</style>\n</head>\n<body>\n";
    header(out, figures);
    dora_section(out, figures);
    integration_section(out, figures.integration);
    branches_section(out, figures.branches);
    deployments_section(out, figures.deployments);
    trunk_health_section(out, figures.trunk_health);
    bypasses_section(out, figures.bypasses);
    rejections_section(out, figures);
    if (figures.queue)
        queue_section(out, *figures.queue);
    notes_section(out, figures.notes);
    out += "</body>\n</html>\n";
    return out;
}

} // namespace trunkgate
