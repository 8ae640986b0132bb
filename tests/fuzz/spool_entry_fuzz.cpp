// libFuzzer target: a spool file through parse_entry (the deliverer reads every file in queue/).
// input_error is the documented answer to bad input. A parsed entry written back with entry_json
// must read back the same.
#include <cstddef>
#include <cstdint>
#include <string>

#include "trunkgate/events/spool.hpp"
#include "trunkgate/util/error.hpp"

namespace {

bool same(const trunkgate::spool_entry& a, const trunkgate::spool_entry& b) {
    return a.id == b.id && a.ref == b.ref && a.url == b.url && a.secret_env == b.secret_env &&
           a.secret_file == b.secret_file && a.auth_env == b.auth_env &&
           a.auth_file == b.auth_file && a.ca_file == b.ca_file && a.timeout_ms == b.timeout_ms &&
           a.headers == b.headers && a.body == b.body && a.created_at == b.created_at &&
           a.order == b.order && a.next_try == b.next_try && a.attempts == b.attempts &&
           a.state == b.state && a.last_error == b.last_error && a.last_status == b.last_status &&
           a.delivered_at == b.delivered_at;
}

// A fixed clock (2026-12-01), so a run is repeatable: "now" only bounds how far ahead times may be.
constexpr std::int64_t now = 1796083200;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    trunkgate::spool_entry entry;
    try {
        entry = trunkgate::parse_entry(text, now);
    } catch (const trunkgate::input_error&) {
        return 0;
    }
    if (!same(trunkgate::parse_entry(trunkgate::entry_json(entry), now), entry))
        __builtin_trap();
    return 0;
}
