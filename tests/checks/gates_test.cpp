// Gates of protected refs: CI statuses, approvals, promotion and bypass, judged by the engine.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <thread>

#include "support/sandbox.hpp"
#include "trunkgate/checks/approvals.hpp"
#include "trunkgate/checks/status.hpp"
#include "trunkgate/gate/evaluate.hpp"
#include "trunkgate/gate/feedback.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/util/error.hpp"

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

// An HTTP client that answers GETs by exact URL (404 for any other) and records them.
class routed_client final : public http_client {
  public:
    std::map<std::string, http_response> routes;
    std::vector<http_request> requests;
    http_response post(const http_request&) override { return {}; }
    http_response get(const http_request& request) override {
        requests.push_back(request);
        const auto found = routes.find(request.url);
        return found == routes.end() ? http_response{404, "", "{}"} : found->second;
    }
};

http_response page(std::string body, std::string link = "") {
    http_response answer{200, "", std::move(body)};
    answer.link = std::move(link);
    return answer;
}

http_response redirect(long status, std::string target) {
    http_response answer{status, "", ""};
    answer.redirect_url = std::move(target);
    return answer;
}

std::string statuses_json(const std::vector<std::pair<std::string, std::string>>& statuses) {
    std::string items;
    for (const auto& [context, state] : statuses)
        items += std::string(items.empty() ? "" : ",") + R"({"context": ")" + context +
                 R"(", "state": ")" + state + R"("})";
    return R"({"state": "pending", "statuses": [)" + items + "]}";
}

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

TEST_CASE("gates: an unknown state in an API answer is kept, and fails only where required",
          "[gates][status]") {
    const auto parsed = parse_combined_status(statuses_json(
        {{"lint", "warning"}, {"build", "success"}, {"deploy", "warning"}, {"docs", ""}}));
    CHECK(parsed.at("lint").state == "warning");
    CHECK(unmet_checks({"build"}, parsed).empty()); // lint's warning is nobody's business
    const auto unmet = unmet_checks({"build", "deploy"}, parsed);
    REQUIRE(unmet.size() == 1);
    CHECK(unmet[0].context == "deploy");
    CHECK(unmet[0].state == "failure");
    CHECK(unmet[0].description == "state 'warning' is not one trunkgate knows");
    CHECK(unmet_checks({"docs"}, parsed).at(0).description ==
          "state '' is not one trunkgate knows");
    // The git-notes source stays strict.
    CHECK_THROWS_AS(parse_status_note(R"({"lint": {"state": "warning"}})"), input_error);
}

TEST_CASE("gates: check runs map to statuses by conclusion", "[gates][status]") {
    const auto run = [](const std::string& name, const std::string& status,
                        const std::string& conclusion) {
        return R"({"id": 4, "name": ")" + name + R"(", "status": ")" + status +
               R"(", "conclusion": )" + (conclusion.empty() ? "null" : '"' + conclusion + '"') +
               R"(, "html_url": "https://github.com/o/r/runs/4", "output": {"title": "t", )"
               R"("summary": "s", "text": null, "annotations_count": 0}})";
    };
    std::string runs;
    const std::vector<std::vector<std::string>> cases{
        {"a-success", "completed", "success", "success"},
        {"a-neutral", "completed", "neutral", "success"},
        {"a-skipped", "completed", "skipped", "success"},
        {"b-failure", "completed", "failure", "failure"},
        {"b-timed_out", "completed", "timed_out", "failure"},
        {"b-cancelled", "completed", "cancelled", "failure"},
        {"b-action_required", "completed", "action_required", "failure"},
        {"b-stale", "completed", "stale", "failure"},
        {"c-queued", "queued", "", "pending"},
        {"c-in_progress", "in_progress", "", "pending"},
        {"c-waiting", "waiting", "", "pending"},
        {"c-requested", "requested", "", "pending"},
        {"c-pending", "pending", "", "pending"}};
    for (const auto& c : cases)
        runs += (runs.empty() ? "" : ",") + run(c[0], c[1], c[2]);
    const auto parsed = parse_check_runs(R"({"total_count": 13, "check_runs": [)" + runs + "]}");
    REQUIRE(parsed.size() == cases.size());
    for (const auto& c : cases) {
        INFO(c[0]);
        CHECK(parsed.at(c[0]).state == c[3]);
        CHECK(parsed.at(c[0]).url == "https://github.com/o/r/runs/4");
    }
    CHECK(parsed.at("b-timed_out").description == "conclusion timed_out: t");
    CHECK(parsed.at("c-in_progress").description == "in_progress: t");
    CHECK(parse_check_runs(R"({"check_runs": [{"name": "x", "status": "completed"}]})")
              .at("x")
              .description == "conclusion (none)");
    SECTION("a name twice: the worse run wins") {
        const auto twice =
            parse_check_runs(R"({"check_runs": [)" + run("build", "completed", "success") + "," +
                             run("build", "in_progress", "") + "]}");
        CHECK(twice.at("build").state == "pending");
    }
    SECTION("malformed answers throw input_error") {
        CHECK_THROWS_AS(parse_check_runs(R"({"total_count": 1})"), input_error);
        CHECK_THROWS_AS(parse_check_runs(R"({"check_runs": [{"status": "queued"}]})"), input_error);
        CHECK_THROWS_AS(parse_check_runs(R"({"check_runs": [{"name": "x", "status": 3}]})"),
                        input_error);
        CHECK_THROWS_AS(
            parse_check_runs(R"({"check_runs": [{"name": "x", "status": "queued", "output": 1}]})"),
            input_error);
        CHECK_THROWS_AS(parse_check_runs(R"({"statuses": []})"), input_error);
    }
}

