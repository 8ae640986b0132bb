// The spool's staging: a push's deliveries reach queue/ all or none, a publish that stops
// part-way says exactly how many made it, and what a killed hook leaves behind is queued or
// reported, never silently lost. An entry that cannot be read, parsed or locked is listed and
// reported with the reason, never taken for gone, and never stops the others.
#include <catch2/catch.hpp>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <grp.h>
#include <map>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "support/sandbox.hpp"
#include "support/users.hpp"
#include "trunkgate/events/delivery.hpp"
#include "trunkgate/events/spool.hpp"
#include "trunkgate/util/system_log.hpp"

using namespace trunkgate;
using Catch::Contains;

namespace {

spool_entry entry_for(const std::string& ref, std::int64_t order) {
    spool_entry entry;
    entry.id = new_uuid();
    entry.ref = ref;
    entry.url = "http://127.0.0.1:9/hooks";
    entry.body = "{\"ref\":\"" + ref + "\"}";
    entry.created_at = 1;
    entry.order = order;
    return entry;
}

std::size_t files_in(const std::string& dir) {
    std::error_code missing;
    std::size_t count = 0;
    for (const auto& file : std::filesystem::directory_iterator(dir, missing))
        if (file.path().extension() == ".json")
            ++count;
    return count;
}

// Answers every POST with `status` and records the bodies in the order they were sent.
class recording_client final : public http_client {
  public:
    explicit recording_client(long status = 200) : status_(status) {}
    http_response post(const http_request& request) override {
        bodies.push_back(request.body);
        return {status_, "", ""};
    }
    http_response get(const http_request&) override { return {}; }
    std::vector<std::string> bodies;

  private:
    long status_;
};

// An entry in queue/, due now.
spool_entry queued_entry(const spool& queue, const std::string& ref, std::int64_t order) {
    auto entry = entry_for(ref, order);
    entry.created_at = static_cast<std::int64_t>(std::time(nullptr));
    entry.next_try = entry.created_at;
    queue.add(entry);
    return entry;
}

bool has_line_with(const std::vector<std::string>& lines, const std::string& start,
                   const std::string& part) {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& line) {
        return line.rfind(start, 0) == 0 && line.find(part) != std::string::npos;
    });
}

// Captures system_log() lines for the lifetime of the object.
struct captured_system_log {
    std::vector<std::pair<int, std::string>> lines;
    captured_system_log() {
        set_system_log_sink(
            [this](int priority, const std::string& line) { lines.emplace_back(priority, line); });
    }
    ~captured_system_log() { set_system_log_sink({}); }
};

} // namespace

TEST_CASE("spool: a staged push is published into queue/ whole", "[spool]") {
    testing::temp_dir dir;
    const spool queue(dir / "spool");
    std::vector<std::string> ids;
    {
        staged_push staged(queue, 3);
        for (int i = 0; i < 3; ++i) {
            const auto entry = entry_for("refs/heads/b" + std::to_string(i), i);
            staged.add(entry);
            ids.push_back(entry.id);
        }
        CHECK(files_in(queue.dir() + "/queue") == 0); // nothing visible before the publish
        staged.seal();
        const auto result = staged.publish();
        CHECK(result.problem.empty());
        CHECK(result.left == 0);
        CHECK(result.published == ids);
    }
    CHECK(queue.list("queue").entries.size() == 3);
    CHECK(std::filesystem::is_empty(queue.dir() + "/staging"));
}

TEST_CASE("spool: a push that fails while staging leaves nothing behind", "[spool]") {
    testing::temp_dir dir;
    const spool queue(dir / "spool");
    {
        staged_push staged(queue, 2);
        staged.add(entry_for("refs/heads/a", 0));
        // As a hook does when building or writing the next event fails.
        staged.discard();
    }
    {
        staged_push staged(queue, 2);
        staged.add(entry_for("refs/heads/a", 0));
    } // destroyed unsealed (an exception unwinding): discarded too
    CHECK(queue.list("queue").entries.empty());
    CHECK(std::filesystem::is_empty(queue.dir() + "/staging"));
}

TEST_CASE("spool: a publish that stops part-way reports exactly what was queued", "[spool]") {
    testing::temp_dir dir;
    const spool queue(dir / "spool");
    captured_system_log system_lines;
    int renames = 0;
    set_publish_rename([&](const char* from, const char* to) {
        if (++renames > 2) {
            errno = ENOSPC;
            return -1;
        }
        return ::rename(from, to);
    });
    publish_result result;
    {
        staged_push staged(queue, 5);
        for (int i = 0; i < 5; ++i)
            staged.add(entry_for("refs/heads/b" + std::to_string(i), i));
        staged.seal();
        result = staged.publish();
    }
    set_publish_rename({});
    CHECK(result.published.size() == 2);
    CHECK(result.left == 3);
    CHECK_THAT(result.problem, Contains("No space left on device"));
    CHECK(queue.list("queue").entries.size() == 2);

    SECTION("the next deliver run queues the rest of the sealed push") {
        const auto lines = queue.recover_staged();
        REQUIRE(lines.size() == 1);
        CHECK_THAT(lines[0], Contains("queued 3 events of push"));
        CHECK(queue.list("queue").entries.size() == 5);
        CHECK(std::filesystem::is_empty(queue.dir() + "/staging"));
        CHECK(system_lines.lines.empty());     // nothing was lost
        CHECK(queue.recover_staged().empty()); // safe to run twice
    }
}

