#pragma once
// Helpers for the end-to-end tests of the gates and of the pipeline loop, beyond sandbox.hpp and
// http_receiver.hpp: a combined-status API that answers with a JSON body as told (good, slow, an
// error status, garbage), or per request through a route (paths, queries and headers such as
// Link and Location, as GitHub pages and redirects), and a program run in a process group of its
// own, so that killing it also ends what it started (webhook's CI runs).
//
// Header-only: the test-support library lists its sources by name in tests/CMakeLists.txt, and
// these helpers serve only the two e2e files that include them.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/sandbox.hpp"

namespace trunkgate::testing::gates {

/// The environment a push needs to come from `identity` (TRUNKGATE_USER).
inline std::map<std::string, std::string> as(const std::string& identity) {
    return {{"TRUNKGATE_USER", identity}};
}

/// The 7-character abbreviation trunkgate shows.
inline std::string short_id(const std::string& sha) {
    return sha.substr(0, 7);
}

namespace detail {

inline sockaddr_in loopback(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

inline std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

inline void send_all(int fd, const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; // the client gave up (a timeout): nothing left to tell it
        sent += static_cast<std::size_t>(n);
    }
}

inline const char* reason_phrase(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 404:
        return "Not Found";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

} // namespace detail

/// How the status API answers the requests that come in from now on.
struct status_answer {
    int status = 200;
    std::string body;                   ///< the response body (or, when `raw`, every byte sent)
    std::chrono::milliseconds delay{0}; ///< waited before answering
    bool raw = false;                   ///< send `body` as is: no status line, no headers
    std::vector<std::string> headers{}; ///< more header lines, "Link: <...>; rel=\"next\""
};

/// One request the status API read.
struct status_request {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers; ///< names in lower case
    /// The value of header `name` (any case), "" when absent.
    std::string header(const std::string& name) const {
        const auto found = headers.find(detail::lower(name));
        return found == headers.end() ? "" : found->second;
    }
};

/// What the status API answers to one request.
using status_route = std::function<status_answer(const status_request&)>;

/// A GitHub/Gitea-style combined-status API on 127.0.0.1 (ephemeral port): every GET is answered
/// with the configured answer (or what the route returns for it), each connection on its own thread
/// so a slow answer never delays the next request. Stops (interrupting slow answers) on
/// destruction.
class status_api {
  public:
    /// Throws std::runtime_error when the socket cannot be made.
    status_api() {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        auto address = detail::loopback(0);
        socklen_t length = sizeof address;
        if (listen_fd_ < 0 ||
            ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(listen_fd_, 16) != 0 ||
            ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
            ::pipe2(wake_fds_, O_CLOEXEC) != 0) {
            const std::string problem = std::strerror(errno);
            close_fds();
            throw std::runtime_error("cannot start the status API: " + problem);
        }
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { serve(); });
    }

    ~status_api() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        changed_.notify_all();
        [[maybe_unused]] const auto woken = ::write(wake_fds_[1], "x", 1);
        thread_.join();
        for (auto& worker : workers_)
            worker.join();
        close_fds();
    }
    status_api(const status_api&) = delete;
    status_api& operator=(const status_api&) = delete;

    int port() const { return port_; }

    /// The URL template for [checks.http] url.
    std::string url_template() const {
        return "http://127.0.0.1:" + std::to_string(port_) +
               "/repos/{owner}/{repo}/commits/{sha}/status";
    }

    void answer(status_answer next) {
        std::lock_guard<std::mutex> lock(mutex_);
        answer_ = std::move(next);
    }

    /// From now on each request is answered with what `route` returns for it (called under the
    /// API's lock, one request at a time).
    void route(status_route route) {
        std::lock_guard<std::mutex> lock(mutex_);
        route_ = std::move(route);
    }

