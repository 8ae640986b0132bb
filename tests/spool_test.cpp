// The spool's staging: a push's deliveries reach queue/ all or none, a publish that stops
// part-way says exactly how many made it, and what a killed hook leaves behind is queued or
// reported, never silently lost.
#include <catch2/catch.hpp>

#include <filesystem>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "support/sandbox.hpp"
#include "trunkgate/delivery.hpp"
#include "trunkgate/spool.hpp"
#include "trunkgate/system_log.hpp"

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
    CHECK(queue.list("queue").size() == 3);
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
    CHECK(queue.list("queue").empty());
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
    CHECK(queue.list("queue").size() == 2);

    SECTION("the next deliver run queues the rest of the sealed push") {
        const auto lines = queue.recover_staged();
        REQUIRE(lines.size() == 1);
        CHECK_THAT(lines[0], Contains("queued 3 events of push"));
        CHECK(queue.list("queue").size() == 5);
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
    CHECK(queue.list("queue").empty()); // all or none: a partial push is never delivered
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