TEST_CASE("spool: a hook killed while staging leaves a reported, abandoned area", "[spool]") {
    testing::temp_dir dir;
    const spool queue(dir / "spool");
    captured_system_log system_lines;
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // Stage two of four refs' deliveries, then die without unwinding, as kill -9 would.
        staged_push staged(queue, 4);
        staged.add(entry_for("refs/heads/a", 0));
        staged.add(entry_for("refs/heads/b", 1));
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(files_in(queue.dir() + "/queue") == 0);

    const auto lines = queue.recover_staged();
    REQUIRE(lines.size() == 1);
    CHECK_THAT(lines[0], Contains("interrupted while its events were being staged"));
    CHECK_THAT(lines[0], Contains("2 deliveries staged for 4 refs, none queued"));
    REQUIRE(system_lines.lines.size() == 1);
    CHECK(system_lines.lines[0].first == LOG_ERR);
    CHECK_THAT(system_lines.lines[0].second, Contains(queue.dir()));
    const auto abandoned = queue.abandoned();
    REQUIRE(abandoned.size() == 1);
    CHECK(abandoned[0].second == 2);
    CHECK(queue.list("queue").entries.empty()); // all or none: a partial push is never delivered
    CHECK_THAT(testing::read_file(queue.dir() + "/events.log"), Contains("none queued"));
    CHECK(queue.recover_staged().empty());
}

TEST_CASE("spool: a live hook's staging area is left alone", "[spool]") {
    testing::temp_dir dir;
    const spool queue(dir / "spool");
    staged_push staged(queue, 1);
    staged.add(entry_for("refs/heads/a", 0));
    // Another process (a deliver run) must not take it while this one holds the lock; flock
    // locks of one process do not conflict, so ask from a child.
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0)
        ::_exit(queue.recover_staged().empty() && queue.abandoned().empty() ? 0 : 1);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("delivery: a push that cannot be queued is recorded in the system log", "[spool]") {
    testing::temp_dir dir;
    captured_system_log system_lines;
    record_unqueued(dir / "spool-that-is-missing", "/srv/git/project.git/", 2000,
                    "cannot write x: No space left on device");
    record_unqueued(dir.path(), "/srv/git/project.git/", 1, "cannot create y: Permission denied");
    REQUIRE(system_lines.lines.size() == 2);
    CHECK(system_lines.lines[0].first == LOG_ERR);
    CHECK(system_lines.lines[0].second ==
          "push events NOT queued for /srv/git/project.git/ (2000 refs): cannot write x: No space "
          "left on device");
    CHECK_THAT(system_lines.lines[1].second, Contains("(1 ref)"));
    CHECK_THAT(testing::read_file(dir / "events.log"),
               Contains("push events NOT queued for /srv/git/project.git/ (1 ref)"));
}

