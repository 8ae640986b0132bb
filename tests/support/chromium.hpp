#pragma once
// Headless Chromium for the tests that check a page is drawn, not merely written
// (tests/e2e/report_html_test.cpp). Debian's `chromium` package; scripts/deps.sh installs it.

#include <string>

#include "support/sandbox.hpp"

namespace trunkgate::testing {

/// The chromium program found in PATH, or "" when there is none.
std::string chromium_path();

/// How long a screenshot may take before Chromium (and every process it started) is killed.
constexpr int chromium_timeout_seconds = 60;

/// Opens the local file `html_path` in headless Chromium with a window of `width` x `height`
/// CSS pixels and writes a PNG of that window to `png_path`. Chromium runs without its sandbox
/// (CI runs as root), with a fresh profile under `profile_dir`, and with every feature that
/// would reach the network switched off; it is killed after chromium_timeout_seconds (status
/// 124 or 137). The caller checks `status` and that the PNG exists.
run_result chromium_screenshot(const std::string& html_path, const std::string& png_path, int width,
                               int height, const std::string& profile_dir);

} // namespace trunkgate::testing
