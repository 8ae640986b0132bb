// libFuzzer target: policy text (TOML) through parse_policy. A policy_error is the documented
// answer to bad input; any other exception, crash or sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const auto parsed = trunkgate::parse_policy(text, "fuzz.toml");
        // Use what was parsed the way the hook does, so half-validated values show up here.
        (void)parsed.protections_for(parsed.trunk_ref());
        (void)parsed.protections_for("refs/tags/v1.0.0");
        (void)parsed.level_of("up-to-date", trunkgate::level::block);
        if (parsed.branches.name_pattern)
            (void)parsed.branches.name_pattern->search("feature/x");
        if (parsed.commits) {
            (void)parsed.commits->forbidden_paths.match("secrets/id_rsa");
            (void)parsed.commits->secret_paths.match("config/.env");
        }
    } catch (const trunkgate::policy_error&) {
    }
    return 0;
}
