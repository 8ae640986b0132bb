#include "support/http_receiver.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace trunkgate::testing {

namespace {

using clock_type = std::chrono::steady_clock;

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::string trim(const std::string& text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos)
        return "";
    return text.substr(first, text.find_last_not_of(" \t\r") + 1 - first);
}

sockaddr_in loopback(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

// A TCP socket bound to 127.0.0.1:`port` (0: any free port), not listening yet.
int bound_socket(int port) {
    // Non-blocking: the serving thread accepts until EAGAIN and must never block in accept.
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    const auto address = loopback(port);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        const std::string reason = std::strerror(errno);
        ::close(fd);
        throw std::runtime_error("bind: " + reason);
    }
    return fd;
}

int bound_port(int fd) {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
        throw std::runtime_error(std::string("getsockname: ") + std::strerror(errno));
    return ntohs(address.sin_port);
}

void send_all(int fd, const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd ready{fd, POLLOUT, 0};
            ::poll(&ready, 1, 1000);
            continue;
        }
        if (n <= 0)
            return; // the client went away; nothing to tell it
        sent += static_cast<std::size_t>(n);
    }
}

std::string reason_phrase(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 403:
        return "Forbidden";
    case 408:
        return "Request Timeout";
    case 410:
        return "Gone";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

// Parses one complete request at the start of `buffer` and removes it; false when more bytes
// are needed.
bool take_request(std::string& buffer, received_request& request) {
    const auto head_end = buffer.find("\r\n\r\n");
    if (head_end == std::string::npos)
        return false;
    std::size_t content_length = 0;
    std::size_t line_start = 0;
    bool first = true;
    while (line_start < head_end) {
        auto line_end = buffer.find("\r\n", line_start);
        const auto line = buffer.substr(line_start, line_end - line_start);
        line_start = line_end + 2;
        if (first) {
            first = false;
            const auto space = line.find(' ');
            request.method = line.substr(0, space);
            const auto target_end = line.find(' ', space + 1);
            request.target = line.substr(space + 1, target_end - space - 1);
            continue;
        }
        const auto colon = line.find(':');
        if (colon == std::string::npos)
            continue;
        const auto name = lower(line.substr(0, colon));
        request.headers[name] = trim(line.substr(colon + 1));
        if (name == "content-length")
            content_length = std::stoul(request.headers[name]);
    }
    const auto body_start = head_end + 4;
    if (buffer.size() < body_start + content_length)
        return false;
    request.body = buffer.substr(body_start, content_length);
    buffer.erase(0, body_start + content_length);
    return true;
}

} // namespace

std::string received_request::header(const std::string& name) const {
    const auto found = headers.find(lower(name));
    return found == headers.end() ? "" : found->second;
}

struct http_receiver::connection {
    int fd = -1;
    std::string buffer;
    bool in_flight = false;      ///< a request was read and is not answered yet
    bool hanging = false;        ///< never answered; input is ignored until the client closes
    bool answer_pending = false; ///< answered at answer_at with answer_status
    bool held = false;           ///< not before release_held() either
    clock_type::time_point answer_at;
    int answer_status = 200;
};

http_receiver::http_receiver(receiver_mode mode, int status) : mode_(mode), status_(status) {
    listen_fd_ = bound_socket(0);
    port_ = bound_port(listen_fd_);
    if (::pipe2(wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
        ::close(listen_fd_);
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    if (mode != receiver_mode::absent) {
        if (::listen(listen_fd_, 64) != 0)
            throw std::runtime_error(std::string("listen: ") + std::strerror(errno));
        listening_ = true;
    }
    thread_ = std::thread([this] { serve(); });
}

http_receiver::~http_receiver() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake();
    thread_.join();
    for (const auto& client : connections_)
        ::close(client->fd);
    ::close(listen_fd_);
    ::close(wake_fds_[0]);
    ::close(wake_fds_[1]);
}

std::string http_receiver::url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void http_receiver::wake() const {
    const char byte = 1;
    [[maybe_unused]] const auto ignored = ::write(wake_fds_[1], &byte, 1);
}

void http_receiver::set_mode(receiver_mode mode, int status) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (mode == receiver_mode::absent && listening_)
            throw std::logic_error("a listening receiver cannot become absent");
        if (mode != receiver_mode::absent && !listening_) {
            // Listening from this thread, before returning: the next client must find it.
            if (::listen(listen_fd_, 64) != 0)
                throw std::runtime_error(std::string("listen: ") + std::strerror(errno));
            listening_ = true;
        }
        mode_ = mode;
        status_ = status;
    }
    wake();
}

void http_receiver::set_delay(std::chrono::milliseconds delay) {
    std::lock_guard<std::mutex> lock(mutex_);
    delay_ = delay;
}

void http_receiver::plan(std::vector<planned_answer> answers) {
    std::lock_guard<std::mutex> lock(mutex_);
    planned_.assign(answers.begin(), answers.end());
}

void http_receiver::release_held() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        held_released_ = true;
    }
    wake();
}

std::vector<received_request> http_receiver::requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
}

std::size_t http_receiver::request_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_.size();
}

bool http_receiver::wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mutex_);
    return arrived_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
}

std::size_t http_receiver::in_flight() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return in_flight_;
}

std::size_t http_receiver::max_in_flight() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return max_in_flight_;
}

void http_receiver::finish_in_flight(connection& client) {
    if (!client.in_flight)
        return;
    client.in_flight = false;
    std::lock_guard<std::mutex> lock(mutex_);
    --in_flight_;
}

