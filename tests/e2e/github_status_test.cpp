// End-to-end: required checks from a loopback API that speaks GitHub's REST shapes, on real
// pushes: combined statuses paged 30 at a time with Link headers, GitHub Actions check runs,
// Gitea's `warning` state, a renamed repository's 301, a redirect to another server, and a time
// budget that runs out between pages.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <sstream>

#include "support/gates_support.hpp"
#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using namespace trunkgate::testing::gates;
using namespace std::chrono_literals;
using Catch::Contains;
using json = nlohmann::json;

namespace {

const std::map<std::string, std::string> token{{"TRUNKGATE_STATUS_TOKEN", "ghp_e2e"}};

// A status as GitHub's OpenAPI description has it (components/schemas/simple-commit-status).
json github_status(int id, const std::string& context, const std::string& state,
                   const std::string& description = "") {
    return {{"id", 18446744000000 + id},
            {"node_id", "SC_kwDOA" + std::to_string(id)},
            {"url", "https://api.github.com/repos/team/project/statuses/" + std::to_string(id)},
            {"avatar_url", nullptr},
            {"state", state},
            {"description", description.empty() ? json(nullptr) : json(description)},
            {"target_url", "https://ci.example/" + context + "/" + std::to_string(id)},
            {"context", context},
            {"required", nullptr},
            {"created_at", "2026-11-30T10:00:00Z"},
            {"updated_at", "2026-11-30T10:00:00Z"}};
}

// A check run as GitHub Actions reports one (components/schemas/check-run).
json github_check_run(int id, const std::string& name, const std::string& status,
                      const std::string& conclusion, const std::string& title = "") {
    return {
        {"id", 21000000000 + id},
        {"head_sha", std::string(40, 'a')},
        {"node_id", "CR_kwDOA" + std::to_string(id)},
        {"external_id", ""},
        {"url", "https://api.github.com/repos/team/project/check-runs/" + std::to_string(id)},
        {"html_url", "https://github.com/team/project/actions/runs/9/job/" + std::to_string(id)},
        {"details_url", "https://github.com/team/project/actions/runs/9/job/" + std::to_string(id)},
        {"status", status},
        {"conclusion", conclusion.empty() ? json(nullptr) : json(conclusion)},
        {"started_at", "2026-11-30T10:00:00Z"},
        {"completed_at", status == "completed" ? json("2026-11-30T10:05:00Z") : json(nullptr)},
        {"output",
         {{"title", title.empty() ? json(nullptr) : json(title)},
          {"summary", nullptr},
          {"text", nullptr},
          {"annotations_count", 0},
          {"annotations_url", "https://api.github.com/repos/team/project/check-runs/" +
                                  std::to_string(id) + "/annotations"}}},
        {"name", name},
        {"check_suite", {{"id", 5}}},
        {"app", {{"id", 15368}, {"slug", "github-actions"}, {"name", "GitHub Actions"}}},
        {"pull_requests", json::array()}};
}

// GitHub's REST API for one repository, team/project (id 42), as far as the gate reads it:
// combined status and check runs of a commit, paged like GitHub (per_page defaults to 30 and is
// honoured up to max_per_page; Link with prev/next/last/first, next pages under
// /repositories/42/), and old-team/project answering 301 as a renamed repository does.
struct fake_github {
    std::string origin;
    std::vector<json> statuses{}; ///< newest first
    std::vector<json> check_runs{};
    int max_per_page = 100;
    std::chrono::milliseconds later_pages_delay{0}; ///< before every answer but page 1's
    std::size_t lost_runs = 0; ///< check runs counted in total_count but on no page (a lying API)

