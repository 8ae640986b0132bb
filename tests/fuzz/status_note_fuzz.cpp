// libFuzzer target: a CI status note through parse_status_note. input_error is the documented
// answer to bad input. A parsed note written back with status_note_json must read back the same.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trunkgate/checks/status.hpp"
#include "trunkgate/util/error.hpp"

namespace {

bool same(const trunkgate::commit_status& a, const trunkgate::commit_status& b) {
    return a.state == b.state && a.description == b.description && a.url == b.url &&
           a.updated_at == b.updated_at && a.by == b.by;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    trunkgate::status_map statuses;
    try {
        statuses = trunkgate::parse_status_note(text);
    } catch (const trunkgate::input_error&) {
        return 0;
    }
    const auto again = trunkgate::parse_status_note(trunkgate::status_note_json(statuses));
    if (again.size() != statuses.size())
        __builtin_trap();
    for (const auto& [context, status] : statuses) {
        const auto found = again.find(context);
        if (found == again.end() || !same(found->second, status))
            __builtin_trap();
    }
    (void)trunkgate::unmet_checks({"*", "build", "ci/*"}, statuses);
    return 0;
}
