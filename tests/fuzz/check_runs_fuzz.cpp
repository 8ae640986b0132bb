// libFuzzer target: a check-runs API answer (GitHub Actions) through parse_check_runs.
// input_error is the documented answer to bad input; what parses maps every run to one of the
// four status states (docs/gates.md), under the run's name.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trunkgate/checks/status.hpp"
#include "trunkgate/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const auto runs = trunkgate::parse_check_runs(text);
        for (const auto& [name, status] : runs)
            if (name.empty() || !trunkgate::is_status_state(status.state))
                __builtin_trap();
        (void)trunkgate::unmet_checks({"*", "build"}, runs);
    } catch (const trunkgate::input_error&) {
    }
    return 0;
}
