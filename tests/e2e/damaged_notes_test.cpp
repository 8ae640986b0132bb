// End-to-end: damaged JSON on real pushes. A status note or approvals note that does not parse
// (1e400, milliseconds, wrong types) rejects the push as damaged, is audited like any decision,
// is shown by `trunkgate status get/list`, and is repaired by `trunkgate status set` and
// `trunkgate approve`; a combined-status answer that does not parse follows on_error.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <ctime>
#include <sstream>

#include "support/gates_support.hpp"
#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using namespace trunkgate::testing::gates;
using Catch::Contains;
using json = nlohmann::json;

namespace {

// Puts `text` as the note of `sha` on refs/notes/<ref> in the server, as a hand edit would.
void damage_note(const git_sandbox& sandbox, const std::string& ref, const std::string& sha,
                 const std::string& text) {
    const auto written =
        sandbox.git_in(sandbox.server(), {"notes", "--ref", ref, "add", "-f", "-m", text, sha});
    REQUIRE(written.status == 0);
}

std::vector<json> audit_records(const git_sandbox& sandbox) {
    const auto printed =
        sandbox.trunkgate({"audit", "--repo", sandbox.server(), "--format", "json"});
    REQUIRE(printed.status == 0);
    std::vector<json> records;
    std::istringstream lines(printed.out);
    for (std::string line; std::getline(lines, line);)
        records.push_back(json::parse(line));
    return records;
}

const std::string checks_policy = R"(
[[protect]]
refs = ["refs/heads/main"]
required_checks = ["build"]
)";

} // namespace

