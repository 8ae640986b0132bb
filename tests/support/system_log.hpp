#pragma once
// The server's log as tests see it: a datagram socket at /dev/log, where glibc's syslog(3) sends,
// so a test can read what a hook told syslog. Only where no syslog daemon owns /dev/log already.

#include <chrono>
#include <string>
#include <vector>

namespace trunkgate::testing {

class system_log_listener {
  public:
    /// Binds /dev/log when it does not exist, holding a lock so that one test at a time listens.
    /// available() says whether it could; a daemon's /dev/log is never touched.
    system_log_listener();
    ~system_log_listener();
    system_log_listener(const system_log_listener&) = delete;
    system_log_listener& operator=(const system_log_listener&) = delete;

    /// False when /dev/log belongs to a syslog daemon (or cannot be bound); why() says which.
    bool available() const { return socket_fd_ >= 0; }
    const std::string& why() const { return why_; }

    /// The first message received (now or within `wait`) that contains `text`, as syslog sent it
    /// ("<PRI>timestamp ident[pid]: message"); empty when none came.
    std::string find(const std::string& text, std::chrono::milliseconds wait);

  private:
    int lock_fd_ = -1;
    int socket_fd_ = -1;
    std::string why_;
    std::vector<std::string> received_;
};

} // namespace trunkgate::testing
