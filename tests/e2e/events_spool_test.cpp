// End-to-end: push events at scale and at the edges. A push creating thousands of refs is
// queued whole; a spool on a full filesystem queues none of a push and says so (pusher, events.log,
// system log); a huge commit message or a push over the payload limit is cut to the [events]
// limits, marked, with bounded memory.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <set>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "support/faults.hpp"
#include "support/http_receiver.hpp"
#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using namespace std::chrono_literals;
using Catch::Contains;
using json = nlohmann::json;

namespace {

// A receiver that reads the first request and never answers (timeout 600 s): the push's detached
// deliverer waits on it, so the spool holds still while the test counts. Declare it before the
// sandbox: the sandbox's files go first, and the deliverer then finds nothing more to send.
std::string waiting_events_policy(const http_receiver& receiver, const std::string& extra = "",
                                  const std::string& spool = "") {
    return "[events]\n" + (spool.empty() ? "" : "spool_dir = \"" + spool + "\"\n") + extra +
           "\n[[events.endpoint]]\nurl = \"" + receiver.url() + "\"\ntimeout_ms = 600000\n";
}

std::vector<json> spooled(const std::string& spool_dir, const std::string& area) {
    std::vector<json> entries;
    std::error_code missing;
    for (const auto& file : std::filesystem::directory_iterator(spool_dir + "/" + area, missing)) {
        if (file.path().filename().string()[0] == '.' || file.path().extension() != ".json")
            continue;
        const auto text = read_file(file.path().string());
        if (!text.empty())
            entries.push_back(json::parse(text));
    }
    return entries;
}

std::size_t entries_in(const std::string& dir) {
    std::error_code missing;
    std::size_t count = 0;
    for (const auto& file : std::filesystem::recursive_directory_iterator(dir, missing))
        if (file.path().extension() == ".json")
            ++count;
    return count;
}

// `count` branches refs/heads/many/N in the clone, all at HEAD, made in one git command.
void make_branches(const git_sandbox& sandbox, int count) {
    const auto head = sandbox.clone_rev("HEAD");
    std::string commands;
    for (int i = 0; i < count; ++i)
        commands += "create refs/heads/many/" + std::to_string(i) + " " + head + "\n";
    const auto made =
        run({"git", "update-ref", "--stdin"}, sandbox.clone(), sandbox.environment(), commands);
    INFO(made.all());
    REQUIRE(made.status == 0);
}

bool has_line(const run_result& pushed, const std::string& part) {
    const auto lines = remote_lines(pushed);
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& line) {
        return line.find(part) != std::string::npos;
    });
}

// 80 MiB for a hook handed a 10 MB message (before the limit it took 512 MiB); ASan's shadow
// memory and quarantine add about as much again (149 MiB seen), so a sanitized build gets 200.
#if defined(__SANITIZE_ADDRESS__)
constexpr long peak_rss_limit_kib = 200 * 1024;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr long peak_rss_limit_kib = 200 * 1024;
#else
constexpr long peak_rss_limit_kib = 80 * 1024;
#endif
#else
constexpr long peak_rss_limit_kib = 80 * 1024;
#endif

// Runs trunkgate-post-receive as git would, with `input` on stdin; its exit status and peak RSS.
struct measured_hook {
    int status = -1;
    long max_rss_kib = 0;
    std::string output;
};

measured_hook run_post_receive(const git_sandbox& sandbox, const std::string& input) {
    const auto input_path = sandbox.dir() + "/hook-input";
    const auto output_path = sandbox.dir() + "/hook-output";
    write_file(input_path, input);
    const pid_t child = ::fork();
    if (child == 0) {
        const int in = ::open(input_path.c_str(), O_RDONLY);
        const int out = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0)
            ::_exit(126);
        exec_child({bin_path("trunkgate-post-receive")}, sandbox.server(),
                   sandbox.environment({{"GIT_DIR", sandbox.server()}}));
    }
    measured_hook measured;
    int status = 0;
    rusage usage{};
    if (child < 0 || ::wait4(child, &status, 0, &usage) != child)
        return measured;
    measured.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    measured.max_rss_kib = usage.ru_maxrss;
    measured.output = read_file(output_path);
    return measured;
}

} // namespace