    status_answer operator()(const status_request& request) const {
        const auto question = request.target.find('?');
        const auto path = request.target.substr(0, question);
        std::map<std::string, int> query{{"per_page", 30}, {"page", 1}};
        if (question != std::string::npos) {
            std::istringstream params(request.target.substr(question + 1));
            for (std::string pair; std::getline(params, pair, '&');) {
                const auto equals = pair.find('=');
                if (equals != std::string::npos)
                    query[pair.substr(0, equals)] = std::stoi(pair.substr(equals + 1));
            }
        }
        const std::string renamed = "/repos/old-team/project/";
        if (path.rfind(renamed, 0) == 0)
            return {301,
                    R"({"message": "Moved Permanently", "url": ")" + origin + "/repositories/42" +
                        request.target.substr(renamed.size() - 1) + R"("})",
                    0ms,
                    false,
                    {"Location: " + origin + "/repositories/42" +
                     request.target.substr(renamed.size() - 1)}};
        const auto commit_at = path.find("/commits/");
        const auto base = path.substr(0, commit_at);
        if (commit_at == std::string::npos ||
            (base != "/repos/team/project" && base != "/repositories/42"))
            return {404, R"({"message": "Not Found"})"};
        const bool runs = path.size() > 11 && path.substr(path.size() - 11) == "/check-runs";
        if (!runs && path.substr(path.size() - 7) != "/status")
            return {404, R"({"message": "Not Found"})"};
        const auto& counted = runs ? check_runs : statuses;
        const std::vector<json> all(
            counted.begin(), counted.end() - static_cast<std::ptrdiff_t>(
                                                 runs ? std::min(lost_runs, counted.size()) : 0));
        const int per_page = std::min(std::max(query["per_page"], 1), max_per_page);
        const int page = std::max(query["page"], 1);
        const int pages = std::max(1, static_cast<int>((all.size() + per_page - 1) / per_page));
        json slice = json::array();
        for (std::size_t i = static_cast<std::size_t>((page - 1) * per_page);
             i < all.size() && i < static_cast<std::size_t>(page * per_page); ++i)
            slice.push_back(all[i]);
        const auto page_url = [&](int number) {
            return "<" + origin + "/repositories/42" + path.substr(base.size()) +
                   "?per_page=" + std::to_string(per_page) + "&page=" + std::to_string(number) +
                   ">";
        };
        std::vector<std::string> links;
        if (page > 1)
            links.push_back(page_url(page - 1) + "; rel=\"prev\"");
        if (page < pages)
            links.push_back(page_url(page + 1) + "; rel=\"next\"");
        if (page < pages)
            links.push_back(page_url(pages) + "; rel=\"last\"");
        if (page > 1)
            links.push_back(page_url(1) + "; rel=\"first\"");
        std::string link;
        for (const auto& item : links)
            link += (link.empty() ? "" : ", ") + item;
        const json body = runs ? json{{"total_count", counted.size()}, {"check_runs", slice}}
                               : json{{"state", "pending"},
                                      {"sha", path.substr(commit_at + 9, 40)},
                                      {"total_count", all.size()},
                                      {"statuses", slice},
                                      {"repository", {{"id", 42}, {"full_name", "team/project"}}},
                                      {"commit_url", origin + "/repos/team/project/commits/x"},
                                      {"url", origin + path}};
        status_answer answer{200, body.dump(), page > 1 ? later_pages_delay : 0ms};
        if (!link.empty())
            answer.headers.push_back("Link: " + link);
        return answer;
    }
};

std::string github_policy(const status_api& api, const std::string& required,
                          const std::string& extra = "", const std::string& owner = "team") {
    return R"(
[[protect]]
refs = ["refs/heads/main"]
required_checks = )" +
           required + R"(

[repository]
full_name = ")" +
           owner + R"(/project"

[checks]
source = "http"

[checks.http]
url = ")" + api.origin() +
           R"(/repos/{owner}/{repo}/commits/{sha}/status"
check_runs_url = ")" +
           api.origin() + R"(/repos/{owner}/{repo}/commits/{sha}/check-runs"
token_env = "TRUNKGATE_STATUS_TOKEN"
timeout_ms = 1000
)" + extra;
}

// 40 statuses, newest first: ci/job-00 .. ci/job-39, all success, then `special` at index 35.
std::vector<json> forty_statuses(const std::string& special_state) {
    std::vector<json> statuses;
    for (int i = 0; i < 40; ++i) {
        const auto name = i == 35 ? std::string("deploy-check")
                                  : "ci/job-" + std::string(i < 10 ? "0" : "") + std::to_string(i);
        statuses.push_back(github_status(i, name, i == 35 ? special_state : "success",
                                         i == 35 ? "smoke tests: 2 failed" : ""));
    }
    return statuses;
}

} // namespace

