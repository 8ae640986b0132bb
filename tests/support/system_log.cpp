#include "support/system_log.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace trunkgate::testing {

namespace {

const char* const log_path = "/dev/log";

} // namespace

system_log_listener::system_log_listener() {
    lock_fd_ = ::open("/tmp/trunkgate-tests-dev-log.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX) != 0) {
        why_ =
            std::string("cannot lock /tmp/trunkgate-tests-dev-log.lock: ") + std::strerror(errno);
        return;
    }
    struct stat info {};
    if (::lstat(log_path, &info) == 0) {
        why_ =
            "/dev/log exists (a syslog daemon owns it), so this test cannot read the server's log";
        return;
    }
    socket_fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, log_path, sizeof address.sun_path - 1);
    if (socket_fd_ < 0 ||
        ::bind(socket_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        why_ = std::string("cannot bind /dev/log: ") + std::strerror(errno);
        if (socket_fd_ >= 0)
            ::close(socket_fd_);
        socket_fd_ = -1;
        return;
    }
    ::chmod(log_path, 0666);
}

system_log_listener::~system_log_listener() {
    if (socket_fd_ >= 0) {
        ::unlink(log_path);
        ::close(socket_fd_);
    }
    if (lock_fd_ >= 0)
        ::close(lock_fd_); // releases the lock
}

std::string system_log_listener::find(const std::string& text, std::chrono::milliseconds wait) {
    const auto until = std::chrono::steady_clock::now() + wait;
    for (;;) {
        for (const auto& message : received_)
            if (message.find(text) != std::string::npos)
                return message;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            until - std::chrono::steady_clock::now());
        pollfd ready{socket_fd_, POLLIN, 0};
        if (socket_fd_ < 0 || left.count() <= 0 ||
            ::poll(&ready, 1, static_cast<int>(left.count())) <= 0)
            return "";
        char buffer[8192];
        const auto n = ::recv(socket_fd_, buffer, sizeof buffer, 0);
        if (n > 0)
            received_.emplace_back(buffer, static_cast<std::size_t>(n));
    }
}

} // namespace trunkgate::testing
