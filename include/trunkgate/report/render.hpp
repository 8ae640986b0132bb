#pragma once
// The trunk health report's three forms (docs/report.md): a terminal summary, the stable JSON
// schema, and one self-contained HTML page with inline SVG charts.

#include <nlohmann/json.hpp>

#include <string>

#include "trunkgate/report/report.hpp"

namespace trunkgate {

/// Where the DORA bands come from, as the report cites it.
constexpr const char* dora_bands_source = "Accelerate State of DevOps Report 2023 (DORA)";

/// The report as docs/report.md's JSON schema.
nlohmann::ordered_json report_json(const report& figures);

/// The terminal summary.
std::string report_text(const report& figures);

/// One HTML page: inline styles and SVG, no script, nothing fetched.
std::string report_html(const report& figures);

} // namespace trunkgate