TEST_CASE("github status: 40 statuses paged 30 at a time are all read", "[e2e][gates][github]") {
    status_api api;
    fake_github github{api.origin()};
    github.max_per_page = 30; // forces a second page whatever per_page asks
    git_sandbox sandbox;
    sandbox.install(github_policy(api, R"(["ci/job-00", "deploy-check"])"));
    const auto tip = sandbox.commit("feat: first");

    SECTION("a required check failing on page 2 rejects the push") {
        github.statuses = forty_statuses("failure");
        api.route(github);
        const auto pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main").empty());
        CHECK_THAT(remote_text(pushed),
                   Contains("  refs/heads/main  [required-checks] check 'deploy-check' is failure "
                            "for " +
                            short_id(tip) +
                            ": smoke tests: 2 failed (https://ci.example/deploy-check/35)"));
        const auto requests = api.requests();
        REQUIRE(requests.size() == 3); // status page 1, status page 2, check runs
        CHECK(requests[0].target == "/repos/team/project/commits/" + tip + "/status?per_page=100");
        CHECK(requests[1].target ==
              "/repositories/42/commits/" + tip + "/status?per_page=30&page=2");
        CHECK(requests[2].target ==
              "/repos/team/project/commits/" + tip + "/check-runs?per_page=100");
        for (const auto& request : requests) {
            CHECK(request.header("Authorization") == "Bearer ghp_e2e");
            CHECK(request.header("Accept") == "application/vnd.github+json");
            CHECK(request.header("X-GitHub-Api-Version") == "2022-11-28");
        }
    }
    SECTION("a required check that is only on page 2 is satisfied") {
        github.statuses = forty_statuses("success");
        api.route(github);
        const auto pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/main") == tip);
        CHECK(api.requests().size() == 3);
    }
    SECTION("GitHub honouring per_page=100 answers in one page") {
        github.max_per_page = 100;
        github.statuses = forty_statuses("failure");
        api.route(github);
        const auto pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status != 0);
        CHECK_THAT(remote_text(pushed), Contains("check 'deploy-check' is failure"));
        CHECK(api.requests().size() == 2); // one status page, one check-runs page
    }
}

TEST_CASE("github status: GitHub Actions check runs gate the push", "[e2e][gates][github]") {
    status_api api;
    fake_github github{api.origin()};
    github.statuses = {github_status(1, "legacy/ci", "success")};
    git_sandbox sandbox;
    sandbox.install(github_policy(api, R"(["build", "test"])"));
    const auto tip = sandbox.commit("feat: first");

    SECTION("a failed run rejects the push, naming it") {
        github.check_runs = {github_check_run(1, "test", "completed", "success", "ok"),
                             github_check_run(2, "build", "completed", "failure", "2 errors")};
        api.route(github);
        const auto pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main").empty());
        CHECK_THAT(remote_text(pushed),
                   Contains("  refs/heads/main  [required-checks] check 'build' is failure for " +
                            short_id(tip) +
                            ": conclusion failure: 2 errors "
                            "(https://github.com/team/project/actions/runs/9/job/2)"));
        CHECK_THAT(remote_text(pushed), !Contains("check 'test'"));
    }
    SECTION("a run in progress is pending") {
        github.check_runs = {github_check_run(1, "test", "completed", "success"),
                             github_check_run(2, "build", "in_progress", "")};
        api.route(github);
        const auto pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status != 0);
        CHECK_THAT(remote_text(pushed), Contains("[required-checks] check 'build' is pending for " +
                                                 short_id(tip) + ": in_progress"));
        CHECK_THAT(remote_text(pushed), Contains("CI is still running"));
    }
    SECTION("neutral and skipped pass") {
        github.check_runs = {github_check_run(1, "test", "completed", "skipped"),
                             github_check_run(2, "build", "completed", "neutral")};
        api.route(github);
        const auto pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/main") == tip);
    }
    SECTION("a status and a check run of the same name: the worse wins") {
        github.statuses = {github_status(1, "build", "success")};
        github.check_runs = {github_check_run(1, "test", "completed", "success"),
                             github_check_run(2, "build", "completed", "timed_out")};
        api.route(github);
        const auto pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status != 0);
        CHECK_THAT(remote_text(pushed), Contains("check 'build' is failure for " + short_id(tip) +
                                                 ": conclusion timed_out"));
    }
    SECTION("runs that total_count counts but no page holds: unavailable, never a pass") {
        github.check_runs = {github_check_run(1, "test", "completed", "success"),
                             github_check_run(2, "build", "completed", "success"),
                             github_check_run(3, "build", "completed", "failure")};
        github.lost_runs = 1; // the failing run
        api.route(github);
        const auto pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main").empty());
        CHECK_THAT(remote_text(pushed),
                   Contains("status backend unavailable: check runs: the API counts 3 "
                            "(total_count) but its pages held 2"));
    }
    SECTION("check runs alone: no combined-status url") {
        auto policy = github_policy(api, R"(["build", "test"])");
        const auto url_line = policy.find("\nurl = ");
        policy.erase(url_line, policy.find('\n', url_line + 1) - url_line);
        sandbox.install(policy);
        github.check_runs = {github_check_run(1, "test", "completed", "success"),
                             github_check_run(2, "build", "completed", "success")};
        api.route(github);
        const auto pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status == 0);
        REQUIRE(api.requests().size() == 1);
        CHECK(api.requests()[0].target ==
              "/repos/team/project/commits/" + tip + "/check-runs?per_page=100");
    }
}

