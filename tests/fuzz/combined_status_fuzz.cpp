// libFuzzer target: a combined-status API answer through parse_combined_status (what the hook
// reads from a GitHub/Gitea-compatible server). input_error is the documented answer to bad input;
// what parses must be judged as docs/gates.md says: a required context passes only on success.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trunkgate/checks/status.hpp"
#include "trunkgate/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const auto statuses = trunkgate::parse_combined_status(text);
        // Any state is kept as given (Gitea's "warning" included), but every context has a name,
        // and a required context passes only when it succeeded: "*" requires them all.
        const auto unmet = trunkgate::unmet_checks({"*"}, statuses);
        std::size_t not_green = 0;
        for (const auto& [context, status] : statuses) {
            if (context.empty())
                __builtin_trap();
            not_green += status.state != "success";
        }
        if (unmet.size() != (statuses.empty() ? 1 : not_green))
            __builtin_trap();
        (void)trunkgate::unmet_checks({"ci/*", "build"}, statuses);
    } catch (const trunkgate::input_error&) {
    }
    return 0;
}
