// libFuzzer target: an approvals note through parse_approvals. input_error is the documented
// answer to bad input. Parsed decisions written back with approvals_json must read back the same.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trunkgate/checks/approvals.hpp"
#include "trunkgate/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<trunkgate::approval> decisions;
    try {
        decisions = trunkgate::parse_approvals(text);
    } catch (const trunkgate::input_error&) {
        return 0;
    }
    const auto again = trunkgate::parse_approvals(trunkgate::approvals_json(decisions));
    if (again.size() != decisions.size())
        __builtin_trap();
    for (std::size_t i = 0; i < decisions.size(); ++i)
        if (again[i].by != decisions[i].by || again[i].approved != decisions[i].approved ||
            again[i].at != decisions[i].at || again[i].comment != decisions[i].comment)
            __builtin_trap();
    return 0;
}
