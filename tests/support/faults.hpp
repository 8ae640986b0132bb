#pragma once
// Real faults for end-to-end tests: a full disk (a small tmpfs) and the server's log (a datagram
// socket at /dev/log, where glibc's syslog(3) sends, so a test can read what a hook logged).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace trunkgate::testing {

/// A tmpfs of `size` ("64k") mounted over `path` (created when missing) for the object's
/// lifetime, unmounted (lazily) on destruction. Root only: throws std::runtime_error otherwise.
class tmpfs_mount {
  public:
    tmpfs_mount(std::string path, const std::string& size);
    ~tmpfs_mount();
    tmpfs_mount(const tmpfs_mount&) = delete;
    tmpfs_mount& operator=(const tmpfs_mount&) = delete;

  private:
    std::string path_;
};

/// Writes to `path` until its file system is full.
void fill_up(const std::string& path);

class system_log_listener {
  public:
    /// Binds /dev/log when it does not exist, holding a lock so that one test at a time listens,
    /// and reads it on a thread from then on: a listener that did not read would fill the
    /// socket's queue and block every process on the machine that logs (PAM, other hooks).
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
    void drain(); ///< the reader thread: every datagram into received_, at once

    int lock_fd_ = -1;
    int socket_fd_ = -1;
    std::string why_;
    std::mutex mutex_;
    std::condition_variable arrived_;
    std::vector<std::string> received_;
    std::atomic<bool> stopping_{false};
    std::thread reader_; ///< keeps /dev/log empty, so nobody who logs ever blocks on it
};

} // namespace trunkgate::testing
