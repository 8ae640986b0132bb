// End-to-end: the report's HTML page as a browser draws it. Headless Chromium (Debian's
// `chromium`) screenshots the page and the test counts the pixels of each chart's documented bar
// colour (docs/report.md, "The HTML page"): a chart with data shows its colour, a page without
// data shows none. The markup is checked in tests/report/report_html_test.cpp; this checks that
// what it says is drawn. The test fails, never skips, when chromium is missing.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "support/chromium.hpp"
#include "support/png.hpp"
#include "support/sandbox.hpp"
#include "trunkgate/report/render.hpp"

using namespace trunkgate;
using namespace trunkgate::testing;

namespace {

// docs/report.md, "The HTML page": the bar colour of each chart.
const rgb landings_colour = parse_colour("#2b6cb0");
const rgb lead_time_colour = parse_colour("#d97706");
const rgb branch_age_colour = parse_colour("#7b3fa0");

// A chart with data draws at least this many pixels of its colour. The smallest chart here
// (one deploy ref, 16 commits over 6 ranges) draws about 30,000; a chart that is not drawn, or
// drawn as hairlines, draws none or a few hundred.
constexpr std::size_t drawn = 2000;

constexpr std::int64_t day = 86400;
constexpr std::int64_t since = 1795996800; // 2026-11-30T00:00:00Z

report base_report() {
    report figures;
    figures.repository = "/srv/git/app.git";
    figures.period = {since, since + 28 * day, since + 28 * day};
    figures.integration.trunk_ref = "refs/heads/main";
    return figures;
}

std::vector<period_count> landing_days(int count) {
    std::vector<period_count> days;
    for (int i = 0; i < count; ++i)
        days.push_back({since + i * day, 1 + i % 4});
    return days;
}

deploy_ref_figures deploy_ref(const std::string& ref) {
    deploy_ref_figures figures;
    figures.ref = ref;
    figures.lead_time_ranges = {{"< 1 hour", 0, 3600, 4},
                                {"1 hour – 1 day", 3600, day, 7},
                                {"1 day – 1 week", day, 7 * day, 3},
                                {"1 week – 30 days", 7 * day, 30 * day, 2},
                                {"30 – 180 days", 30 * day, 180 * day, 0},
                                {"180 days or more", 180 * day, {}, 0}};
    return figures;
}

std::vector<live_branch> live_branches(int count) {
    std::vector<live_branch> live;
    for (int i = 0; i < count; ++i) {
        live_branch branch;
        branch.ref = "refs/heads/topic-" + std::to_string(i);
        branch.age_seconds = (1 + i % 20) * day;
        live.push_back(branch);
    }
    return live;
}

// `html` opened in headless Chromium with a window of 1200 x `height`, as decoded pixels.
rgba_image screenshot(const std::string& html, int height) {
    const auto chromium = chromium_path();
    if (chromium.empty())
        FAIL("chromium is not installed: apt-get install chromium fonts-dejavu-core "
             "(scripts/deps.sh, trunkgate_test_packages)");
    temp_dir dir;
    write_file(dir / "report.html", html);
    REQUIRE(::mkdir((dir / "profile").c_str(), 0700) == 0);
    const auto shot =
        chromium_screenshot(dir / "report.html", dir / "report.png", 1200, height, dir / "profile");
    INFO(shot.all());
    REQUIRE(shot.status == 0);
    return read_png(dir / "report.png");
}

// A trunk with a production deploy ref and a 3-day branch-age limit (a warning only, so the old
// branch below can be pushed).
const std::string gate_policy_text = R"(
[trunk]
branch = "main"

[[protect]]
refs = ["refs/heads/production"]
promote_from = "refs/heads/main"

[branches]
refs = ["refs/heads/*"]
max_age_days = 3

[enforcement]
branch-age = "warn"
)";

std::map<std::string, std::string> at(std::int64_t now, const std::string& identity) {
    return {{"TRUNKGATE_NOW", std::to_string(now)}, {"TRUNKGATE_USER", identity}};
}

