#include "trunkgate/util/system_log.hpp"

#include <syslog.h>

#include "trunkgate/util/text.hpp"

namespace trunkgate {

namespace {

std::function<void(int, const std::string&)>& sink() {
    static std::function<void(int, const std::string&)> instance;
    return instance;
}

} // namespace

void system_log(int priority, const std::string& line) noexcept {
    try {
        const auto shown = printable(line);
        if (sink()) {
            sink()(priority, shown);
            return;
        }
        // openlog once per call: a hook logs at most a few lines, and no other code here does.
        ::openlog("trunkgate", LOG_PID | LOG_NDELAY, LOG_USER);
        ::syslog(priority, "%s", shown.c_str());
        ::closelog();
    } catch (...) {
        // Out of memory while escaping, or a test sink that threw: nothing more can be said.
    }
}

void set_system_log_sink(std::function<void(int priority, const std::string& line)> sink_function) {
    sink() = std::move(sink_function);
}

} // namespace trunkgate
