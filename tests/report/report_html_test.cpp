// The HTML form of the report (src/report/report_html.cpp) from hand-built figures: every string
// from the data is escaped, nothing is fetched or run, and each chart holds one bar per value,
// also with no data, one day, two years of days and 200 branches. tests/e2e/report_html_test.cpp
// checks in Chromium that the bars are drawn.
#include <catch2/catch.hpp>

#include <string>

#include "trunkgate/report/render.hpp"

using namespace trunkgate;
using Catch::Contains;

namespace {

constexpr std::int64_t day = 86400;
constexpr std::int64_t since = 1795996800; // 2026-11-30T00:00:00Z

report empty_report() {
    report figures;
    figures.repository = "/srv/git/app.git";
    figures.period = {since, since + 28 * day, since + 28 * day};
    figures.integration.trunk_ref = "refs/heads/main";
    return figures;
}

std::vector<period_count> days(std::size_t count, std::int64_t landings) {
    std::vector<period_count> result;
    for (std::size_t i = 0; i < count; ++i)
        result.push_back({since + static_cast<std::int64_t>(i) * day,
                          landings + static_cast<std::int64_t>(i % 3)});
    return result;
}

std::vector<range_count> lead_time_ranges() {
    return {{"< 1 hour", 0, 3600, 4},
            {"1 hour – 1 day", 3600, day, 9},
            {"1 day – 1 week", day, 7 * day, 2},
            {"1 week – 30 days", 7 * day, 30 * day, 1},
            {"30 – 180 days", 30 * day, 180 * day, 0},
            {"180 days or more", 180 * day, std::nullopt, 0}};
}

live_branch branch(const std::string& name, std::int64_t age_days) {
    live_branch live;
    live.ref = "refs/heads/" + name;
    live.age_seconds = age_days * day;
    live.oldest_time = since - live.age_seconds;
    return live;
}

deploy_ref_figures production() {
    deploy_ref_figures ref;
    ref.ref = "refs/heads/production";
    ref.lead_time_ranges = lead_time_ranges();
    ref.deployments.push_back(
        {since + day, "ada", std::string(40, 'a'), std::string(40, 'b'), 3, {}, std::nullopt});
    ref.bands.deployment_frequency = "high";
    return ref;
}

// The part of `html` from `<svg id="ID"` to its `</svg>`; fails the test when it is missing.
std::string chart(const std::string& html, const std::string& id) {
    const auto start = html.find("<svg id=\"" + id + "\"");
    REQUIRE(start != std::string::npos);
    const auto end = html.find("</svg>", start);
    REQUIRE(end != std::string::npos);
    return html.substr(start, end - start);
}

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t count = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++count;
    return count;
}

std::size_t bars(const std::string& svg) {
    return occurrences(svg, "<rect class=\"bar\"");
}

} // namespace

TEST_CASE("report html: one self-contained page with the three charts", "[report]") {
    auto figures = empty_report();
    figures.integration.days = days(28, 1);
    figures.deployments = {production()};
    figures.branches.live = {branch("feature/a", 3), branch("feature/b", 9)};
    figures.branches.max_age_days = 7;
    const auto html = report_html(figures);

    CHECK(html.rfind("<!DOCTYPE html>\n", 0) == 0);
    CHECK_THAT(html, Contains("<meta charset=\"utf-8\">"));
    CHECK_THAT(html, Contains("Trunk health of /srv/git/app.git"));
    CHECK_THAT(html, Contains("2026-11-30 00:00 UTC to 2026-12-28 00:00 UTC"));
    CHECK_THAT(html, Contains(dora_bands_source));
    CHECK_THAT(html, Contains("@media print"));
    CHECK_THAT(html, Contains("break-inside: avoid"));
    SECTION("nothing runs, nothing is fetched") {
        CHECK_THAT(html, !Contains("<script", Catch::CaseSensitive::No));
        CHECK_THAT(html, !Contains("http://"));
        CHECK_THAT(html, !Contains("https://"));
        CHECK_THAT(html, !Contains("<img", Catch::CaseSensitive::No));
        CHECK_THAT(html, !Contains("<link", Catch::CaseSensitive::No));
        CHECK_THAT(html, !Contains("url(", Catch::CaseSensitive::No));
        CHECK_THAT(html, !Contains("@import"));
    }
    SECTION("one bar per day, per lead-time range, per live branch, each in its own colour") {
        const auto landings = chart(html, "chart-landings");
        CHECK(bars(landings) == 28);
        CHECK(occurrences(landings, "fill=\"#2b6cb0\"") == 28);
        const auto lead_time = chart(html, "chart-lead-time");
        CHECK(bars(lead_time) == 6);
        CHECK(occurrences(lead_time, "fill=\"#d97706\"") == 6);
        CHECK_THAT(lead_time, Contains("refs/heads/production"));
        const auto ages = chart(html, "chart-branch-ages");
        CHECK(bars(ages) == 2);
        CHECK(occurrences(ages, "fill=\"#7b3fa0\"") == 2);
    }
    SECTION("the max_age_days limit is a line, and said in the caption") {
        CHECK(occurrences(chart(html, "chart-branch-ages"), "<line class=\"limit\"") == 1);
        CHECK_THAT(html, Contains("max_age_days = 7"));
        figures.branches.max_age_days.reset();
        const auto without = report_html(figures);
        CHECK(occurrences(chart(without, "chart-branch-ages"), "<line class=\"limit\"") == 0);
        CHECK_THAT(without, Contains("no max_age_days limit set"));
    }
    SECTION("a bar's height is its share of the axis maximum") {
        figures.integration.days = {{since, 5}};
        const auto one_day = chart(report_html(figures), "chart-landings");
        // 5 landings on an axis to 5: the full 200 units of the plot area.
        CHECK_THAT(one_day, Contains("height=\"200.0\" fill=\"#2b6cb0\""));
    }
}