TEST_CASE("gates: merging statuses, the worse state wins", "[gates][status]") {
    status_map into{{"build", {"success", "s", "", "", ""}},
                    {"lint", {"failure", "f", "", "", ""}},
                    {"e2e", {"pending", "p", "", "", ""}}};
    merge_statuses(into, {{"build", {"pending", "run", "", "", ""}},
                          {"lint", {"success", "ok", "", "", ""}},
                          {"e2e", {"error", "boom", "", "", ""}},
                          {"docs", {"success", "", "", "", ""}}});
    CHECK(into.at("build").description == "run");
    CHECK(into.at("lint").description == "f");
    CHECK(into.at("e2e").description == "boom");
    CHECK(into.at("docs").state == "success");
    merge_statuses(into, {{"lint", {"error", "later", "", "", ""}}}); // equal: the first stays
    CHECK(into.at("lint").description == "f");
    merge_statuses(into, {{"docs", {"warning", "", "", "", ""}}}); // unknown counts as a failure
    CHECK(into.at("docs").state == "warning");
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

TEST_CASE("gates: a status API read to the last page, with check runs and redirects",
          "[gates][status]") {
    gate_fixture fixture;
    const ref_update update{fixture.base, fixture.tip, "refs/heads/main"};
    const std::string api = "http://status.test/repos/team/app/commits/" + fixture.tip;
    const auto statuses_url = api + "/status?per_page=100";
    const auto runs_url = api + "/check-runs?per_page=100";
    const std::string http_policy = R"(
[[protect]]
refs = ["refs/heads/main"]
required_checks = ["build", "test"]
[repository]
full_name = "team/app"
[checks]
source = "http"
[checks.http]
url = "http://status.test/repos/{owner}/{repo}/commits/{sha}/status"
check_runs_url = "http://status.test/repos/{owner}/{repo}/commits/{sha}/check-runs"
token_env = "PATH"
timeout_ms = 1000
)";
    routed_client client;
    const auto judge = [&] {
        return messages(fixture.judge(http_policy, {update}, "dev", {}, &client));
    };
    const auto short_tip = fixture.tip.substr(0, 7);
    const std::string no_runs = R"({"total_count": 0, "check_runs": []})";
    client.routes[runs_url] = page(no_runs);

    SECTION("a failure on page 2 is seen; a first-seen status on page 1 wins over page 2") {
        client.routes[statuses_url] =
            page(statuses_json({{"build", "success"}}),
                 "<" + api + "/status?per_page=100&page=2>; rel=\"next\"");
        client.routes[api + "/status?per_page=100&page=2"] =
            page(statuses_json({{"build", "failure"}, {"test", "failure"}}),
                 "<" + api + "/status?per_page=100&page=1>; rel=\"prev\"");
        CHECK(judge() == std::vector<std::string>{"[required-checks] check 'test' is failure for " +
                                                  short_tip});
        REQUIRE(client.requests.size() == 3);
        const auto& headers = client.requests[0].headers;
        CHECK(std::count(headers.begin(), headers.end(), "Accept: application/vnd.github+json"));
        CHECK(std::count(headers.begin(), headers.end(), "X-GitHub-Api-Version: 2022-11-28"));
        CHECK(std::count(headers.begin(), headers.end(),
                         "Authorization: Bearer " + std::string(std::getenv("PATH"))));
    }
    SECTION("check runs join the statuses; the worse of a duplicate name wins") {
        client.routes[statuses_url] =
            page(statuses_json({{"build", "success"}, {"test", "success"}}));
        client.routes[runs_url] = page(R"({"total_count": 2, "check_runs": [
            {"name": "test", "status": "completed", "conclusion": "cancelled"},
            {"name": "lint", "status": "completed", "conclusion": "failure"}]})");
        CHECK(judge() == std::vector<std::string>{"[required-checks] check 'test' is failure for " +
                                                  short_tip + ": conclusion cancelled"});
    }
    SECTION("a same-server redirect is followed, another server's is not") {
        client.routes[statuses_url] = redirect(301, "http://status.test/repositories/7/status");
        client.routes["http://status.test/repositories/7/status"] =
            page(statuses_json({{"build", "success"}, {"test", "success"}}));
        CHECK(judge().empty());
        client.routes[statuses_url] =
            redirect(307, "http://elsewhere.test:8080/status?token=secret");
        CHECK(judge() == std::vector<std::string>{
                             "[required-checks] status backend unavailable: HTTP 307 to another "
                             "server, elsewhere.test:8080 (http://elsewhere.test:8080/"
                             "status?token=***): not followed, the token is only sent to "
                             "status.test; cannot confirm build, test for " +
                             short_tip});
        for (const auto& request : client.requests)
            CHECK(request.url.find("elsewhere") == std::string::npos);
    }
    SECTION("redirects in a circle stop after three") {
        client.routes[statuses_url] = redirect(302, "http://status.test/a");
        client.routes["http://status.test/a"] = redirect(308, statuses_url);
        CHECK_THAT(judge().at(0), Catch::Contains("status backend unavailable: more than 3 "
                                                  "redirects"));
        CHECK(client.requests.size() == 4);
    }
    SECTION("a next page on another server is not read") {
        client.routes[statuses_url] =
            page(statuses_json({{"build", "success"}}), "<https://status.test/p2>; rel=\"next\"");
        CHECK_THAT(judge().at(0), Catch::Contains("the next page is on another server"));
    }
    SECTION("pages that never end are unavailable after 50") {
        client.routes[statuses_url] =
            page(statuses_json({{"build", "success"}, {"test", "success"}}),
                 "<" + statuses_url + ">; rel=\"next\"");
        CHECK(judge() == std::vector<std::string>{
                             "[required-checks] status backend unavailable: more than 50 pages "
                             "for one commit; cannot confirm build, test for " +
                             short_tip});
        CHECK(client.requests.size() == 50);
    }
    SECTION("Gitea: no Link, X-Total-Count above what was read is unavailable") {
        std::vector<std::pair<std::string, std::string>> thirty{{"build", "success"},
                                                                {"test", "success"}};
        for (int i = 0; i < 28; ++i)
            thirty.emplace_back("job-" + std::to_string(i), "success");
        auto answer = page(statuses_json(thirty));
        answer.total_count = "40";
        client.routes[statuses_url] = answer;
        CHECK(judge() == std::vector<std::string>{
                             "[required-checks] status backend unavailable: the API counts 40 "
                             "(X-Total-Count) but its pages held 30 and named no next page "
                             "(Link); cannot confirm build, test for " +
                             short_tip});
        answer.total_count = "30";
        client.routes[statuses_url] = answer;
        CHECK(judge().empty());
    }
    SECTION("Gitea: \"statuses\": null is no statuses, not a broken answer") {
        client.routes[statuses_url] =
            page(R"({"state": "", "sha": "", "total_count": 0, "statuses": null})");
        CHECK(judge() == std::vector<std::string>{
                             "[required-checks] check 'build' is missing for " + short_tip,
                             "[required-checks] check 'test' is missing for " + short_tip});
    }
    SECTION("a failing check-runs page is unavailable, named as such") {
        client.routes[statuses_url] =
            page(statuses_json({{"build", "success"}, {"test", "success"}}));
        client.routes[runs_url] = page(no_runs, "<" + api + "/check-runs?page=2>; rel=\"next\"");
        CHECK(judge() == std::vector<std::string>{
                             "[required-checks] status backend unavailable: check runs: HTTP 404 "
                             "(page 2); cannot confirm build, test for " +
                             short_tip});
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