TEST_CASE("damaged notes: a damaged status note rejects the push as damaged, audited, until "
          "status set repairs it",
          "[e2e][gates][parsers]") {
    git_sandbox sandbox;
    sandbox.install(checks_policy);
    const auto tip = sandbox.commit("feat: first");
    REQUIRE(sandbox.push({"origin", "HEAD:refs/heads/feature/first"}).status == 0);
    damage_note(sandbox, "trunkgate/checks", tip,
                R"({"build": {"state": "success", "url": "http://ci/1", "retries": 1e400}})");

    const auto pushed = sandbox.push({"origin", "main"});
    const auto told = remote_text(pushed);
    CHECK(pushed.status != 0);
    CHECK(sandbox.server_rev("refs/heads/main").empty());
    CHECK_THAT(told, Contains("trunkgate: push rejected: 1 problem"));
    CHECK_THAT(told, Contains("  refs/heads/main  [required-checks] the status note of " +
                              tip.substr(0, 7) +
                              " on refs/notes/trunkgate/checks is damaged: a number out of range"));
    CHECK_THAT(told, Contains("hint: CI (a [checks] writer) records the statuses again, which "
                              "replaces the damaged note: trunkgate status set " +
                              tip.substr(0, 7)));
    CHECK_THAT(pushed.all(), !Contains("internal error"));

    const auto records = audit_records(sandbox);
    REQUIRE(records.size() == 2); // the feature branch, then main
    CHECK(records[1]["decision"] == "reject");
    REQUIRE(records[1]["findings"].size() == 1);
    CHECK(records[1]["findings"][0]["rule"] == "required-checks");
    CHECK(records[1]["findings"][0]["commit"] == tip);
    CHECK_THAT(records[1]["findings"][0]["message"].get<std::string>(), Contains("is damaged"));

    const auto got = sandbox.trunkgate({"status", "get", "--repo", sandbox.server(), tip});
    CHECK(got.status == 1);
    CHECK_THAT(got.out, Contains(tip.substr(0, 12) + "  damaged note: a number out of range"));
    CHECK_THAT(got.out, Contains("trunkgate status set replaces it"));
    const auto listed = sandbox.trunkgate({"status", "list", "--repo", sandbox.server()});
    CHECK(listed.status == 0);
    CHECK_THAT(listed.out, Contains(tip.substr(0, 12) + "  damaged note: "));

    const auto repaired = sandbox.trunkgate(
        {"status", "set", "--repo", sandbox.server(), tip, "build", "success"}, "", as("ci-bot"));
    CHECK(repaired.status == 0);
    CHECK_THAT(repaired.err, Contains("replaced the damaged status note of " + tip.substr(0, 12)));
    CHECK(sandbox.trunkgate({"status", "get", "--repo", sandbox.server(), tip}).status == 0);

    const auto again = sandbox.push({"origin", "main"});
    CHECK(again.status == 0);
    CHECK(sandbox.server_rev("refs/heads/main") == tip);
    CHECK(audit_records(sandbox).back()["decision"] == "accept");
}

TEST_CASE("damaged notes: trunkgate approve overwrites a damaged approvals note",
          "[e2e][gates][parsers]") {
    git_sandbox sandbox;
    sandbox.install(R"(
[[protect]]
refs = ["refs/heads/production"]
require_approval = { approvers = ["alice"], max_age_days = 7 }
)");
    const auto tip = sandbox.commit("feat: ship");
    REQUIRE(sandbox.push({"origin", "HEAD:refs/heads/feature/ship"}).status == 0);
    // Milliseconds: read as seconds, it would approve for thousands of years.
    damage_note(sandbox, "trunkgate/approvals", tip,
                R"({"approvals": [{"by": "alice", "state": "approved", "at": )" +
                    std::to_string(static_cast<long long>(std::time(nullptr)) * 1000) + "}]}");

    auto pushed = sandbox.push({"origin", "HEAD:refs/heads/production"});
    CHECK(pushed.status != 0);
    CHECK_THAT(remote_text(pushed),
               Contains("[approval] " + tip.substr(0, 7) + " needs an approval from alice"));
    CHECK_THAT(remote_text(pushed),
               Contains("the approvals note of " + tip.substr(0, 7) +
                        " on refs/notes/trunkgate/approvals is damaged: approvals[0]: 'at' must "
                        "be Unix seconds"));
    CHECK(audit_records(sandbox).back()["decision"] == "reject");

    const auto approved = sandbox.trunkgate(
        {"approve", "--repo", sandbox.server(), tip, "--comment", "checked"}, "", as("alice"));
    CHECK(approved.status == 0);
    CHECK_THAT(approved.out, Contains("approved " + tip.substr(0, 12) + " as alice"));
    CHECK_THAT(approved.err,
               Contains("replaced the damaged approvals note of " + tip.substr(0, 12)));

    pushed = sandbox.push({"origin", "HEAD:refs/heads/production"});
    CHECK(pushed.status == 0);
    CHECK(sandbox.server_rev("refs/heads/production") == tip);
}

TEST_CASE("damaged notes: a status API answer with 1e400 follows on_error",
          "[e2e][gates][parsers]") {
    status_api api;
    git_sandbox sandbox;
    const auto policy = [&](const std::string& on_error) {
        return checks_policy + R"(
[checks]
source = "http"

[checks.http]
url = ")" + api.url_template() +
               R"("
timeout_ms = 2000
on_error = ")" +
               on_error + "\"\n";
    };
    const auto tip = sandbox.commit("feat: first");
    api.answer({200, R"({"state": "success", "total_count": 1e400, "statuses": [)"
                     R"({"context": "build", "state": "success"}]})"});

    SECTION("block rejects it with a clear message") {
        sandbox.install(policy("block"));
        const auto pushed = sandbox.push({"origin", "main"});
        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main").empty());
        CHECK_THAT(remote_text(pushed),
                   Contains("  refs/heads/main  [required-checks] status backend unavailable: "
                            "invalid answer: a number out of range"));
        CHECK_THAT(pushed.all(), !Contains("internal error"));
        CHECK(audit_records(sandbox).back()["decision"] == "reject");
    }
    SECTION("allow lets the push through with a warning") {
        sandbox.install(policy("allow"));
        const auto pushed = sandbox.push({"origin", "main"});
        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/main") == tip);
        CHECK_THAT(remote_text(pushed),
                   Contains("[required-checks] warning: status backend unavailable: invalid "
                            "answer: a number out of range"));
    }
    SECTION("a field of the wrong type follows on_error as well") {
        api.answer({200, R"({"statuses": [{"context": "build", "state": "success", )"
                         R"("description": {"text": "ok"}}]})"});
        sandbox.install(policy("allow"));
        const auto pushed = sandbox.push({"origin", "main"});
        CHECK(pushed.status == 0);
        CHECK_THAT(remote_text(pushed), Contains("'description' must be a string, not an object"));
    }
}
