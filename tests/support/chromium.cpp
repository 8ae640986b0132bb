#include "support/chromium.hpp"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

namespace trunkgate::testing {

std::string chromium_path() {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path ? path : "/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        const auto candidate = (dir.empty() ? "." : dir) + "/chromium";
        if (::access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return "";
}

run_result chromium_screenshot(const std::string& html_path, const std::string& png_path, int width,
                               int height, const std::string& profile_dir) {
    // coreutils' timeout runs Chromium in a process group of its own and signals the whole
    // group, so the renderer and GPU processes go too; -k: SIGKILL 5 s after a TERM is ignored.
    return run({"timeout", "-k", "5", std::to_string(chromium_timeout_seconds), chromium_path(),
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--user-data-dir=" + profile_dir,
                // Nothing on the network: no first-run pings, no component, safe-browsing or
                // variations downloads, no sync, no crash or metrics uploads, no DNS prefetch.
                "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-breakpad",
                "--metrics-recording-only", "--disable-domain-reliability",
                "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider",
                "--dns-prefetch-disable", "--no-pings", "--host-resolver-rules=MAP * ~NOTFOUND",
                // Pixels are counted: one CSS pixel is one screenshot pixel, colours untouched.
                "--force-device-scale-factor=1", "--force-color-profile=srgb",
                "--window-size=" + std::to_string(width) + "," + std::to_string(height),
                "--screenshot=" + png_path, "file://" + html_path},
               profile_dir, {{"HOME", profile_dir}});
}

} // namespace trunkgate::testing
