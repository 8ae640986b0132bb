// libFuzzer target: git's pre-receive input through parse_update_line (the first line) and
// parse_updates (the whole input). input_error is the documented answer to bad input.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "trunkgate/history/ref_update.hpp"
#include "trunkgate/util/error.hpp"

namespace {

void use(const trunkgate::ref_update& update) {
    // A parsed update must carry ids the rest of the hook can trust.
    if (!trunkgate::is_object_id(update.old_hex) || !trunkgate::is_object_id(update.new_hex) ||
        update.ref.empty())
        __builtin_trap();
    (void)update.kind();
    (void)update.short_name();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const std::string_view first_line = std::string_view(text).substr(0, text.find('\n'));
    try {
        use(trunkgate::parse_update_line(first_line));
    } catch (const trunkgate::input_error&) {
    }
    try {
        std::istringstream in(text);
        for (const auto& update : trunkgate::parse_updates(in))
            use(update);
    } catch (const trunkgate::input_error&) {
    }
    return 0;
}