// Ten days of work pushed with the real git client, each push at its own TRUNKGATE_NOW: a landing
// on main every day (ada and bob in turn), production promoted every other day, and two live
// branches, one of them older than max_age_days.
void push_ten_days(git_sandbox& sandbox, std::int64_t first_day) {
    for (int i = 0; i < 10; ++i) {
        const auto morning = first_day + i * day + 9 * 3600;
        sandbox.commit("feat: day " + std::to_string(i), "", morning);
        REQUIRE(sandbox.push({"origin", "main"}, at(morning + 600, i % 2 ? "bob" : "ada")).status ==
                0);
        if (i % 2 == 1)
            REQUIRE(sandbox.push({"origin", "main:production"}, at(morning + 7200, "ada")).status ==
                    0);
    }
    const std::vector<std::pair<std::string, int>> branches = {{"feature/old", 6},
                                                               {"feature/new", 1}};
    for (const auto& [branch, age_days] : branches) {
        REQUIRE(sandbox.git({"checkout", "-q", "-b", branch, "main"}).status == 0);
        sandbox.commit("wip: " + branch, "", first_day + (10 - age_days) * day);
        REQUIRE(sandbox.push({"origin", branch}, at(first_day + 10 * day - 3600, "bob")).status ==
                0);
        REQUIRE(sandbox.git({"checkout", "-q", "main"}).status == 0);
    }
}

// `trunkgate report --format html --output FILE` of the sandbox's server over the ten days.
std::string report_page(const git_sandbox& sandbox, std::int64_t first_day) {
    temp_dir out;
    const auto made = sandbox.trunkgate(
        {"report", "--repo", sandbox.server(), "--since", std::to_string(first_day), "--until",
         std::to_string(first_day + 10 * day), "--format", "html", "--output", out / "report.html"},
        "", {{"TRUNKGATE_NOW", std::to_string(first_day + 10 * day)}});
    INFO(made.all());
    REQUIRE(made.status == 0);
    return read_file(out / "report.html");
}

} // namespace

TEST_CASE("report html: trunkgate report's page of a real repository, drawn by Chromium",
          "[e2e][report]") {
    const std::int64_t first_day = since - 10 * day;
    git_sandbox sandbox;
    sandbox.install(gate_policy_text);
    SECTION("ten days of landings, deployments and two branches: all three charts drawn") {
        push_ten_days(sandbox, first_day);
        const auto html = report_page(sandbox, first_day);
        CHECK_THAT(html, Catch::Contains("refs/heads/production"));
        CHECK_THAT(html, Catch::Contains("max_age_days = 3"));
        const auto image = screenshot(html, 3000);
        CHECK(count_pixels(image, landings_colour) > drawn);
        CHECK(count_pixels(image, lead_time_colour) > drawn);
        CHECK(count_pixels(image, branch_age_colour) > drawn);
    }
    SECTION("a repository nobody pushed to: no bar in any colour") {
        const auto image = screenshot(report_page(sandbox, first_day), 3000);
        CHECK(count_pixels(image, landings_colour) == 0);
        CHECK(count_pixels(image, lead_time_colour) == 0);
        CHECK(count_pixels(image, branch_age_colour) == 0);
    }
}

TEST_CASE("report html: Chromium draws hand-built figures: each chart in its colour, no bar "
          "without data, thin bars for two years and 200 branches",
          "[e2e][report]") {
    SECTION("a month with landings, two deploy refs, live branches and a max_age_days line") {
        auto figures = base_report();
        figures.integration.days = landing_days(28);
        figures.deployments = {deploy_ref("refs/heads/staging"),
                               deploy_ref("refs/heads/production")};
        figures.branches.live = live_branches(12);
        figures.branches.max_age_days = 14;
        const auto image = screenshot(report_html(figures), 3000);
        CHECK(image.width == 1200);
        CHECK(count_pixels(image, landings_colour) > drawn);
        CHECK(count_pixels(image, lead_time_colour) > drawn);
        CHECK(count_pixels(image, branch_age_colour) > drawn);
    }
    SECTION("no data at all: the charts say so and draw no bar") {
        const auto image = screenshot(report_html(base_report()), 3000);
        CHECK(count_pixels(image, landings_colour) == 0);
        CHECK(count_pixels(image, lead_time_colour) == 0);
        CHECK(count_pixels(image, branch_age_colour) == 0);
    }
    SECTION("two years of days and 200 branches: thin bars, still drawn") {
        auto figures = base_report();
        figures.period.until = since + 730 * day;
        figures.integration.days = landing_days(730);
        figures.branches.live = live_branches(200);
        const auto image = screenshot(report_html(figures), 6000);
        CHECK(count_pixels(image, landings_colour) > drawn);
        // 200 bars at least 1 day long of 20 on the axis: far more than one chart's threshold.
        CHECK(count_pixels(image, branch_age_colour) > 50 * drawn);
    }
}