void http_receiver::handle_request(connection& client, received_request request) {
    receiver_mode mode;
    planned_answer answer;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        mode = mode_;
        answer = {status_, delay_};
        if (!planned_.empty()) {
            mode = receiver_mode::answer;
            answer = planned_.front();
            planned_.pop_front();
        }
        request.received_at = clock_type::now();
        requests_.push_back(std::move(request));
        max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
    }
    client.in_flight = true;
    arrived_.notify_all();
    switch (mode) {
    case receiver_mode::absent: // not listening: no request can come in
    case receiver_mode::answer:
        client.answer_pending = true;
        client.answer_status = answer.status;
        client.answer_at = clock_type::now() + answer.delay;
        client.held = answer.held;
        break;
    case receiver_mode::hang:
        client.hanging = true;
        break;
    case receiver_mode::close_mid_response:
        // Cut inside the status line, so no status came back at all. (Cut after "200 OK" and
        // part of a header, libcurl takes the close as the end of a complete 200 answer.)
        send_all(client.fd, "HTTP/1.1 20");
        finish_in_flight(client);
        ::shutdown(client.fd, SHUT_RDWR);
        break;
    case receiver_mode::garbage:
        send_all(client.fd, "SSH-2.0-OpenSSH_9.2p1 this is not HTTP\r\n\r\n\x01\x02\x03");
        finish_in_flight(client);
        ::shutdown(client.fd, SHUT_RDWR);
        break;
    }
}

bool http_receiver::still_held(connection& client) {
    if (!client.held)
        return false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!held_released_)
            return true;
    }
    client.held = false;
    return false;
}

void http_receiver::answer_due(connection& client, clock_type::time_point now) {
    if (!client.answer_pending || still_held(client) || client.answer_at > now)
        return;
    client.answer_pending = false;
    const std::string body = "ok\n";
    send_all(client.fd, "HTTP/1.1 " + std::to_string(client.answer_status) + " " +
                            reason_phrase(client.answer_status) +
                            "\r\nContent-Type: text/plain\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n" + body);
    finish_in_flight(client);
    // Keep-alive: a pipelined next request may already be buffered.
    received_request next;
    if (take_request(client.buffer, next))
        handle_request(client, std::move(next));
}

void http_receiver::serve() {
    for (;;) {
        bool listening;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_)
                return;
            listening = listening_;
        }
        std::vector<pollfd> fds{{wake_fds_[0], POLLIN, 0}};
        if (listening)
            fds.push_back({listen_fd_, POLLIN, 0});
        const std::size_t first_client = fds.size();
        int timeout_ms = -1;
        const auto now = clock_type::now();
        for (const auto& client : connections_) {
            fds.push_back({client->fd, POLLIN, 0});
            if (client->answer_pending && !client->held) {
                const auto wait =
                    std::chrono::duration_cast<std::chrono::milliseconds>(client->answer_at - now)
                        .count();
                const int clamped = static_cast<int>(std::max<long long>(0, wait) + 1);
                timeout_ms = timeout_ms < 0 ? clamped : std::min(timeout_ms, clamped);
            }
        }
        if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR)
            return;
        if (fds[0].revents) {
            char drain[64];
            while (::read(wake_fds_[0], drain, sizeof drain) > 0) {
            }
        }
        std::vector<std::unique_ptr<connection>> accepted;
        if (listening && fds[1].revents) {
            for (int fd; (fd = ::accept4(listen_fd_, nullptr, nullptr,
                                         SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0;) {
                accepted.push_back(std::make_unique<connection>());
                accepted.back()->fd = fd;
            }
        }
        for (std::size_t i = 0; i < connections_.size(); ++i) {
            auto& client = *connections_[i];
            if (fds[first_client + i].revents) {
                char buffer[65536];
                const ssize_t n = ::recv(client.fd, buffer, sizeof buffer, 0);
                if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
                    finish_in_flight(client);
                    ::close(client.fd);
                    client.fd = -1;
                    continue;
                }
                if (n > 0 && !client.hanging) {
                    client.buffer.append(buffer, static_cast<std::size_t>(n));
                    received_request request;
                    if (!client.in_flight && take_request(client.buffer, request))
                        handle_request(client, std::move(request));
                }
            }
            answer_due(client, clock_type::now());
        }
        connections_.erase(std::remove_if(connections_.begin(), connections_.end(),
                                          [](const auto& client) { return client->fd < 0; }),
                           connections_.end());
        for (auto& client : accepted)
            connections_.push_back(std::move(client));
    }
}

int unused_port() {
    const int fd = bound_socket(0);
    const int port = bound_port(fd);
    ::close(fd);
    return port;
}

bool wait_for_port(int port, std::chrono::milliseconds timeout) {
    const auto deadline = clock_type::now() + timeout;
    do {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const auto address = loopback(port);
        const bool connected = fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&address),
                                                    sizeof address) == 0;
        if (fd >= 0)
            ::close(fd);
        if (connected)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } while (clock_type::now() < deadline);
    return false;
}

std::string hub_signature(const std::string& secret, const std::string& body,
                          const std::string& algorithm) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    const EVP_MD* kind = EVP_get_digestbyname(algorithm.c_str());
    if (!kind ||
        !HMAC(kind, secret.data(), static_cast<int>(secret.size()),
              reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length))
        throw std::runtime_error("HMAC-" + algorithm + " failed");
    static const char hex[] = "0123456789abcdef";
    std::string text = algorithm + "=";
    for (unsigned int i = 0; i < length; ++i) {
        text += hex[digest[i] >> 4];
        text += hex[digest[i] & 0x0F];
    }
    return text;
}

} // namespace trunkgate::testing
