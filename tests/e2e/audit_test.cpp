// End-to-end: the audit log under a real fault (a full tmpfs): a record is written whole or not at
// all, the push is refused when its decision cannot be recorded, and the server's log says why.
#include <catch2/catch.hpp>

#include <unistd.h>

#include "support/faults.hpp"
#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using namespace std::chrono_literals;
using Catch::Contains;

namespace {

// A valid audit record of exactly `size` bytes with its newline.
std::string padding_record(std::size_t size) {
    const std::string head = R"({"time":"2026-11-30T00:00:00+00:00","identity":")";
    const std::string tail =
        R"(","decision":"accept","refs":[],"findings":[],"bypass_reason":null,"policy":"p"})"
        "\n";
    REQUIRE(size > head.size() + tail.size());
    return head + std::string(size - head.size() - tail.size(), 'p') + tail;
}

} // namespace

TEST_CASE("audit: on a full disk the log keeps only whole records, the push is refused and the "
          "server's log says why",
          "[e2e][audit][enospc]") {
    if (::geteuid() != 0)
        FAIL("this test mounts a tmpfs to fill a real disk: run it as root (CI does)");
    git_sandbox sandbox;
    sandbox.install();
    sandbox.commit("feat: first", "a.txt");
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    const auto dir = sandbox.server() + "/trunkgate";
    const auto earlier = read_file(dir + "/audit.log");
    REQUIRE(!earlier.empty());

    tmpfs_mount disk(dir, "64k");
    // The log so far, padded to 50 bytes short of a page: the next record (~300 bytes) gets
    // its first 50 bytes written, then ENOSPC.
    const std::size_t page = 4096, target = (earlier.size() / page + 1) * page - 50;
    write_file(dir + "/audit.log", earlier + padding_record(target - earlier.size()));
    fill_up(dir + "/filler");
    const auto full_log = read_file(dir + "/audit.log");
    REQUIRE(full_log.size() == target);

    system_log_listener server_log;
    const auto main_before = sandbox.server_rev("main");
    sandbox.commit("feat: second", "b.txt");
    const auto refused = sandbox.push({"origin", "main"});
    INFO(refused.all());
    CHECK(refused.status != 0);
    CHECK_THAT(remote_text(refused), Contains("the audit log cannot be written, so no decision "
                                              "is taken"));
    CHECK_THAT(remote_text(refused), Contains("No space left on device"));
    CHECK(sandbox.server_rev("main") == main_before);
    CHECK(read_file(dir + "/audit.log") == full_log); // the torn record was cut back off
    if (server_log.available()) {
        const auto logged = server_log.find(sandbox.server(), 5s);
        CHECK_THAT(logged, Contains("trunkgate["));
        CHECK_THAT(logged, Contains("could not be audited"));
        CHECK_THAT(logged, Contains("No space left on device"));
    } else {
        WARN("not checked: what the server's log received (" << server_log.why() << ")");
    }

    // With room again the same push is judged and recorded, and every record reads back whole.
    REQUIRE(::unlink((dir + "/filler").c_str()) == 0);
    const auto accepted = sandbox.push({"origin", "main"});
    INFO(accepted.all());
    CHECK(accepted.status == 0);
    const auto audit = sandbox.trunkgate({"audit", "--repo", sandbox.server()});
    CHECK(audit.status == 0);
    CHECK(audit.err.empty()); // no damaged line
    CHECK_THAT(audit.out, Contains(sandbox.clone_rev("main").substr(0, 7)));
    CHECK(read_file(dir + "/audit.log").rfind(full_log, 0) == 0);
}

TEST_CASE("audit: a push refused by an internal error is recorded", "[e2e][audit]") {
    git_sandbox sandbox;
    sandbox.install();
    // A loose object that is not zlib data: libgit2 cannot read the pushed commit.
    const std::string damaged = "1234567890abcdef1234567890abcdef12345678";
    write_file(sandbox.server() + "/objects/12/" + damaged.substr(2), "not an object");
    const auto result = sandbox.run_hook(zero_id + " " + damaged + " refs/heads/feature/x\n");
    INFO(result.all());
    CHECK(result.status == 1);
    CHECK_THAT(result.err, Contains("internal error, push rejected to be safe"));
    const auto audit = sandbox.trunkgate({"audit", "--repo", sandbox.server(), "--format", "json"});
    REQUIRE(audit.status == 0);
    CHECK_THAT(audit.out, Contains(R"("decision":"reject")"));
    CHECK_THAT(audit.out, Contains(R"("rule":"internal-error")"));
    CHECK_THAT(audit.out, Contains(R"("ref":"refs/heads/feature/x")"));
}
