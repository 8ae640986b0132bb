// Gates of protected refs: CI statuses, approvals, promotion and bypass, judged by the engine.
#include <catch2/catch.hpp>

#include <thread>

#include "support/sandbox.hpp"
#include "trunkgate/approvals.hpp"
#include "trunkgate/error.hpp"
#include "trunkgate/evaluate.hpp"
#include "trunkgate/feedback.hpp"
#include "trunkgate/git.hpp"
#include "trunkgate/status.hpp"

using namespace trunkgate;

namespace {

const std::string zero(40, '0');
constexpr std::int64_t day = 86400;

git_oid oid_of(const std::string& hex) {
    git_oid oid;
    REQUIRE(git_oid_fromstr(&oid, hex.c_str()) == 0);
    return oid;
}

// An HTTP client that answers every GET with a canned response and counts the calls.
class canned_client final : public http_client {
  public:
    explicit canned_client(http_response answer) : answer_(std::move(answer)) {}
    http_response post(const http_request&) override { return answer_; }
    http_response get(const http_request& request) override {
        ++calls;
        urls.push_back(request.url);
        headers = request.headers;
        return answer_;
    }
    int calls = 0;
    std::vector<std::string> urls;
    std::vector<std::string> headers;

  private:
    http_response answer_;
};

struct gate_fixture {
    libgit2_guard libgit2;
    testing::git_sandbox sandbox;
    std::string base, tip;
    gate_fixture() {
        base = sandbox.commit("feat: base");
        tip = sandbox.commit("feat: tip");
        sandbox.git({"update-ref", "refs/heads/main", base});
    }
    verdict judge(const std::string& policy_text, const std::vector<ref_update>& updates,
                  const std::string& identity = "dev", std::vector<std::string> options = {},
                  http_client* client = nullptr, std::int64_t now = 0) {
        const auto rules_policy = parse_policy(policy_text, "p.toml");
        const auto repo = open_repository(sandbox.clone());
        push_context context{identity, std::move(options), now ? now : std::time(nullptr)};
        context.status_client = client;
        return evaluate(repo.get(), rules_policy, updates, context);
    }
    void set_status(const std::string& context, const std::string& state) {
        const auto repo = open_repository(sandbox.clone());
        record_status(repo.get(), "refs/notes/trunkgate/checks", oid_of(tip), context,
                      {state, "desc " + context, "http://ci/" + context,
                       "2026-01-01T00:00:00+00:00", "ci-bot"});
    }
};

const std::string checks_policy_text = R"(
[[protect]]
refs = ["refs/heads/main"]
required_checks = ["build", "ci/*"]
)";

std::vector<std::string> messages(const verdict& result) {
    std::vector<std::string> texts;
    for (const auto& item : result.found)
        texts.push_back("[" + item.rule + "] " + item.message);
    return texts;
}

} // namespace

TEST_CASE("gates: status notes parse strictly", "[gates][status]") {
    const auto parsed =
        parse_status_note(R"({"build": {"state": "success", "url": "u", "by": "ci"}})");
    REQUIRE(parsed.count("build"));
    CHECK(parsed.at("build").state == "success");
    CHECK(parsed.at("build").url == "u");
    CHECK(parse_status_note(status_note_json(parsed)).at("build").by == "ci");
    CHECK_THROWS_AS(parse_status_note("not json"), input_error);
    CHECK_THROWS_WITH(parse_status_note(R"({"build": {"state": "green"}})"),
                      Catch::Contains("unknown state 'green'"));
    CHECK_THROWS_AS(parse_status_note(R"(["build"])"), input_error);
    CHECK_THROWS_AS(parse_status_note(R"({"build": {"state": 3}})"), input_error);
}

TEST_CASE("gates: combined-status answers parse strictly, newest status of a context wins",
          "[gates][status]") {
    const auto parsed = parse_combined_status(R"({"state": "pending", "statuses": [
        {"context": "build", "state": "success", "target_url": "http://ci/2", "description": "ok"},
        {"context": "build", "state": "failure"},
        {"context": "lint", "state": "pending"}]})");
    CHECK(parsed.at("build").state == "success");
    CHECK(parsed.at("build").url == "http://ci/2");
    CHECK(parsed.at("lint").state == "pending");
    CHECK_THROWS_AS(parse_combined_status(R"({"state": "success"})"), input_error);
    CHECK_THROWS_AS(parse_combined_status(R"({"statuses": [{"state": "success"}]})"), input_error);
    CHECK_THROWS_AS(parse_combined_status("<html>"), input_error);
}

TEST_CASE("gates: required contexts, globs included", "[gates][status]") {
    status_map statuses{{"build", {"success", "", "", "", ""}},
                        {"ci/unit", {"success", "", "", "", ""}},
                        {"ci/lint", {"pending", "", "", "", ""}}};
    CHECK(unmet_checks({"build"}, statuses).empty());
    const auto unmet = unmet_checks({"build", "ci/*", "deploy"}, statuses);
    REQUIRE(unmet.size() == 2);
    CHECK(unmet[0].context == "ci/lint");
    CHECK(unmet[0].state == "pending");
    CHECK(unmet[1].context == "deploy");
    CHECK(unmet[1].state == "missing");
    CHECK(unmet_checks({"e2e/*"}, statuses).at(0).state == "missing"); // a glob needs a match
    CHECK(status_url("http://h/api/v1/repos/{owner}/{repo}/commits/{sha}/status", "team/app",
                     "abc") == "http://h/api/v1/repos/team/app/commits/abc/status");
}