TEST_CASE("events: a push creating 2,000 branches queues all 2,000 events", "[e2e][events]") {
    http_receiver receiver(receiver_mode::hang);
    git_sandbox sandbox;
    sandbox.install(waiting_events_policy(receiver));
    sandbox.commit("feat: first");
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    const auto spool_dir = sandbox.server() + "/trunkgate/spool";
    REQUIRE(wait_until([&] { return entries_in(spool_dir + "/queue") == 1; }, 5s));
    make_branches(sandbox, 2000);

    const auto started = std::chrono::steady_clock::now();
    const auto pushed = sandbox.push({"origin", "refs/heads/many/*:refs/heads/many/*"});
    const auto took = std::chrono::steady_clock::now() - started;
    INFO(pushed.err.substr(0, 2000));
    REQUIRE(pushed.status == 0);
    CHECK(has_line(pushed, "trunkgate: 2000 events queued for 127.0.0.1:"));
    // Every event of the push is in the queue, each once, and nothing is left staged.
    const auto queued = spooled(spool_dir, "queue");
    CHECK(queued.size() == 2001);
    std::set<std::string> refs;
    for (const auto& entry : queued)
        refs.insert(entry["ref"].get<std::string>());
    CHECK(refs.size() == 2001);
    CHECK(entries_in(spool_dir + "/staging") == 0);
    // Before the fix this push took over 100 s; budget generously for a loaded CI machine.
    CHECK(took < 20s);
}

TEST_CASE("events: a spool that fills up queues none of the push and says so", "[e2e][events]") {
    if (::geteuid() != 0)
        FAIL("this test mounts a small tmpfs as the spool and needs root (CI runs as root); run "
             "it as root, e.g. through scripts/test");
    http_receiver receiver(receiver_mode::hang);
    git_sandbox sandbox;
    const auto spool_dir = sandbox.dir() + "/full-spool";
    tmpfs_mount full(spool_dir, "192k"); // about 40 entries of 4 KiB pages
    sandbox.install(waiting_events_policy(receiver, "", spool_dir));
    sandbox.commit("feat: first");
    make_branches(sandbox, 300);
    system_log_listener system_log;

    const auto pushed = sandbox.push({"origin", "main", "refs/heads/many/*:refs/heads/many/*"});
    INFO(pushed.all().substr(0, 3000));
    // The refs moved (post-receive cannot undo a push) ...
    REQUIRE(pushed.status == 0);
    CHECK(sandbox.server_rev("refs/heads/many/299") == sandbox.clone_rev("HEAD"));
    // ... none of its events were queued, the staged ones are gone, and the pusher was told.
    CHECK(entries_in(spool_dir + "/queue") == 0);
    CHECK(entries_in(spool_dir + "/staging") == 0);
    CHECK(has_line(pushed, "trunkgate: push events were NOT queued (none of the 301 refs)"));
    CHECK(has_line(pushed, "No space left on device"));
    CHECK_FALSE(has_line(pushed, "events queued for"));
    // The loss is on record on the server: events.log (room again once the staged entries went)
    // and the system log.
    CHECK_THAT(read_file(spool_dir + "/events.log"),
               Contains("push events NOT queued for " + sandbox.server()));
    CHECK_THAT(read_file(spool_dir + "/events.log"), Contains("(301 refs)"));
    if (system_log.available()) {
        // Waits for this message, not for any: /dev/log also gets other programs' messages.
        const auto logged = system_log.find("push events NOT queued for " + sandbox.server(), 10s);
        CHECK_THAT(logged, Contains("trunkgate["));
        CHECK_THAT(logged, Contains("(301 refs)"));
    } else {
        WARN("not checked here (the unit tests check it): " << system_log.why());
    }
}

