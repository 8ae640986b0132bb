// Files that must never be half-written: the audit log's records and write_durably's targets.
#include <catch2/catch.hpp>

#include <cerrno>
#include <dirent.h>
#include <unistd.h>

#include "support/sandbox.hpp"
#include "trunkgate/gate/audit.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/files.hpp"

using namespace trunkgate;
using Catch::Contains;
using trunkgate::testing::temp_dir;
using trunkgate::testing::write_file;

namespace {

std::string record(const std::string& time, const std::string& identity) {
    return R"({"time":")" + time + R"(","identity":")" + identity +
           R"(","decision":"accept","refs":[{"ref":"refs/heads/main","old":"a","new":"b"}],)"
           R"("findings":[],"bypass_reason":null,"policy":"trunkgate.toml"})";
}

std::size_t open_descriptors() {
    std::size_t count = 0;
    DIR* dir = ::opendir("/proc/self/fd");
    REQUIRE(dir != nullptr);
    while (const dirent* item = ::readdir(dir))
        count += item->d_name[0] != '.';
    ::closedir(dir);
    return count;
}

int failing_fsync(int) {
    errno = EIO;
    return -1;
}

} // namespace

TEST_CASE("audit: a torn last line stays its own damaged line, the next record is whole",
          "[audit]") {
    temp_dir repo;
    const auto git_dir = repo.path() + "/";
    write_file(git_dir + "trunkgate/audit.log",
               record("2026-11-30T10:00:00+00:00", "alice") + "\n" +
                   R"({"time":"2026-11-30T10:01:00+00:00","identity":"bo)");
    append_audit(git_dir, record("2026-11-30T10:02:00+00:00", "carol"));

    const auto log = read_audit(git_dir, 0);
    REQUIRE(log.records.size() == 2);
    CHECK_THAT(log.records[0], Contains("alice"));
    CHECK_THAT(log.records[1], Contains("carol"));
    REQUIRE(log.damaged.size() == 1);
    CHECK(log.damaged[0].line_number == 2);
    CHECK_THAT(log.damaged[0].problem, Contains("not JSON"));
}

TEST_CASE("audit: each damaged line is skipped and named on its own", "[audit]") {
    temp_dir repo;
    const auto git_dir = repo.path() + "/";
    write_file(
        git_dir + "trunkgate/audit.log",
        record("2026-11-30T10:00:00+00:00", "alice") + "\n" + "garbage\n" + "[1,2]\n" +
            R"({"time":1,"identity":"x","decision":"accept","refs":[],"findings":[],"policy":"p"})" +
            "\n" + R"({"time":"t","identity":"x","decision":"accept","findings":[],"policy":"p"})" +
            "\n" + record("2026-11-30T10:05:00+00:00", "bob") + "\n");
    const auto log = read_audit(git_dir, 0);
    REQUIRE(log.records.size() == 2);
    CHECK_THAT(log.records[1], Contains("bob"));
    REQUIRE(log.damaged.size() == 4);
    CHECK(log.damaged[0].line_number == 2);
    CHECK(log.damaged[1].line_number == 3);
    CHECK(log.damaged[1].problem == "not a JSON object");
    CHECK(log.damaged[2].line_number == 4);
    CHECK(log.damaged[2].problem == "'time' is missing or not a string");
    CHECK(log.damaged[3].problem == "'refs' is missing or not an array");

    SECTION("--since filters the records, never the damage report") {
        const auto later = read_audit(git_dir, 1796083200); // 2026-12-01
        CHECK(later.records.empty());
        CHECK(later.damaged.size() == 4);
    }
}

TEST_CASE("audit: a missing log is empty", "[audit]") {
    temp_dir repo;
    const auto log = read_audit(repo.path() + "/", 0);
    CHECK(log.records.empty());
    CHECK(log.damaged.empty());
}

TEST_CASE("files: write_durably closes its descriptor and keeps the old file when fsync fails",
          "[files]") {
    temp_dir dir;
    write_file(dir / "entry.json", "old\n");
    const auto before = open_descriptors();
    fsync_for_tests = failing_fsync;
    CHECK_THROWS_WITH(write_durably(dir.path(), "entry.json", "new\n"),
                      Contains("Input/output error"));
    fsync_for_tests = ::fsync;
    CHECK(open_descriptors() == before);
    CHECK(testing::read_file(dir / "entry.json") == "old\n");
    DIR* listing = ::opendir(dir.path().c_str());
    std::size_t files = 0;
    while (const dirent* item = ::readdir(listing))
        files += std::string(item->d_name) != "." && std::string(item->d_name) != "..";
    ::closedir(listing);
    CHECK(files == 1); // no temporary file left behind
}