TEST_CASE("spool: entries that cannot be read, parsed or locked are reported, never skipped",
          "[spool]") {
    testing::temp_dir dir;
    const spool queue(dir / "spool");
    const auto first = queued_entry(queue, "refs/heads/first", 1);
    const auto directory = queued_entry(queue, "refs/heads/directory", 2);
    const auto corrupt = queued_entry(queue, "refs/heads/corrupt", 3);
    const auto unlockable = queued_entry(queue, "refs/heads/unlockable", 4);
    const auto last = queued_entry(queue, "refs/heads/last", 5);
    // Real faults, which root cannot read past either: a directory where the entry should be
    // (EISDIR), JSON cut short, and a lock file that is a symbolic link to itself (ELOOP).
    const auto queue_dir = queue.dir() + "/queue/";
    std::filesystem::remove(queue_dir + directory.id + ".json");
    std::filesystem::create_directory(queue_dir + directory.id + ".json");
    testing::write_file(queue_dir + corrupt.id + ".json", "{\"id\": \"" + corrupt.id);
    std::filesystem::create_symlink(unlockable.id + ".lock", queue_dir + unlockable.id + ".lock");

    SECTION("listed with the reason, and the rest in queue order") {
        const auto listing = queue.list("queue");
        REQUIRE(listing.entries.size() == 2);
        CHECK(listing.entries[0].id == first.id);
        CHECK(listing.entries[1].id == last.id);
        REQUIRE(listing.unreadable.size() == 3);
        std::map<std::string, std::string> reasons;
        for (const auto& bad : listing.unreadable) {
            CHECK(bad.area == "queue");
            reasons[bad.id] = bad.reason;
        }
        CHECK(reasons[directory.id] == "Is a directory");
        CHECK_THAT(reasons[corrupt.id],
                   Contains("malformed spool entry: not JSON: [json.exception.parse_error.101]"));
        CHECK(reasons[unlockable.id] == "cannot open its lock file queue/" + unlockable.id +
                                            ".lock: Too many levels of symbolic links");
    }

    SECTION("a delivery run sends the others in order and reports each bad one") {
        recording_client client;
        delivery_options options;
        options.now = static_cast<std::int64_t>(std::time(nullptr));
        const auto report = deliver_due(
            queue, client, [](const std::string&) { return std::nullopt; }, options);
        CHECK(report.delivered == 2);
        CHECK(report.unreadable == 3);
        REQUIRE(client.bodies.size() == 2);
        CHECK(client.bodies[0] == first.body);
        CHECK(client.bodies[1] == last.body);
        CHECK(has_line_with(report.lines, "unreadable " + directory.id + ": ", "Is a directory"));
        CHECK(has_line_with(report.lines, "unreadable " + corrupt.id + ": ",
                            "[json.exception.parse_error.101]"));
        CHECK(has_line_with(report.lines, "unreadable " + unlockable.id + ": ",
                            "Too many levels of symbolic links"));
        const auto log = testing::read_file(queue.dir() + "/events.log");
        for (const auto& id : {directory.id, corrupt.id, unlockable.id})
            CHECK_THAT(log, Contains("unreadable queue/" + id + ".json: "));
        // Nothing deleted or moved: each is still where it was, for an admin to look at.
        CHECK(std::filesystem::is_directory(queue_dir + directory.id + ".json"));
        CHECK(std::filesystem::exists(queue_dir + corrupt.id + ".json"));
        CHECK(std::filesystem::exists(queue_dir + unlockable.id + ".json"));
        CHECK(std::filesystem::is_symlink(queue_dir + unlockable.id + ".lock"));
        CHECK(queue.list("delivered").entries.size() == 2);
    }

    SECTION("a lock that fails between listing and claiming is reported, not thrown") {
        std::filesystem::remove(queue_dir + unlockable.id + ".lock");
        CHECK(queue.claim(unlockable.id).has_value()); // lockable now; released at once
        std::filesystem::remove(queue_dir + unlockable.id + ".lock");
        std::filesystem::create_symlink(unlockable.id + ".lock",
                                        queue_dir + unlockable.id + ".lock");
        CHECK_THROWS_AS(queue.claim(unlockable.id), entry_error);
        CHECK_THROWS_WITH(queue.claim(corrupt.id), Contains("malformed spool entry"));
        CHECK_FALSE(queue.claim(new_uuid()).has_value()); // gone: only ENOENT means that
    }
}

TEST_CASE("spool: an entry its reader may not open is unreadable, with owner and mode", "[spool]") {
    if (::geteuid() != 0)
        FAIL("this test leaves a file that another user may not read and reads it as that user: "
             "run it as root (CI does)");
    testing::temp_dir dir;
    const spool queue(dir / "spool");
    const auto readable = queued_entry(queue, "refs/heads/readable", 1);
    const auto root_only = queued_entry(queue, "refs/heads/root-only", 2);
    // As `trunkgate deliver` run once by root leaves an entry on a repository served by another
    // user: root:root 0640. Everything else is open to the reader.
    for (const auto& path : {dir.path(), queue.dir(), queue.dir() + "/queue"})
        ::chmod(path.c_str(), 0755);
    ::chmod((queue.dir() + "/queue/" + readable.id + ".json").c_str(), 0644);
    ::chmod((queue.dir() + "/queue/" + root_only.id + ".json").c_str(), 0640);
    const passwd* reader = ::getpwnam(testing::ensure_user("nobody").c_str());
    REQUIRE(reader != nullptr);
    const uid_t reader_uid = reader->pw_uid;
    const gid_t reader_gid = reader->pw_gid;
    int answer[2];
    REQUIRE(::pipe(answer) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(answer[0]);
        if (::setgroups(0, nullptr) != 0 || ::setgid(reader_gid) != 0 || ::setuid(reader_uid) != 0)
            ::_exit(2);
        std::string report;
        try {
            const auto listing = queue.list("queue");
            for (const auto& entry : listing.entries)
                report += "entry " + entry.id + "\n";
            for (const auto& bad : listing.unreadable)
                report += "unreadable " + bad.id + ": " + bad.reason + "\n";
        } catch (const std::exception& e) {
            report += std::string("threw ") + e.what() + "\n";
        }
        [[maybe_unused]] const auto written = ::write(answer[1], report.data(), report.size());
        ::_exit(0);
    }
    ::close(answer[1]);
    std::string report;
    char buffer[4096];
    for (ssize_t n; (n = ::read(answer[0], buffer, sizeof buffer)) > 0;)
        report.append(buffer, static_cast<std::size_t>(n));
    ::close(answer[0]);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    CHECK(report == "entry " + readable.id + "\nunreadable " + root_only.id +
                        ": Permission denied (owner root, mode 0640, read as nobody" +
                        "; run as the repository's owner)\n");
}