TEST_CASE("events: a long commit message is cut on a UTF-8 boundary and marked", "[e2e][events]") {
    http_receiver receiver(receiver_mode::hang);
    git_sandbox sandbox;
    sandbox.install(waiting_events_policy(receiver));
    // "x" then 10 MB of two-byte characters: byte 65,536 falls inside one of them.
    std::string message = "x";
    for (int i = 0; i < 5'000'000; ++i)
        message += "\xc3\xa9";
    write_file(sandbox.dir() + "/message", message);
    const auto made =
        sandbox.git({"commit", "-q", "--allow-empty", "-F", sandbox.dir() + "/message"});
    REQUIRE(made.status == 0);
    const auto tip = sandbox.clone_rev("HEAD");
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    const auto spool_dir = sandbox.server() + "/trunkgate/spool";
    const auto queued = spooled(spool_dir, "queue");
    REQUIRE(queued.size() == 1);
    const auto body = json::parse(queued[0]["body"].get<std::string>());
    const auto shown = body["commits"][0]["message"].get<std::string>();
    // git ends the message with a newline, which the event leaves out, as GitHub does.
    const std::string marker =
        "\n[trunkgate: message truncated, " + std::to_string(message.size()) + " bytes in full]";
    REQUIRE(shown.size() == 65535 + marker.size());
    CHECK(shown.substr(0, 65535) == message.substr(0, 65535));
    CHECK(shown.substr(65535) == marker);
    CHECK(body["head_commit"]["message"] == shown);
    CHECK(body["head_commit"]["id"] == tip);

    // The hook's peak memory does not grow with the message: the same event built again.
    const auto measured = run_post_receive(sandbox, zero_id + " " + tip + " refs/heads/main\n");
    INFO(measured.output);
    INFO("peak RSS " << measured.max_rss_kib << " KiB");
    CHECK(measured.status == 0);
    CHECK(measured.max_rss_kib < peak_rss_limit_kib);
}

TEST_CASE("events: an event over max_payload_bytes drops its oldest commits and says so",
          "[e2e][events]") {
    http_receiver receiver(receiver_mode::hang);
    git_sandbox sandbox;
    sandbox.install(waiting_events_policy(receiver, "max_payload_bytes = 8192\n"));
    std::vector<std::string> ids;
    for (int i = 0; i < 30; ++i)
        ids.push_back(sandbox.commit("feat: change " + std::to_string(i) + "\n\n" +
                                     std::string(400, 'a' + i % 26)));
    const auto pushed = sandbox.push({"origin", "main"});
    INFO(pushed.all());
    REQUIRE(pushed.status == 0);
    CHECK(has_line(pushed, "trunkgate: the event for refs/heads/main was trimmed to [events] "
                           "max_payload_bytes (8192)"));
    const auto queued = spooled(sandbox.server() + "/trunkgate/spool", "queue");
    REQUIRE(queued.size() == 1);
    const auto text = queued[0]["body"].get<std::string>();
    CHECK(text.size() <= 8192);
    const auto body = json::parse(text);
    // The count is a header: GitHub's schema has no total_commits.
    CHECK(body.count("total_commits") == 0);
    const auto& headers = queued[0]["headers"];
    CHECK(std::find(headers.begin(), headers.end(), "X-Trunkgate-Total-Commits: 30") !=
          headers.end());
    const auto& commits = body["commits"];
    REQUIRE(commits.size() > 0);
    REQUIRE(commits.size() < 30);
    // The newest are kept, oldest first, with no gap.
    const auto first_kept = ids.size() - commits.size();
    for (std::size_t i = 0; i < commits.size(); ++i)
        CHECK(commits[i]["id"] == ids[first_kept + i]);
    CHECK(body["head_commit"]["id"] == ids.back());
    CHECK(
        has_line(pushed, "the " + std::to_string(first_kept) + " oldest listed commits left out"));
}