TEST_CASE("report html: every string from the data is escaped", "[report]") {
    const std::string hostile = "<script>alert(\"x\")</script>'&";
    const std::string escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;";
    auto figures = empty_report();
    figures.repository = hostile;
    figures.integration.trunk_ref = hostile;
    figures.integration.days = days(2, 1);
    figures.integration.pushers = {{hostile, 2, 1, 0.5}};
    auto live = branch(hostile, 2);
    live.last_pusher = hostile;
    live.over_limits = {hostile};
    figures.branches.live = {live};
    figures.branches.ended = {{hostile, since, since + day, hostile}};
    auto ref = production();
    ref.ref = hostile;
    ref.deployments.front().identity = hostile;
    ref.deployments.front().failed_by = {hostile};
    ref.lead_time_ranges.front().label = hostile;
    ref.bands.lead_time = hostile;
    figures.deployments = {ref};
    figures.trunk_health.required_checks = {hostile};
    figures.trunk_health.red = {{since, since + 60, hostile, {{hostile, hostile, "", ""}}}};
    figures.bypasses = {{since, hostile, {hostile}, hostile}};
    figures.rejections = {{hostile, 1}};
    figures.queue = queue_figures{};
    figures.queue->ejections = {{hostile, 1}};
    figures.notes = {hostile};
    const auto html = report_html(figures);

    CHECK_THAT(html, !Contains("<script", Catch::CaseSensitive::No));
    CHECK_THAT(html, !Contains("\"x\""));
    CHECK_THAT(html, Contains(escaped));
    SECTION("in attributes too: a quote cannot end the class a band is written into") {
        CHECK_THAT(html, !Contains("band-<"));
        CHECK_THAT(html, Contains("band-&lt;script&gt;"));
    }
    SECTION("a long branch name is cut between UTF-8 characters in its chart label") {
        std::string accents;
        for (int i = 0; i < 30; ++i)
            accents += "\xc3\xa9"; // é
        figures.branches.live = {branch(accents, 1)};
        const auto ages = chart(report_html(figures), "chart-branch-ages");
        CHECK_THAT(ages, !Contains("\\x"));
        CHECK_THAT(ages, Contains(accents.substr(0, 32) + "…</text>"));
        CHECK_THAT(ages, Contains("<title>refs/heads/" + accents + ": 1.00 days</title>"));
    }
    SECTION("controls and bidi overrides are shown, not obeyed") {
        figures.notes = {"a\x1b[31mred\xe2\x80\xae"};
        const auto shown = report_html(figures);
        CHECK_THAT(shown, Contains("a\\x1b[31mred\\u{202e}"));
    }
}

TEST_CASE("report html: charts with no data say so and draw no bar", "[report]") {
    auto figures = empty_report();
    const auto html = report_html(figures);
    CHECK(bars(chart(html, "chart-landings")) == 0);
    CHECK_THAT(chart(html, "chart-landings"), Contains("no landings in this period"));
    CHECK(bars(chart(html, "chart-lead-time")) == 0);
    CHECK_THAT(chart(html, "chart-lead-time"), Contains("no deployments recorded"));
    CHECK(bars(chart(html, "chart-branch-ages")) == 0);
    CHECK_THAT(chart(html, "chart-branch-ages"), Contains("no live branches"));
    CHECK_THAT(html, Contains("No deploy ref has a deployment"));
    CHECK_THAT(html, !Contains("id=\"queue\""));

    SECTION("days without a landing are zero-height bars under the message") {
        figures.integration.days = days(28, 0);
        for (auto& d : figures.integration.days)
            d.count = 0;
        const auto landings = chart(report_html(figures), "chart-landings");
        CHECK(bars(landings) == 28);
        CHECK(occurrences(landings, "height=\"0.0\"") == 28);
        CHECK_THAT(landings, Contains("no landings in this period"));
    }
    SECTION("a deploy ref with no deployed commit") {
        auto ref = production();
        for (auto& range : ref.lead_time_ranges)
            range.count = 0;
        figures.deployments = {ref};
        CHECK_THAT(chart(report_html(figures), "chart-lead-time"),
                   Contains("no deployed commits in this period"));
    }
}

TEST_CASE("report html: one day, two years and 200 branches", "[report]") {
    auto figures = empty_report();
    SECTION("one day") {
        figures.integration.days = days(1, 3);
        const auto landings = chart(report_html(figures), "chart-landings");
        CHECK(bars(landings) == 1);
        CHECK_THAT(landings, !Contains("no landings"));
    }
    SECTION("730 days: thin bars that touch, every one of them written") {
        figures.integration.days = days(730, 1);
        const auto landings = chart(report_html(figures), "chart-landings");
        CHECK(bars(landings) == 730);
        CHECK_THAT(landings, Contains("width=\"1.3\""));
        CHECK_THAT(landings, !Contains("width=\"0.0\""));
    }
    SECTION("200 branches, two deploy refs") {
        for (int i = 0; i < 200; ++i)
            figures.branches.live.push_back(branch("topic-" + std::to_string(i), i % 40));
        figures.deployments = {production(), production()};
        figures.deployments.back().ref = "refs/heads/staging";
        const auto html = report_html(figures);
        CHECK(bars(chart(html, "chart-branch-ages")) == 200);
        CHECK(bars(chart(html, "chart-lead-time")) == 12);
        CHECK_THAT(chart(html, "chart-lead-time"), Contains("refs/heads/staging"));
    }
}
