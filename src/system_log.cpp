#include "trunkgate/system_log.hpp"

#include <syslog.h>

namespace trunkgate {

namespace {

std::function<void(int, const std::string&)>& sink() {
    static std::function<void(int, const std::string&)> instance;
    return instance;
}

} // namespace

void system_log(int priority, const std::string& line) {
    if (sink()) {
        sink()(priority, line);
        return;
    }
    // openlog once per call: a hook logs at most a few lines, and no other code here uses syslog.
    ::openlog("trunkgate", LOG_PID | LOG_NDELAY, LOG_USER);
    ::syslog(priority, "%s", line.c_str());
    ::closelog();
}

void set_system_log_sink(std::function<void(int priority, const std::string& line)> sink_function) {
    sink() = std::move(sink_function);
}

} // namespace trunkgate
