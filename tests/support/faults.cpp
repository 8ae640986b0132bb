#include "support/faults.hpp"

#include <filesystem>
#include <stdexcept>
#include <sys/mount.h>

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

tmpfs_mount::tmpfs_mount(std::string path, const std::string& size) : path_(std::move(path)) {
    std::filesystem::create_directories(path_);
    const auto options = "size=" + size + ",mode=0755";
    if (::mount("tmpfs", path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0)
        throw std::runtime_error("cannot mount a tmpfs at " + path_ + ": " + std::strerror(errno) +
                                 (::geteuid() == 0 ? "" : " (run the tests as root)"));
}

tmpfs_mount::~tmpfs_mount() {
    ::umount2(path_.c_str(), MNT_DETACH);
}

void fill_up(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
    const std::string block(4096, 'x');
    while (::write(fd, block.data(), block.size()) > 0) {
    }
    while (::write(fd, block.data(), 1) > 0) {
    }
    ::close(fd);
}

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
    reader_ = std::thread([this] { drain(); });
}

system_log_listener::~system_log_listener() {
    stopping_ = true;
    if (reader_.joinable())
        reader_.join();
    if (socket_fd_ >= 0) {
        ::unlink(log_path);
        ::close(socket_fd_);
    }
    if (lock_fd_ >= 0)
        ::close(lock_fd_); // releases the lock
}

void system_log_listener::drain() {
    while (!stopping_) {
        pollfd ready{socket_fd_, POLLIN, 0};
        if (::poll(&ready, 1, 20) <= 0)
            continue;
        char buffer[8192];
        const auto n = ::recv(socket_fd_, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n <= 0)
            continue;
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            received_.emplace_back(buffer, static_cast<std::size_t>(n));
        }
        arrived_.notify_all();
    }
}

std::string system_log_listener::find(const std::string& text, std::chrono::milliseconds wait) {
    std::unique_lock<std::mutex> lock(mutex_);
    std::string found;
    arrived_.wait_for(lock, wait, [&] {
        for (const auto& line : received_)
            if (line.find(text) != std::string::npos) {
                found = line;
                return true;
            }
        return false;
    });
    return found;
}

} // namespace trunkgate::testing
