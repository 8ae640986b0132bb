#pragma once
// A report with nothing counted yet, over 28 days from 2026-11-30: the start of the hand-built
// reports the HTML tests draw (tests/report/report_html_test.cpp, tests/e2e/report_html_test.cpp).

#include "trunkgate/report/report.hpp"

namespace trunkgate::testing {

constexpr std::int64_t report_day = 86400;
constexpr std::int64_t report_since = 1795996800; // 2026-11-30T00:00:00Z

inline report empty_report() {
    report figures;
    figures.repository = "/srv/git/app.git";
    figures.period = {report_since, report_since + 28 * report_day, report_since + 28 * report_day};
    figures.integration.trunk_ref = "refs/heads/main";
    return figures;
}

} // namespace trunkgate::testing