TEST_CASE("gates: required-checks from git notes", "[gates][status]") {
    gate_fixture fixture;
    const ref_update update{fixture.base, fixture.tip, "refs/heads/main"};
    SECTION("missing checks block, naming each context") {
        const auto result = fixture.judge(checks_policy_text, {update});
        CHECK(messages(result) ==
              std::vector<std::string>{
                  "[required-checks] check 'build' is missing for " + fixture.tip.substr(0, 7),
                  "[required-checks] check 'ci/*' is missing for " + fixture.tip.substr(0, 7)});
        CHECK_THAT(result.found[0].hint, Catch::Contains("has not run for this commit"));
    }
    SECTION("pending and failure say so, with description and URL") {
        fixture.set_status("build", "failure");
        fixture.set_status("ci/unit", "pending");
        const auto result = fixture.judge(checks_policy_text, {update});
        REQUIRE(result.found.size() == 2);
        CHECK(result.found[0].message == "check 'build' is failure for " +
                                             fixture.tip.substr(0, 7) +
                                             ": desc build (http://ci/build)");
        CHECK_THAT(result.found[1].hint, Catch::Contains("wait for it to succeed"));
    }
    SECTION("all green passes; a later status of a context replaces the earlier") {
        fixture.set_status("build", "failure");
        fixture.set_status("build", "success");
        fixture.set_status("ci/unit", "success");
        CHECK(fixture.judge(checks_policy_text, {update}).found.empty());
    }
    SECTION("concurrent writers lose no status") {
        std::vector<std::thread> writers;
        for (int i = 0; i < 4; ++i)
            writers.emplace_back([&, i] {
                libgit2_guard thread_libgit2;
                for (int k = 0; k < 5; ++k)
                    fixture.set_status("ci/w" + std::to_string(i) + "-" + std::to_string(k),
                                       "success");
            });
        for (auto& writer : writers)
            writer.join();
        const auto repo = open_repository(fixture.sandbox.clone());
        CHECK(
            read_statuses(repo.get(), "refs/notes/trunkgate/checks", oid_of(fixture.tip)).size() ==
            20);
    }
}

TEST_CASE("gates: required-checks from a status API", "[gates][status]") {
    gate_fixture fixture;
    const ref_update update{fixture.base, fixture.tip, "refs/heads/main"};
    const std::string http_policy = checks_policy_text + R"(
[repository]
full_name = "team/app"
[checks]
source = "http"
[checks.http]
url = "http://status.test/repos/{owner}/{repo}/commits/{sha}/status"
timeout_ms = 100
)";
    SECTION("a good answer is used, asked once per commit") {
        canned_client client({200, "", R"({"state": "success", "statuses": [
            {"context": "build", "state": "success"}, {"context": "ci/x", "state": "success"}]})"});
        const ref_update second{zero, fixture.tip, "refs/heads/feature/x"};
        CHECK(fixture.judge(http_policy, {update, second}, "dev", {}, &client).found.empty());
        CHECK(client.calls == 1);
        CHECK(client.urls.at(0) ==
              "http://status.test/repos/team/app/commits/" + fixture.tip + "/status?per_page=100");
    }
    SECTION("unreachable, 500 and garbage block as 'status backend unavailable'") {
        for (const auto& answer :
             {http_response{0, "Connection refused", ""}, http_response{500, "", ""},
              http_response{200, "", "<html>oops</html>"}}) {
            canned_client client(answer);
            const auto result = fixture.judge(http_policy, {update}, "dev", {}, &client);
            REQUIRE(result.found.size() == 1);
            CHECK(result.found[0].severity == level::block);
            CHECK_THAT(result.found[0].message, Catch::StartsWith("status backend unavailable: "));
        }
    }
    SECTION("on_error = allow makes it a warning") {
        canned_client client({503, "", ""});
        auto allowing = http_policy;
        allowing.replace(allowing.find("timeout_ms = 100"), 16,
                         "timeout_ms = 100\non_error = \"allow\"");
        const auto result = fixture.judge(allowing, {update}, "dev", {}, &client);
        REQUIRE(result.found.size() == 1);
        CHECK(result.found[0].severity == level::warn);
        CHECK_FALSE(result.rejected());
    }
}

