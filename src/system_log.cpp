#include "trunkgate/system_log.hpp"

#include <syslog.h>

#include "trunkgate/text.hpp"

namespace trunkgate {

void system_log(std::string_view message) noexcept {
    try {
        const auto line = printable(message);
        ::openlog("trunkgate", LOG_PID, LOG_USER);
        ::syslog(LOG_ERR, "%s", line.c_str());
        ::closelog();
    } catch (...) {
        // Out of memory while escaping: nothing more can be said.
    }
}

} // namespace trunkgate
