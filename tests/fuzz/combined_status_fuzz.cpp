// libFuzzer target: a combined-status API answer through parse_combined_status (what the hook
// reads from a GitHub/Gitea-compatible server). input_error is the documented answer to bad input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trunkgate/error.hpp"
#include "trunkgate/status.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const auto statuses = trunkgate::parse_combined_status(text);
        for (const auto& [context, status] : statuses)
            if (context.empty() || !trunkgate::is_status_state(status.state))
                __builtin_trap();
        (void)trunkgate::unmet_checks({"*", "ci/*", "build"}, statuses);
    } catch (const trunkgate::input_error&) {
    }
    return 0;
}