    /// http://127.0.0.1:PORT
    std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }

    std::vector<status_request> requests() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return requests_;
    }

  private:
    void close_fds() {
        for (int* fd : {&listen_fd_, &wake_fds_[0], &wake_fds_[1]})
            if (*fd >= 0) {
                ::close(*fd);
                *fd = -1;
            }
    }

    void serve() {
        for (;;) {
            pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fds_[0], POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0 && errno != EINTR)
                return;
            if (fds[1].revents)
                return;
            if (!(fds[0].revents & POLLIN))
                continue;
            const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client >= 0)
                workers_.emplace_back([this, client] { handle(client); });
        }
    }

    void handle(int client) {
        const timeval patience{2, 0};
        ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
        std::string text;
        char buffer[4096];
        while (text.find("\r\n\r\n") == std::string::npos) {
            const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
            if (n <= 0)
                break;
            text.append(buffer, static_cast<std::size_t>(n));
        }
        const auto request = record(text);
        status_answer reply;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            reply = route_ ? route_(request) : answer_;
            changed_.wait_for(lock, reply.delay, [this] { return stopping_; });
            if (stopping_) {
                ::close(client);
                return;
            }
        }
        if (reply.raw) {
            detail::send_all(client, reply.body);
        } else {
            detail::send_all(client, "HTTP/1.1 " + std::to_string(reply.status) + " " +
                                         detail::reason_phrase(reply.status) +
                                         "\r\nContent-Type: application/json\r\n" +
                                         extra_headers(reply) +
                                         "Content-Length: " + std::to_string(reply.body.size()) +
                                         "\r\nConnection: close\r\n\r\n" + reply.body);
        }
        ::shutdown(client, SHUT_WR);
        ::close(client);
    }

    static std::string extra_headers(const status_answer& reply) {
        std::string lines;
        for (const auto& header : reply.headers)
            lines += header + "\r\n";
        return lines;
    }

    status_request record(const std::string& text) {
        status_request request;
        std::istringstream lines(text.substr(0, text.find("\r\n\r\n")));
        std::string line;
        if (std::getline(lines, line)) {
            std::istringstream words(line);
            words >> request.method >> request.target;
        }
        while (std::getline(lines, line)) {
            if (!line.empty() && line.back() == '\r')
                line.pop_back();
            const auto colon = line.find(':');
            if (colon == std::string::npos)
                continue;
            auto value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            request.headers[detail::lower(line.substr(0, colon))] = value;
        }
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(request);
        return request;
    }

    int port_ = 0;
    int listen_fd_ = -1;
    int wake_fds_[2] = {-1, -1};
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    bool stopping_ = false;
    status_answer answer_;
    status_route route_;
    std::vector<status_request> requests_;
    std::vector<std::thread> workers_; ///< only the serving thread adds; joined after it ends
    std::thread thread_;
};

/// A program started in the background in a process group of its own, stdout and stderr going
/// to `output_path`. Unlike background_process (sandbox.hpp), destruction kills the whole group
/// with SIGKILL, the program and everything it started, then reaps the program: a test that fails
/// while webhook runs a CI job leaves neither behind.
class process_group {
  public:
    /// Starts argv[0] (searched in PATH) in `cwd` with `env` added to this process's environment.
    /// Throws std::runtime_error when it cannot fork.
    process_group(const std::vector<std::string>& argv, const std::string& cwd,
                  const std::map<std::string, std::string>& env, const std::string& output_path) {
        pid_ = ::fork();
        if (pid_ < 0)
            throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
        if (pid_ == 0) {
            ::setpgid(0, 0);
            exec_child_logged(argv, cwd, env, output_path);
        }
        // Also here, so the group exists before the constructor returns whoever runs first.
        ::setpgid(pid_, pid_);
    }
    ~process_group() { stop(); }
    process_group(const process_group&) = delete;
    process_group& operator=(const process_group&) = delete;

    /// True while the program has not ended.
    bool running() {
        if (pid_ < 0)
            return false;
        if (reaped_)
            return false;
        int status = 0;
        reaped_ = ::waitpid(pid_, &status, WNOHANG) == pid_;
        return !reaped_;
    }

    /// Kills the group and reaps the program (once).
    void stop() {
        if (pid_ < 0)
            return;
        ::kill(-pid_, SIGKILL); // what it started may outlive it: the group goes too
        int status = 0;
        while (!reaped_ && ::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }

  private:
    int pid_ = -1;
    bool reaped_ = false;
};

} // namespace trunkgate::testing::gates
