#pragma once
// A small HTTP/1.1 receiver on 127.0.0.1 for end-to-end tests of event delivery: it records
// every request it reads and answers as told, including the ways real receivers fail.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace trunkgate::testing {

/// How the receiver treats the requests that come in from now on.
enum class receiver_mode {
    absent,             ///< the port is held but nothing listens: connections are refused
    answer,             ///< reads the request, answers with the configured status
    hang,               ///< reads the request and never answers (until the client gives up)
    close_mid_response, ///< reads the request, sends half a status line, closes the connection
    garbage,            ///< reads the request, answers bytes that are not HTTP, closes
};

struct received_request {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers; ///< names in lower case
    std::string body;
    std::chrono::steady_clock::time_point received_at;
    /// The value of header `name` (any case), "" when absent.
    std::string header(const std::string& name) const;
};

/// One answer given ahead of the mode: `status` after `delay`, or, when `held`, once the test
/// calls release_held() (a test that needs two programs to overlap waits for the second one
/// instead of betting on a delay).
struct planned_answer {
    int status = 200;
    std::chrono::milliseconds delay{0};
    bool held = false;
};

class http_receiver {
  public:
    /// Binds an ephemeral port on 127.0.0.1 (listening unless `mode` is absent) and serves it
    /// from a thread until destruction. Throws std::runtime_error when the socket cannot be made.
    explicit http_receiver(receiver_mode mode = receiver_mode::answer, int status = 200);
    ~http_receiver();
    http_receiver(const http_receiver&) = delete;
    http_receiver& operator=(const http_receiver&) = delete;

    int port() const { return port_; }
    /// http://127.0.0.1:PORT + `path`.
    std::string url(const std::string& path = "/hooks/push") const;

    /// Changes how the next requests are treated; an absent receiver starts listening on the same
    /// port (it cannot go back to absent). Requests already hanging keep hanging.
    void set_mode(receiver_mode mode, int status = 200);
    /// In answer mode, waits this long before each answer; slow answers overlap.
    void set_delay(std::chrono::milliseconds delay);
    /// Answers the next requests with these, in order, whatever the mode; then the mode applies.
    void plan(std::vector<planned_answer> answers);
    /// Lets the held answers go (each once its delay, counted from its request, has passed), and
    /// every held one planned from now on.
    void release_held();

    /// Every request read so far, in arrival order.
    std::vector<received_request> requests() const;
    std::size_t request_count() const;
    /// Waits until at least `count` requests have been read; false when `timeout` passed first.
    bool wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const;
    /// Requests read and not answered yet, whose client is still connected.
    std::size_t in_flight() const;
    /// The largest number of requests that were in flight at the same time.
    std::size_t max_in_flight() const;

  private:
    struct connection;
    void serve();
    void wake() const;
    void handle_request(connection& client, received_request request);
    bool still_held(connection& client);
    void answer_due(connection& client, std::chrono::steady_clock::time_point now);
    void finish_in_flight(connection& client);

    int port_ = 0;
    int listen_fd_ = -1;
    int wake_fds_[2] = {-1, -1};
    mutable std::mutex mutex_;
    mutable std::condition_variable arrived_;
    receiver_mode mode_;
    int status_;
    std::chrono::milliseconds delay_{0};
    std::deque<planned_answer> planned_;
    bool held_released_ = false;
    bool listening_ = false;
    bool stopping_ = false;
    std::vector<received_request> requests_;
    std::size_t in_flight_ = 0;
    std::size_t max_in_flight_ = 0;
    std::vector<std::unique_ptr<connection>> connections_; ///< only the serving thread touches
    std::thread thread_;
};

/// A TCP port on 127.0.0.1 that nothing was bound to a moment ago (for programs that bind their
/// own). Throws std::runtime_error.
int unused_port();

/// Polls until something accepts connections on 127.0.0.1:`port`; false after `timeout`.
bool wait_for_port(int port, std::chrono::milliseconds timeout);

/// "sha256=" + the hex HMAC-SHA256 of `body` keyed with `secret`, as X-Hub-Signature-256 carries
/// it, or with "sha1" as X-Hub-Signature does (computed with OpenSSL here, independently of the
/// code under test).
std::string hub_signature(const std::string& secret, const std::string& body,
                          const std::string& algorithm = "sha256");

} // namespace trunkgate::testing