TEST_CASE("gates: approvals expire, exclude the author, and any rejection blocks",
          "[gates][approval]") {
    const approval_rule rule{{"alice", "release-*"}, 7, false};
    const std::vector<std::string> author{"Dev Eloper", "dev@example.com", "dev"};
    const std::int64_t now = 1800000000;
    CHECK(judge_approvals({{"alice", true, now - day, ""}}, rule, author, now).approved);
    CHECK(judge_approvals({{"release-bot", true, now, ""}}, rule, author, now).approved);
    const auto none = judge_approvals({}, rule, author, now);
    CHECK_FALSE(none.approved);
    CHECK(none.problem == "no approval yet");
    const auto expired = judge_approvals({{"alice", true, now - 8 * day, ""}}, rule, author, now);
    CHECK_FALSE(expired.approved);
    CHECK_THAT(expired.problem, Catch::Contains("expired (older than 7 days)"));
    CHECK(judge_approvals({{"alice", true, now - 7 * day, ""}}, rule, author, now).approved);
    const auto stranger = judge_approvals({{"mallory", true, now, ""}}, rule, author, now);
    CHECK(stranger.problem == "mallory is not an approver");
    const approval_rule self_rule{{"*"}, 7, false};
    CHECK_FALSE(judge_approvals({{"dev", true, now, ""}}, self_rule, author, now).approved);
    CHECK(judge_approvals({{"dev", true, now, ""}}, {{"*"}, 7, true}, author, now).approved);
    const auto rejected =
        judge_approvals({{"alice", true, now, ""}, {"release-bot", false, now, "not on a Friday"}},
                        rule, author, now);
    CHECK_FALSE(rejected.approved);
    CHECK(rejected.problem == "rejected by release-bot (\"not on a Friday\")");
    CHECK_THROWS_AS(parse_approvals(R"({"approvals": [{"by": "a", "state": "maybe", "at": 1}]})"),
                    input_error);
    CHECK(parse_approvals(approvals_json({{"a", false, 5, "c"}})).at(0).comment == "c");
}

TEST_CASE("gates: approval, promotion and status-write through the engine", "[gates][approval]") {
    gate_fixture fixture;
    const std::string policy_text = R"(
[[protect]]
refs = ["refs/heads/production"]
promote_from = "refs/heads/staging"
require_approval = { approvers = ["alice"], max_age_days = 7 }
[checks]
writers = ["ci-bot"]
)";
    const ref_update update{zero, fixture.tip, "refs/heads/production"};
    const auto before = fixture.judge(policy_text, {update});
    std::vector<std::string> rules;
    for (const auto& item : before.found)
        rules.push_back(item.rule);
    CHECK(rules == std::vector<std::string>{"promotion", "approval"});
    CHECK_THAT(before.found[0].message,
               Catch::Contains("production may only move to commits already on staging"));
    CHECK_THAT(before.found[1].hint,
               Catch::Contains("trunkgate approve " + fixture.tip.substr(0, 7)));

    fixture.sandbox.git({"update-ref", "refs/heads/staging", fixture.tip});
    {
        const auto repo = open_repository(fixture.sandbox.clone());
        record_approval(repo.get(), oid_of(fixture.tip), {"alice", true, std::time(nullptr), "ok"});
    }
    CHECK(fixture.judge(policy_text, {update}).found.empty());
    // Judged eight days later, the approval has expired.
    CHECK(fixture.judge(policy_text, {update}, "dev", {}, nullptr, std::time(nullptr) + 8 * day)
              .found.size() == 1);

    const ref_update notes{zero, fixture.tip, "refs/notes/trunkgate/checks"};
    CHECK(fixture.judge(policy_text, {notes}, "dev").found.at(0).rule == "status-write");
    CHECK(fixture.judge(policy_text, {notes}, "ci-bot").found.empty());
    const ref_update approvals{zero, fixture.tip, "refs/notes/trunkgate/approvals"};
    CHECK(fixture.judge(policy_text, {approvals}, "alice").found.at(0).rule == "status-write");
}

TEST_CASE("gates: bypass from an allowed identity with a reason, and only then",
          "[gates][bypass]") {
    gate_fixture fixture;
    const std::string policy_text = checks_policy_text + "[bypass]\nidentities = [\"release-*\"]\n";
    const ref_update update{fixture.base, fixture.tip, "refs/heads/main"};
    const auto bypassed =
        fixture.judge(policy_text, {update}, "release-mgr", {"trunkgate.bypass=incident 42"});
    CHECK_FALSE(bypassed.rejected());
    CHECK(bypassed.bypass_reason == "incident 42");
    CHECK(bypassed.demoted_by_bypass() == 2);
    CHECK_THAT(render_text(bypassed),
               Catch::StartsWith("trunkgate: BYPASS by release-mgr (\"incident 42\"): push "
                                 "accepted despite 2 problems"));
    CHECK_THAT(render_text(bypassed), Catch::Contains("[required-checks] bypassed: check 'build'"));

    const auto stranger = fixture.judge(policy_text, {update}, "dev", {"trunkgate.bypass=please"});
    CHECK(stranger.rejected());
    CHECK(stranger.found.back().rule == "bypass-denied");
    CHECK_THAT(stranger.found.back().message,
               Catch::Contains("'dev' may not bypass the policy (allowed: release-*)"));

    const auto no_reason =
        fixture.judge(policy_text, {update}, "release-mgr", {"trunkgate.bypass="});
    CHECK(no_reason.found.back().rule == "bypass-denied");
    CHECK_THAT(no_reason.found.back().message, Catch::Contains("needs a reason"));
    CHECK(no_reason.rejected());
}