TEST_CASE("github status: Gitea's warning state matters only where required",
          "[e2e][gates][github]") {
    status_api api;
    fake_github github{api.origin()};
    github.statuses = {github_status(2, "lint", "warning", "3 style issues"),
                       github_status(1, "build", "success")};
    api.route(github);
    git_sandbox sandbox;
    const auto tip = sandbox.commit("feat: first");

    SECTION("on a context no required check names, it is ignored") {
        sandbox.install(github_policy(api, R"(["build"])"));
        const auto pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/main") == tip);
        CHECK_THAT(pushed.all(), !Contains("warning"));
    }
    SECTION("on a required context, it is a failure naming the state") {
        sandbox.install(github_policy(api, R"(["build", "li*"])"));
        const auto pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main").empty());
        CHECK_THAT(remote_text(pushed),
                   Contains("  refs/heads/main  [required-checks] check 'lint' is failure for " +
                            short_id(tip) +
                            ": state 'warning' is not one trunkgate knows: 3 style issues"));
    }
}

TEST_CASE("github status: redirects are followed on the same server only", "[e2e][gates][github]") {
    status_api api;
    fake_github github{api.origin()};
    github.statuses = {github_status(1, "build", "success")};
    api.route(github);
    git_sandbox sandbox;
    const auto tip = sandbox.commit("feat: first");

    SECTION("a renamed repository's 301 is followed") {
        sandbox.install(github_policy(api, R"(["build"])", "", "old-team"));
        const auto pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/main") == tip);
        const auto requests = api.requests();
        REQUIRE(requests.size() == 4);
        CHECK(requests[0].target ==
              "/repos/old-team/project/commits/" + tip + "/status?per_page=100");
        CHECK(requests[1].target == "/repositories/42/commits/" + tip + "/status?per_page=100");
        CHECK(requests[1].header("Authorization") == "Bearer ghp_e2e");
    }
    SECTION("a redirect to another server is refused and names it; no token goes there") {
        status_api moved;
        const auto elsewhere = api.origin();
        moved.route([&](const status_request& request) {
            return status_answer{
                301, "{}", 0ms, false, {"Location: " + elsewhere + request.target + "&token=x"}};
        });
        sandbox.install(github_policy(moved, R"(["build"])"));
        const auto pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main").empty());
        CHECK_THAT(remote_text(pushed),
                   Contains("[required-checks] status backend unavailable: HTTP 301 to another "
                            "server, 127.0.0.1:" +
                            std::to_string(api.port()) + " (" + elsewhere +
                            "/repos/team/project/commits/" + tip +
                            "/status?per_page=***&token=***): not followed"));
        CHECK(api.requests().empty());
    }
}

TEST_CASE("github status: a budget that runs out between pages is unavailable, never a pass",
          "[e2e][gates][github]") {
    status_api api;
    fake_github github{api.origin()};
    github.max_per_page = 10; // 4 pages
    github.statuses = forty_statuses("success");
    github.later_pages_delay = 200ms;
    api.route(github);
    git_sandbox sandbox;
    const auto tip = sandbox.commit("feat: first");
    // timeout_ms = 250: each page answers in time, the four of them not within 500 ms.
    auto policy = github_policy(api, R"(["ci/job-00", "deploy-check"])");
    policy.replace(policy.find("timeout_ms = 1000"), 17, "timeout_ms = 250");

    SECTION("on_error = block rejects") {
        sandbox.install(policy);
        const auto pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main").empty());
        CHECK_THAT(remote_text(pushed),
                   Contains("  refs/heads/main  [required-checks] status backend unavailable: "));
        CHECK_THAT(remote_text(pushed), Contains(" (page "));
        CHECK_THAT(remote_text(pushed),
                   Contains("; cannot confirm ci/job-00, deploy-check for " + short_id(tip)));
    }
    SECTION("on_error = allow passes with a warning") {
        sandbox.install(policy + "on_error = \"allow\"\n");
        const auto pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/main") == tip);
        CHECK_THAT(remote_text(pushed), Contains("trunkgate: push accepted with 1 warning"));
        CHECK_THAT(remote_text(pushed),
                   Contains("[required-checks] warning: status backend unavailable: "));
    }
}
