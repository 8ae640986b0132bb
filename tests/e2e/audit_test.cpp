// End-to-end: the audit log under a real fault (a full tmpfs): a record is written whole or not at
// all, the push is refused when its decision cannot be recorded, and the server's log says why.
// And what landed: a push that trunkgate accepted and a later hook refused shows as not landed.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "support/faults.hpp"
#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using namespace std::chrono_literals;
using Catch::Contains;
using nlohmann::json;

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

// `trunkgate audit --format json` of the sandbox's server, one object per line.
std::vector<json> audit_records(const git_sandbox& sandbox) {
    const auto audit = sandbox.trunkgate({"audit", "--repo", sandbox.server(), "--format", "json"});
    REQUIRE(audit.status == 0);
    CHECK(audit.err.empty());
    std::vector<json> records;
    std::size_t start = 0;
    for (auto end = audit.out.find('\n'); end != std::string::npos;
         start = end + 1, end = audit.out.find('\n', start))
        records.push_back(json::parse(audit.out.substr(start, end - start)));
    return records;
}

std::vector<std::string> ref_names(const json& refs) {
    std::vector<std::string> names;
    for (const auto& ref : refs)
        names.push_back(ref["ref"].get<std::string>());
    return names;
}

void write_hook(const std::string& path, const std::string& script) {
    write_file(path, "#!/bin/sh\n" + script);
    REQUIRE(::chmod(path.c_str(), 0755) == 0);
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

TEST_CASE("audit: git's update hook refuses one ref of an accepted push: the audit shows the "
          "decision for both and only the other as landed",
          "[e2e][audit][landed]") {
    git_sandbox sandbox;
    sandbox.install();
    // A real update hook, as gitolite's access rules are: run by git per ref, after pre-receive.
    write_hook(sandbox.server() + "/hooks/update",
               "case \"$1\" in refs/heads/feature/denied) echo \"update hook: $1 refused\" >&2; "
               "exit 1;; esac\n");
    const auto tip = sandbox.commit("feat: first");
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    const auto pushed =
        sandbox.push({"origin", "HEAD:refs/heads/feature/ok", "HEAD:refs/heads/feature/denied"});
    INFO(pushed.all());
    CHECK(pushed.status != 0);
    CHECK_THAT(pushed.err, Contains("remote: update hook: refs/heads/feature/denied refused"));
    CHECK(sandbox.server_rev("refs/heads/feature/ok") == tip);
    CHECK(sandbox.server_rev("refs/heads/feature/denied").empty());

    const auto records = audit_records(sandbox);
    REQUIRE(records.size() == 2);
    CHECK(records[0]["decision"] == "accept");
    CHECK(ref_names(records[0]["landed"]) == std::vector<std::string>{"refs/heads/main"});
    const auto& both = records[1];
    CHECK(both["decision"] == "accept");
    CHECK(ref_names(both["refs"]) ==
          std::vector<std::string>{"refs/heads/feature/ok", "refs/heads/feature/denied"});
    CHECK(ref_names(both["landed"]) == std::vector<std::string>{"refs/heads/feature/ok"});
    CHECK(both["landed"][0]["new"] == tip);
    CHECK(both["landed"][0]["old"] == zero_id);

    // The log itself: the landed record carries the decision's push id, found by both hooks
    // from the `git receive-pack` that ran them.
    const auto log = read_file(sandbox.server() + "/trunkgate/audit.log");
    std::vector<json> lines;
    std::size_t start = 0;
    for (auto end = log.find('\n'); end != std::string::npos;
         start = end + 1, end = log.find('\n', start))
        lines.push_back(json::parse(log.substr(start, end - start)));
    REQUIRE(lines.size() == 4);
    CHECK(lines[3]["kind"] == "landed");
    CHECK(lines[3]["identity"] == "dev");
    REQUIRE(lines[2]["push"].is_string());
    CHECK(lines[3]["push"] == lines[2]["push"]);
    CHECK(lines[1]["push"] != lines[3]["push"]);

    const auto text = sandbox.trunkgate({"audit", "--repo", sandbox.server()});
    CHECK_THAT(text.out,
               Contains("  dev  accept  refs/heads/main 0000000.." + tip.substr(0, 7) + "\n"));
    CHECK_THAT(text.out, Contains("  dev  accept, partly landed  refs/heads/feature/ok 0000000.." +
                                  tip.substr(0, 7) + "  refs/heads/feature/denied 0000000.." +
                                  tip.substr(0, 7) + " (not landed)\n"));
}

TEST_CASE("audit: a push a chained pre-receive hook refuses is accept, not landed",
          "[e2e][audit][landed]") {
    git_sandbox sandbox;
    write_hook(sandbox.server() + "/hooks/pre-receive", "echo 'legacy hook says no' >&2\nexit 1\n");
    sandbox.install();
    const auto tip = sandbox.commit("feat: first");
    const auto pushed = sandbox.push({"origin", "main"});
    INFO(pushed.all());
    CHECK(pushed.status != 0);
    CHECK(sandbox.server_rev("main").empty());
    const auto records = audit_records(sandbox);
    REQUIRE(records.size() == 1);
    CHECK(records[0]["decision"] == "accept");
    CHECK(records[0]["landed"] == json::array());
    const auto text = sandbox.trunkgate({"audit", "--repo", sandbox.server()});
    CHECK_THAT(text.out, Contains("  dev  accept, not landed  refs/heads/main 0000000.." +
                                  tip.substr(0, 7) + "\n"));
}

TEST_CASE("audit: what landed but cannot be recorded goes to the server's log, and the push stands",
          "[e2e][audit][landed]") {
    git_sandbox sandbox;
    const auto log_path = sandbox.server() + "/trunkgate/audit.log";
    // Runs after trunkgate recorded its decision, before the refs move: the log becomes a
    // directory, so the post-receive hook's append fails (EISDIR) once the push has landed.
    write_hook(sandbox.server() + "/hooks/pre-receive",
               "mv '" + log_path + "' '" + log_path + ".kept' && mkdir '" + log_path + "'\n");
    sandbox.install();
    system_log_listener server_log;
    const auto tip = sandbox.commit("feat: first");
    const auto pushed = sandbox.push({"origin", "main"});
    INFO(pushed.all());
    CHECK(pushed.status == 0);
    CHECK(sandbox.server_rev("main") == tip);
    CHECK_THAT(remote_text(pushed), Contains("trunkgate: what this push changed was NOT recorded "
                                             "in the audit log"));
    CHECK_THAT(remote_text(pushed), Contains("Is a directory"));
    CHECK_THAT(remote_text(pushed), Contains("the push itself went through"));
    if (server_log.available()) {
        const auto logged = server_log.find(sandbox.server(), 5s);
        CHECK_THAT(logged, Contains("the refs that landed were not recorded in the audit log"));
        CHECK_THAT(logged, Contains(zero_id + " " + tip + " refs/heads/main"));
    } else {
        WARN("not checked: what the server's log received (" << server_log.why() << ")");
    }
}
