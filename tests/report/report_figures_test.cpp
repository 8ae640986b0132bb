// The report's arithmetic: nearest-rank percentiles, duration ranges, DORA bands, and the JSON
// form's shape (docs/report.md).

#include <catch2/catch.hpp>

#include "trunkgate/report/render.hpp"
#include "trunkgate/report/report.hpp"

using namespace trunkgate;

TEST_CASE("percentiles are nearest-rank: every one is a value that occurred", "[report]") {
    const auto none = make_distribution({});
    CHECK(none.count == 0);
    CHECK_FALSE(none.median);
    CHECK_FALSE(none.p95);

    const auto one = make_distribution({7});
    CHECK(*one.median == 7);
    CHECK(*one.p90 == 7);

    // n = 4: the median is the 2nd (the lower middle), p90 and p95 the 4th.
    const auto four = make_distribution({40, 10, 30, 20});
    CHECK(*four.median == 20);
    CHECK(*four.p90 == 40);
    CHECK(*four.p95 == 40);

    // n = 20: p50 the 10th, p90 the 18th, p95 the 19th.
    std::vector<std::int64_t> twenty;
    for (std::int64_t i = 20; i >= 1; --i)
        twenty.push_back(i * 100);
    const auto result = make_distribution(twenty);
    CHECK(result.count == 20);
    CHECK(*result.median == 1000);
    CHECK(*result.p90 == 1800);
    CHECK(*result.p95 == 1900);
}

TEST_CASE("durations fall in the six documented ranges, low edge included", "[report]") {
    const auto ranges = duration_ranges(
        {0, 3599, 3600, 86399, 86400, 604800, 2592000, 15551999, 15552000, 100000000});
    REQUIRE(ranges.size() == 6);
    CHECK(ranges[0].label == "< 1 hour");
    CHECK(ranges[0].count == 2);
    CHECK(ranges[1].count == 2);
    CHECK(ranges[2].count == 1);
    CHECK(ranges[3].count == 1);
    CHECK(ranges[4].count == 2);
    CHECK(ranges[5].label == "180 days or more");
    CHECK_FALSE(ranges[5].high);
    CHECK(ranges[5].count == 2);
}

TEST_CASE("DORA bands: the 2023 report's edges, as docs/report.md reads them", "[report]") {
    CHECK(deployment_frequency_band(1.0) == "elite");
    CHECK(deployment_frequency_band(0.99) == "high");
    CHECK(deployment_frequency_band(1.0 / 7) == "high");
    CHECK(deployment_frequency_band(0.14) == "medium");
    CHECK(deployment_frequency_band(1.0 / 30) == "medium");
    CHECK(deployment_frequency_band(0.03) == "low");
    CHECK(deployment_frequency_band(0) == "low");

    CHECK_FALSE(lead_time_band(std::nullopt));
    CHECK(*lead_time_band(86399) == "elite");
    CHECK(*lead_time_band(86400) == "high");
    CHECK(*lead_time_band(604800) == "high");
    CHECK(*lead_time_band(604801) == "medium");
    CHECK(*lead_time_band(2592000) == "medium");
    CHECK(*lead_time_band(2592001) == "low");

    CHECK_FALSE(change_failure_band(std::nullopt));
    CHECK(*change_failure_band(0.0) == "elite");
    CHECK(*change_failure_band(0.05) == "elite");
    CHECK(*change_failure_band(0.1) == "high");
    CHECK(*change_failure_band(0.15) == "medium");
    CHECK(*change_failure_band(0.16) == "low");

    CHECK_FALSE(time_to_restore_band(std::nullopt));
    CHECK(*time_to_restore_band(3599) == "elite");
    CHECK(*time_to_restore_band(3600) == "high");
    CHECK(*time_to_restore_band(86400) == "medium");
    CHECK(*time_to_restore_band(604800) == "medium");
    CHECK(*time_to_restore_band(604801) == "low");
}

TEST_CASE("the JSON form has every documented field, with nulls where nothing was counted",
          "[report]") {
    report figures;
    figures.repository = "/srv/git/app.git";
    figures.period = {1764547200, 1764547200 + 2 * 86400, 1764547200 + 3 * 86400};
    figures.integration.trunk_ref = "refs/heads/main";
    figures.integration.days = {{1764547200, 1}, {1764547200 + 86400, 0}};
    deploy_ref_figures production;
    production.ref = "refs/heads/production";
    production.deployments.push_back({1764547200 + 60,
                                      "rita",
                                      std::string(40, '0'),
                                      std::string(40, 'a'),
                                      3,
                                      {"rollback"},
                                      3600});
    production.weeks = {{1764547200 - 86400 * 0, 1}};
    figures.deployments.push_back(production);
    const auto json = report_json(figures);
    CHECK(json["schema"] == 1);
    CHECK(json["generated_at"] == "2025-12-04T00:00:00+00:00");
    CHECK(json["since"] == "2025-12-01T00:00:00+00:00");
    CHECK(json["days"] == 2.0);
    CHECK(json["bands_source"] == dora_bands_source);
    CHECK(json["integration"]["days"][1]["date"] == "2025-12-02");
    CHECK(json["integration"]["size"]["median"].is_null());
    const auto& deployed = json["deployments"][0];
    CHECK(deployed["count"] == 1);
    CHECK(deployed["weeks"][0]["week"] == "2025-12-01");
    CHECK(deployed["list"][0]["failed_by"][0] == "rollback");
    CHECK(deployed["list"][0]["restored_after_seconds"] == 3600);
    CHECK(deployed["change_failure_rate"].is_null());
    CHECK(deployed["bands"]["lead_time"].is_null());
    CHECK(json["queue"].is_null());
    CHECK(json["trunk_health"]["red_share"].is_null());
    for (const char* key : {"integration", "branches", "deployments", "trunk_health", "bypasses",
                            "rejections", "queue", "notes"})
        CHECK(json.contains(key));
}
