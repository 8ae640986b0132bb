// End-to-end: the gates of protected refs on real pushes. Required checks read from git notes
// (recorded with `trunkgate status set`) and from a combined-status API, who may write statuses,
// promotion between stages, manual approvals, the audited bypass, and the audit log itself.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support/gates_support.hpp"
#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using namespace trunkgate::testing::gates;
using namespace std::chrono_literals;
using Catch::Contains;
using json = nlohmann::json;

namespace {

const std::string checks_policy = R"(
[[protect]]
refs = ["refs/heads/main"]
required_checks = ["build", "unit-tests"]

[checks]
writers = ["ci-bot"]

[bypass]
identities = ["release-manager"]
)";

const std::string approval_policy = R"(
[[protect]]
refs = ["refs/heads/production"]
require_approval = { approvers = ["alice", "release-*"], max_age_days = 7, allow_self = false }
)";

const std::string approvals_ref = "refs/notes/trunkgate/approvals";
const std::string checks_ref = "refs/notes/trunkgate/checks";

// `trunkgate status set` on the server's bare repository, as CI (ci-bot) runs it.
run_result ci_reports(const git_sandbox& sandbox, const std::string& sha,
                      const std::string& context, const std::string& state,
                      const std::vector<std::string>& options = {}) {
    std::vector<std::string> args{"status", "set", "--repo", sandbox.server(), sha, context, state};
    args.insert(args.end(), options.begin(), options.end());
    return sandbox.trunkgate(args, "", as("ci-bot"));
}

// `trunkgate approve` on the server's bare repository as `identity`.
run_result approve(const git_sandbox& sandbox, const std::string& identity, const std::string& sha,
                   const std::vector<std::string>& options = {}) {
    std::vector<std::string> args{"approve", "--repo", sandbox.server(), sha};
    args.insert(args.end(), options.begin(), options.end());
    return sandbox.trunkgate(args, "", as(identity));
}

// A commit of `path` with `content` in the clone, with `env` (author, dates) for git commit.
std::string commit_file(git_sandbox& sandbox, const std::string& message, const std::string& path,
                        const std::string& content,
                        const std::map<std::string, std::string>& env = {}) {
    write_file(sandbox.clone() + "/" + path, content);
    if (sandbox.git({"add", "--", path}).status != 0 ||
        sandbox.git({"commit", "-q", "-m", message}, env).status != 0)
        throw std::runtime_error("cannot commit " + path);
    return sandbox.clone_rev("HEAD");
}

// The audit log's records, as `trunkgate audit --format json` prints them (one JSON per line).
std::vector<json> audit_records(const git_sandbox& sandbox,
                                const std::vector<std::string>& options = {}) {
    std::vector<std::string> args{"audit", "--repo", sandbox.server(), "--format", "json"};
    args.insert(args.end(), options.begin(), options.end());
    const auto printed = sandbox.trunkgate(args);
    if (printed.status != 0)
        throw std::runtime_error("trunkgate audit failed: " + printed.all());
    std::vector<json> records;
    std::istringstream lines(printed.out);
    for (std::string line; std::getline(lines, line);)
        records.push_back(json::parse(line));
    return records;
}

std::vector<std::string> finding_rules(const json& record) {
    std::vector<std::string> rules;
    for (const auto& item : record["findings"])
        rules.push_back(item["rule"].get<std::string>() + ":" + item["level"].get<std::string>());
    return rules;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Required checks from git notes

TEST_CASE("gates: main moves only to a commit whose required checks succeeded", "[e2e][gates]") {
    git_sandbox sandbox;
    sandbox.install(checks_policy);
    const auto tip = sandbox.commit("feat: first");

    auto pushed = sandbox.push({"origin", "main"});
    auto told = remote_text(pushed);
    CHECK(pushed.status != 0);
    CHECK(sandbox.server_rev("refs/heads/main").empty());
    CHECK_THAT(told, Contains("trunkgate: push rejected: 2 problems"));
    CHECK_THAT(told, Contains("  refs/heads/main  [required-checks] check 'build' is missing for " +
                              short_id(tip) + "\n"));
    CHECK_THAT(told, Contains("  refs/heads/main  [required-checks] check 'unit-tests' is "
                              "missing for " +
                              short_id(tip) + "\n"));
    CHECK_THAT(told, Contains("hint: the CI job that reports this context has not run for this "
                              "commit: start it (or ask why it did not), wait for success, then "
                              "push again"));

    // CI gets the commit from a branch and reports on the server.
    REQUIRE(sandbox.push({"origin", "HEAD:refs/heads/feature/first"}).status == 0);
    REQUIRE(ci_reports(sandbox, tip, "build", "pending",
                       {"--description", "compiling", "--url", "http://ci.example/builds/7"})
                .status == 0);
    REQUIRE(ci_reports(sandbox, tip, "unit-tests", "success").status == 0);
    pushed = sandbox.push({"origin", "main"});
    told = remote_text(pushed);
    CHECK(pushed.status != 0);
    CHECK(sandbox.server_rev("refs/heads/main").empty());
    CHECK_THAT(told, Contains("trunkgate: push rejected: 1 problem"));
    CHECK_THAT(told, Contains("[required-checks] check 'build' is pending for " + short_id(tip) +
                              ": compiling (http://ci.example/builds/7)"));
    CHECK_THAT(told,
               Contains("hint: CI is still running: wait for it to succeed, then push again"));
    CHECK(told.find("unit-tests") == std::string::npos);

    REQUIRE(ci_reports(sandbox, tip, "build", "failure",
                       {"--description", "2 errors", "--url", "http://ci.example/builds/8"})
                .status == 0);
    pushed = sandbox.push({"origin", "main"});
    told = remote_text(pushed);
    CHECK(pushed.status != 0);
    CHECK(sandbox.server_rev("refs/heads/main").empty());
    CHECK_THAT(told, Contains("[required-checks] check 'build' is failure for " + short_id(tip) +
                              ": 2 errors (http://ci.example/builds/8)"));
    CHECK_THAT(told, Contains("hint: fix what failed, push the fix to a branch, and push here once "
                              "CI succeeds on it"));

    REQUIRE(ci_reports(sandbox, tip, "build", "success", {"--url", "http://ci.example/builds/9"})
                .status == 0);
    pushed = sandbox.push({"origin", "main"});
    CHECK(pushed.status == 0);
    CHECK(sandbox.server_rev("refs/heads/main") == tip);
    CHECK(remote_text(pushed).find("[required-checks]") == std::string::npos);

    // What CI recorded, as `trunkgate status get` and `status list` show it.
    const auto got =
        sandbox.trunkgate({"status", "get", "--repo", sandbox.server(), tip, "--format", "json"});
    REQUIRE(got.status == 0);
    const auto statuses = json::parse(got.out);
    CHECK(statuses["build"]["state"] == "success");
    CHECK(statuses["build"]["url"] == "http://ci.example/builds/9");
    CHECK(statuses["build"]["by"] == "ci-bot");
    CHECK(statuses["unit-tests"]["state"] == "success");
    const auto listed = sandbox.trunkgate({"status", "list", "--repo", sandbox.server()});
    CHECK_THAT(listed.out, Contains(tip.substr(0, 12) + "  build  success"));
    CHECK_THAT(listed.out, Contains(tip.substr(0, 12) + "  unit-tests  success"));
}

TEST_CASE("gates: a check that two [[protect]] entries require is one finding", "[e2e][gates]") {
    git_sandbox sandbox;
    sandbox.install(R"(
[[protect]]
refs = ["refs/heads/main", "refs/heads/release/*"]
required_checks = ["build", "lint"]

[[protect]]
refs = ["refs/heads/main"]
required_checks = ["build", "unit-tests"]
)");
    const auto tip = sandbox.commit("feat: first");
    const auto pushed = sandbox.push({"origin", "main"});
    const auto told = remote_text(pushed);
    INFO(told);
    CHECK(pushed.status != 0);
    CHECK_THAT(told, Contains("trunkgate: push rejected: 3 problems"));
    const auto missing_build = "[required-checks] check 'build' is missing for " + short_id(tip);
    const auto first = told.find(missing_build);
    REQUIRE(first != std::string::npos);
    CHECK(told.find(missing_build, first + 1) == std::string::npos);
    CHECK_THAT(told, Contains("[required-checks] check 'lint' is missing"));
    CHECK_THAT(told, Contains("[required-checks] check 'unit-tests' is missing"));
}

TEST_CASE("gates: statuses and approvals pushed by a non-writer are refused, CI's are taken",
          "[e2e][gates]") {
    git_sandbox sandbox;
    sandbox.install(checks_policy);
    const auto tip = sandbox.commit("feat: first");
    REQUIRE(sandbox.push({"origin", "HEAD:refs/heads/feature/first"}).status == 0);

    // In the developer's clone: mark the own commit green and push the notes.
    REQUIRE(sandbox.trunkgate({"status", "set", tip, "build", "success"}).status == 0);
    REQUIRE(sandbox.trunkgate({"status", "set", tip, "unit-tests", "success"}).status == 0);
    auto pushed = sandbox.push({"origin", checks_ref});
    auto told = remote_text(pushed);
    CHECK(pushed.status != 0);
    CHECK(sandbox.server_rev(checks_ref).empty());
    CHECK_THAT(told, Contains("  " + checks_ref +
                              "  [status-write] 'dev' may not write CI statuses or approvals "
                              "(writers: ci-bot)"));
    CHECK_THAT(told, Contains("nobody marks their own commit green"));
    CHECK(sandbox.push({"origin", "main"}).status != 0);
    CHECK(sandbox.server_rev("refs/heads/main").empty());

    // Approvals are writer-only too.
    REQUIRE(sandbox.trunkgate({"approve", tip}, "", as("alice")).status == 0);
    pushed = sandbox.push({"origin", approvals_ref}, as("alice"));
    CHECK(pushed.status != 0);
    CHECK(sandbox.server_rev(approvals_ref).empty());
    CHECK_THAT(remote_text(pushed), Contains("  " + approvals_ref +
                                             "  [status-write] 'alice' may not write CI "
                                             "statuses or approvals (writers: ci-bot)"));

    // The same statuses recorded in a CI clone and pushed by CI count.
    pushed = sandbox.push({"origin", checks_ref}, as("ci-bot"));
    CHECK(pushed.status == 0);
    CHECK(sandbox.server_rev(checks_ref) == sandbox.clone_rev(checks_ref));
    pushed = sandbox.push({"origin", "main"});
    CHECK(pushed.status == 0);
    CHECK(sandbox.server_rev("refs/heads/main") == tip);
}

// ---------------------------------------------------------------------------------------------
// Promotion and approvals

TEST_CASE("gates: staging may only move to commits already on main", "[e2e][gates]") {
    git_sandbox sandbox;
    sandbox.install(R"(
[[protect]]
refs = ["refs/heads/staging"]
promote_from = "refs/heads/main"
)");
    const auto on_main = sandbox.commit("feat: first");
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    const auto ahead = sandbox.commit("feat: second");

    auto pushed = sandbox.push({"origin", "HEAD:refs/heads/staging"});
    const auto told = remote_text(pushed);
    CHECK(pushed.status != 0);
    CHECK(sandbox.server_rev("refs/heads/staging").empty());
    CHECK_THAT(told, Contains("  refs/heads/staging  [promotion] staging may only move to commits "
                              "already on main; " +
                              short_id(ahead) + " is not on it"));
    CHECK_THAT(told, Contains("hint: promote what main has: git fetch origin && git push origin "
                              "origin/main:staging"));

    pushed = sandbox.push({"origin", on_main + ":refs/heads/staging"});
    CHECK(pushed.status == 0);
    CHECK(sandbox.server_rev("refs/heads/staging") == on_main);

    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    pushed = sandbox.push({"origin", "HEAD:refs/heads/staging"});
    CHECK(pushed.status == 0);
    CHECK(sandbox.server_rev("refs/heads/staging") == ahead);
}

TEST_CASE("gates: the shipped promotion template walks a commit main -> staging -> production",
          "[e2e][gates]") {
    // The template as shipped, without its [events] endpoint (nothing listens there in a test).
    auto template_text = read_file(source_path("templates/policy/promotion.toml"));
    template_text.erase(template_text.find("\n[events]"));
    git_sandbox sandbox;
    sandbox.install(template_text);

    const auto release = commit_file(sandbox, "feat: first", "app.txt", "v1\n");
    REQUIRE(sandbox.push({"origin", "HEAD:refs/heads/feature/first"}).status == 0);
    for (const auto* context : {"build", "unit-tests"})
        REQUIRE(ci_reports(sandbox, release, context, "success").status == 0);
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);

    // Staging: only CI or release managers, and integration tests must have run.
    auto pushed = sandbox.push({"origin", "main:refs/heads/staging"}, as("release-bob"));
    CHECK(pushed.status != 0);
    CHECK_THAT(remote_text(pushed),
               Contains("refs/heads/staging  [required-checks] check 'integration/*' is missing "
                        "for " +
                        short_id(release)));
    REQUIRE(ci_reports(sandbox, release, "integration/api", "success").status == 0);
    pushed = sandbox.push({"origin", "main:refs/heads/staging"}, as("release-bob"));
    CHECK(pushed.status == 0);
    CHECK(sandbox.server_rev("refs/heads/staging") == release);

    // A newer commit, green everywhere and on main, is not on staging yet.
    const auto newer = commit_file(sandbox, "feat: second", "app.txt", "v2\n");
    REQUIRE(sandbox.push({"origin", "HEAD:refs/heads/feature/second"}).status == 0);
    for (const auto* context : {"build", "unit-tests", "integration/api", "staging/smoke"})
        REQUIRE(ci_reports(sandbox, newer, context, "success").status == 0);
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    pushed = sandbox.push({"origin", "main:refs/heads/production"}, as("release-bob"));
    auto told = remote_text(pushed);
    CHECK(pushed.status != 0);
    CHECK(sandbox.server_rev("refs/heads/production").empty());
    CHECK_THAT(told, Contains("refs/heads/production  [promotion] production may only move to "
                              "commits already on staging; " +
                              short_id(newer) + " is not on it"));

    // What staging has needs its smoke test and an approval by someone other than its author.
    REQUIRE(ci_reports(sandbox, release, "staging/smoke", "success").status == 0);
    pushed = sandbox.push({"origin", release + ":refs/heads/production"}, as("release-bob"));
    told = remote_text(pushed);
    CHECK(pushed.status != 0);
    CHECK_THAT(told, Contains("trunkgate: push rejected: 1 problem"));
    CHECK_THAT(told, Contains("refs/heads/production  [approval] " + short_id(release) +
                              " needs an approval from release-*, alice (within 7 days, not by "
                              "its author): no approval yet"));
    CHECK_THAT(told,
               Contains("hint: ask an approver to run: trunkgate approve " + short_id(release)));
    const auto approved = approve(sandbox, "alice", release, {"--comment", "release 1.0"});
    CHECK(approved.status == 0);
    CHECK_THAT(approved.out, Contains("approved " + release.substr(0, 12) + " as alice"));
    pushed = sandbox.push({"origin", release + ":refs/heads/production"}, as("release-bob"));
    CHECK(pushed.status == 0);
    CHECK(sandbox.server_rev("refs/heads/production") == release);
}

TEST_CASE("gates: production needs a fresh approval by an approver who is not the author",
          "[e2e][gates]") {
    git_sandbox sandbox;
    sandbox.install(approval_policy);
    const auto tip = sandbox.commit("feat: release candidate");
    REQUIRE(sandbox.push({"origin", "HEAD:refs/heads/feature/rc"}).status == 0);
    const auto needs = "[approval] " + short_id(tip) +
                       " needs an approval from alice, release-* (within 7 days, not by its "
                       "author): ";

    SECTION("granted by an approver") {
        auto pushed = sandbox.push({"origin", "HEAD:refs/heads/production"});
        CHECK(pushed.status != 0);
        CHECK_THAT(remote_text(pushed), Contains(needs + "no approval yet"));
        REQUIRE(approve(sandbox, "alice", tip).status == 0);
        pushed = sandbox.push({"origin", "HEAD:refs/heads/production"});
        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/production") == tip);
    }

    SECTION("by someone who is not an approver") {
        REQUIRE(approve(sandbox, "mallory", tip).status == 0);
        const auto pushed = sandbox.push({"origin", "HEAD:refs/heads/production"});
        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/production").empty());
        CHECK_THAT(remote_text(pushed), Contains(needs + "mallory is not an approver"));
    }

    SECTION("expired after max_age_days, then renewed") {
        // An approval alice gave eight days ago, in the documented note format.
        const json note{{"approvals",
                         {{{"by", "alice"},
                           {"state", "approved"},
                           {"at", days_ago(8)},
                           {"comment", "last week"}}}}};
        REQUIRE(sandbox
                    .git_in(sandbox.server(),
                            {"notes", "--ref", approvals_ref, "add", "-m", note.dump(), tip})
                    .status == 0);
        auto pushed = sandbox.push({"origin", "HEAD:refs/heads/production"});
        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/production").empty());
        CHECK_THAT(remote_text(pushed),
                   Contains(needs + "the approval by alice expired (older than 7 days)"));

        REQUIRE(approve(sandbox, "alice", tip).status == 0);
        pushed = sandbox.push({"origin", "HEAD:refs/heads/production"});
        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/production") == tip);
    }

    SECTION("any rejection blocks, until its author withdraws it") {
        REQUIRE(approve(sandbox, "alice", tip).status == 0);
        const auto rejected =
            approve(sandbox, "release-bob", tip, {"--reject", "--comment", "breaks billing"});
        CHECK(rejected.status == 0);
        CHECK_THAT(rejected.out, Contains("rejected " + tip.substr(0, 12) + " as release-bob"));
        auto pushed = sandbox.push({"origin", "HEAD:refs/heads/production"});
        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/production").empty());
        CHECK_THAT(remote_text(pushed),
                   Contains(needs + "rejected by release-bob (\"breaks billing\")"));

        REQUIRE(approve(sandbox, "release-bob", tip).status == 0);
        pushed = sandbox.push({"origin", "HEAD:refs/heads/production"});
        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/production") == tip);
    }

    SECTION("not by the commit's author") {
        const auto own = commit_file(
            sandbox, "feat: alice's change", "alice.txt", "a\n",
            {{"GIT_AUTHOR_NAME", "Alice Liddell"}, {"GIT_AUTHOR_EMAIL", "alice@example.com"}});
        REQUIRE(sandbox.push({"origin", "HEAD:refs/heads/feature/rc"}).status == 0);
        REQUIRE(approve(sandbox, "alice", own).status == 0);
        auto pushed = sandbox.push({"origin", "HEAD:refs/heads/production"});
        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/production").empty());
        CHECK_THAT(remote_text(pushed),
                   Contains("[approval] " + short_id(own) +
                            " needs an approval from alice, release-* (within 7 days, not by its "
                            "author): alice wrote the commit and may not approve it"));

        REQUIRE(approve(sandbox, "release-bob", own).status == 0);
        pushed = sandbox.push({"origin", "HEAD:refs/heads/production"});
        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/production") == own);
    }
}

// ---------------------------------------------------------------------------------------------
// Bypass and audit

TEST_CASE("gates: a bypass works for an allowed identity with a reason, and is audited",
          "[e2e][gates]") {
    git_sandbox sandbox;
    sandbox.install(checks_policy);
    const auto tip = sandbox.commit("fix: hotfix");

    SECTION("an allowed identity with a reason") {
        const auto pushed = sandbox.push(
            {"-o", "trunkgate.bypass=INC-42: CI is down", "origin", "main"}, as("release-manager"));
        const auto told = remote_text(pushed);
        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/main") == tip);
        CHECK_THAT(told, Contains("trunkgate: BYPASS by release-manager (\"INC-42: CI is down\"): "
                                  "push accepted despite 2 problems"));
        CHECK_THAT(told, Contains("  refs/heads/main  [required-checks] bypassed: check 'build' is "
                                  "missing for " +
                                  short_id(tip)));
        CHECK_THAT(told, Contains("[required-checks] bypassed: check 'unit-tests' is missing"));

        const auto records = audit_records(sandbox);
        REQUIRE(records.size() == 1);
        CHECK(records[0]["decision"] == "bypass");
        CHECK(records[0]["identity"] == "release-manager");
        CHECK(records[0]["bypass_reason"] == "INC-42: CI is down");
        CHECK(finding_rules(records[0]) ==
              std::vector<std::string>{"required-checks:warn", "required-checks:warn"});
    }

    SECTION("anyone else") {
        const auto pushed =
            sandbox.push({"-o", "trunkgate.bypass=just this once", "origin", "main"});
        const auto told = remote_text(pushed);
        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main").empty());
        CHECK_THAT(told, Contains("trunkgate: push rejected: 3 problems"));
        CHECK_THAT(told, Contains("  [bypass-denied] 'dev' may not bypass the policy (allowed: "
                                  "release-manager)"));
        CHECK_THAT(told, Contains("hint: push without -o trunkgate.bypass, or ask a release "
                                  "manager"));
        CHECK_THAT(told, Contains("  refs/heads/main  [required-checks] check 'build' is missing"));
        CHECK(told.find("BYPASS") == std::string::npos);

        const auto records = audit_records(sandbox);
        REQUIRE(records.size() == 1);
        CHECK(records[0]["decision"] == "reject");
        CHECK(records[0]["identity"] == "dev");
        CHECK(records[0]["bypass_reason"].is_null());
        CHECK(finding_rules(records[0]) == std::vector<std::string>{"required-checks:block",
                                                                    "required-checks:block",
                                                                    "bypass-denied:block"});
    }

    SECTION("an allowed identity without a reason") {
        const auto pushed =
            sandbox.push({"-o", "trunkgate.bypass=", "origin", "main"}, as("release-manager"));
        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main").empty());
        CHECK_THAT(remote_text(pushed), Contains("  [bypass-denied] a bypass needs a reason: -o "
                                                 "trunkgate.bypass=\"<why>\""));
    }
}

TEST_CASE("gates: every decision is one line of the audit log", "[e2e][gates]") {
    git_sandbox sandbox;
    sandbox.install(checks_policy);
    const auto first = sandbox.commit("feat: first");
    REQUIRE(sandbox.push({"origin", "main"}).status != 0);                          // reject
    REQUIRE(sandbox.push({"origin", "HEAD:refs/heads/feature/first"}).status == 0); // accept
    for (const auto* context : {"build", "unit-tests"})
        REQUIRE(ci_reports(sandbox, first, context, "success").status == 0);
    REQUIRE(sandbox.push({"origin", "main"}).status == 0); // accept
    const auto second = sandbox.commit("fix: urgent");
    REQUIRE(sandbox.push({"-o", "trunkgate.bypass=INC-7", "origin", "main"}, as("release-manager"))
                .status == 0); // bypass

    // The file holds each decision as `trunkgate audit --format json` prints it (which adds
    // `landed`), and after each push that went through, the landed record of its push.
    const auto records = audit_records(sandbox);
    REQUIRE(records.size() == 4);
    std::vector<json> decisions, landings;
    std::istringstream file(read_file(sandbox.server() + "/trunkgate/audit.log"));
    for (std::string line; std::getline(file, line);) {
        const auto parsed = json::parse(line);
        (parsed["kind"] == "landed" ? landings : decisions).push_back(parsed);
    }
    REQUIRE(decisions.size() == 4);
    REQUIRE(landings.size() == 3);
    for (std::size_t i = 0; i < records.size(); ++i) {
        auto printed = records[i];
        printed.erase("landed");
        CHECK(decisions[i] == printed);
    }
    CHECK(records[0]["landed"] == json::array());
    for (std::size_t i = 1; i < records.size(); ++i) {
        CHECK(records[i]["landed"] == records[i]["refs"]);
        CHECK(landings[i - 1]["push"] == decisions[i]["push"]);
    }

    const std::regex iso_time(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00)");
    for (const auto& record : records) {
        CHECK(std::regex_match(record["time"].get<std::string>(), iso_time));
        CHECK(record["policy"] == "trunkgate.toml");
        REQUIRE(record["refs"].size() == 1);
    }
    const auto ref_of = [](const json& record) {
        const auto& ref = record["refs"][0];
        return ref["ref"].get<std::string>() + " " + ref["old"].get<std::string>() + " " +
               ref["new"].get<std::string>();
    };

    CHECK(records[0]["identity"] == "dev");
    CHECK(records[0]["decision"] == "reject");
    CHECK(ref_of(records[0]) == "refs/heads/main " + zero_id + " " + first);
    CHECK(finding_rules(records[0]) ==
          std::vector<std::string>{"required-checks:block", "required-checks:block"});
    CHECK(records[0]["findings"][0]["commit"] == first);
    CHECK_THAT(records[0]["findings"][0]["message"].get<std::string>(),
               Contains("check 'build' is missing"));
    CHECK(records[0]["bypass_reason"].is_null());

    CHECK(records[1]["decision"] == "accept");
    CHECK(ref_of(records[1]) == "refs/heads/feature/first " + zero_id + " " + first);
    CHECK(records[1]["findings"].empty());

    CHECK(records[2]["decision"] == "accept");
    CHECK(ref_of(records[2]) == "refs/heads/main " + zero_id + " " + first);

    CHECK(records[3]["identity"] == "release-manager");
    CHECK(records[3]["decision"] == "bypass");
    CHECK(records[3]["bypass_reason"] == "INC-7");
    CHECK(ref_of(records[3]) == "refs/heads/main " + first + " " + second);
    CHECK(finding_rules(records[3]) ==
          std::vector<std::string>{"required-checks:warn", "required-checks:warn"});

    // The text form, one line per decision.
    const auto text = sandbox.trunkgate({"audit", "--repo", sandbox.server()});
    REQUIRE(text.status == 0);
    std::vector<std::string> lines;
    std::istringstream printed(text.out);
    for (std::string line; std::getline(printed, line);)
        lines.push_back(line);
    REQUIRE(lines.size() == 4);
    CHECK_THAT(lines[0], Contains("  dev  reject  refs/heads/main 0000000.." + short_id(first) +
                                  "  (2 findings)"));
    CHECK_THAT(lines[3], Contains("  release-manager  bypass  refs/heads/main " + short_id(first) +
                                  ".." + short_id(second) + "  (2 findings)  bypass: \"INC-7\""));

    // --since: nothing is from the future, everything is from this century.
    CHECK(audit_records(sandbox, {"--since", "2999-01-01"}).empty());
    CHECK(audit_records(sandbox, {"--since", "2000-01-01"}).size() == 4);
}

TEST_CASE("gates: concurrent pushes each leave one whole line in the audit log", "[e2e][gates]") {
    git_sandbox sandbox;
    sandbox.install(checks_policy);
    sandbox.commit("feat: first");
    constexpr int pushes = 8;
    std::vector<run_result> results(pushes);
    std::vector<std::thread> pushers;
    for (int i = 0; i < pushes; ++i)
        pushers.emplace_back([&sandbox, &results, i] {
            results[static_cast<std::size_t>(i)] =
                sandbox.push({"origin", "HEAD:refs/heads/feature/p" + std::to_string(i)});
        });
    for (auto& pusher : pushers)
        pusher.join();
    for (const auto& result : results)
        CHECK(result.status == 0);

    // A decision and a landed record per push, each whole, paired by a push id of its own.
    std::set<std::string> refs, decided, landed;
    std::istringstream file(read_file(sandbox.server() + "/trunkgate/audit.log"));
    int lines = 0;
    for (std::string line; std::getline(file, line); ++lines) {
        const auto record = json::parse(line); // throws on an interleaved line
        REQUIRE(record["push"].is_string());
        if (record["kind"] == "landed") {
            landed.insert(record["push"].get<std::string>());
            continue;
        }
        CHECK(record["decision"] == "accept");
        refs.insert(record["refs"][0]["ref"].get<std::string>());
        decided.insert(record["push"].get<std::string>());
    }
    CHECK(lines == 2 * pushes);
    CHECK(refs.size() == static_cast<std::size_t>(pushes));
    CHECK(decided.size() == static_cast<std::size_t>(pushes));
    CHECK(landed == decided);
}

// ---------------------------------------------------------------------------------------------
// Required checks from a combined-status API

namespace {

// timeout_ms: 3 s, so that a loopback answer on a loaded machine (sanitizers, ctest -j) is never
// late; the section about slow answers sets its own.
std::string http_checks_policy(const status_api& api, const std::string& on_error = "block",
                               int timeout_ms = 3000) {
    return R"(
[[protect]]
refs = ["refs/heads/main"]
required_checks = ["build"]

[repository]
full_name = "team/project"

[checks]
source = "http"

[checks.http]
url = ")" + api.url_template() +
           R"("
token_env = "TRUNKGATE_STATUS_TOKEN"
timeout_ms = )" +
           std::to_string(timeout_ms) + "\non_error = \"" + on_error + "\"\n";
}

std::string combined_status(const std::string& state, const json& statuses) {
    return json{{"state", state}, {"statuses", statuses}}.dump();
}

const std::map<std::string, std::string> token{{"TRUNKGATE_STATUS_TOKEN", "tg-token-31"}};

} // namespace

TEST_CASE("gates: required checks from a combined-status API", "[e2e][gates]") {
    status_api api;
    git_sandbox sandbox;
    sandbox.install(http_checks_policy(api));
    const auto tip = sandbox.commit("feat: first");
    const auto unavailable = "  refs/heads/main  [required-checks] status backend unavailable: ";
    const auto cannot_confirm = "; cannot confirm build for " + short_id(tip) + "\n";

    SECTION("good answers: success lets main move, failure and missing do not") {
        api.answer(
            {200, combined_status("failure",
                                  json::array({{{"context", "build"},
                                                {"state", "failure"},
                                                {"description", "3 tests failed"},
                                                {"target_url", "http://ci.example/runs/9"}}}))});
        auto pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main").empty());
        CHECK_THAT(remote_text(pushed),
                   Contains("[required-checks] check 'build' is failure for " + short_id(tip) +
                            ": 3 tests failed (http://ci.example/runs/9)"));

        api.answer({200, combined_status("pending", json::array({{{"context", "lint"},
                                                                  {"state", "success"}}}))});
        pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status != 0);
        CHECK_THAT(remote_text(pushed),
                   Contains("[required-checks] check 'build' is missing for " + short_id(tip)));

        api.answer(
            {200, combined_status("success",
                                  json::array({{{"context", "build"},
                                                {"state", "success"},
                                                {"target_url", "http://ci.example/runs/10"}}}))});
        pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/main") == tip);

        const auto requests = api.requests();
        REQUIRE(requests.size() == 3);
        for (const auto& request : requests) {
            CHECK(request.method == "GET");
            CHECK(request.target == "/repos/team/project/commits/" + tip + "/status?per_page=100");
            CHECK(request.header("Authorization") == "Bearer tg-token-31");
        }
    }

    SECTION("an answer slower than timeout_ms blocks, and the push does not wait for it") {
        sandbox.write_server_policy(http_checks_policy(api, "block", 500));
        api.answer({200, combined_status("success", json::array()), 5000ms});
        const auto started = std::chrono::steady_clock::now();
        const auto pushed = sandbox.push({"origin", "main"}, token);
        const auto took = std::chrono::steady_clock::now() - started;
        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main").empty());
        CHECK_THAT(remote_text(pushed), Contains(unavailable));
        CHECK_THAT(remote_text(pushed), Contains(cannot_confirm));
        CHECK_THAT(remote_text(pushed), Contains("timed out"));
        // timeout_ms = 500; the whole push stays under the slow answer.
        CHECK(took < 4500ms);
        CHECK(api.requests().size() == 1);
    }

    SECTION("HTTP 500 blocks") {
        api.answer({500, R"({"message": "internal error"})"});
        const auto pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main").empty());
        CHECK_THAT(remote_text(pushed),
                   Contains(unavailable + std::string("HTTP 500") + cannot_confirm));
        CHECK_THAT(remote_text(pushed), Contains("hint: try again in a minute; if it persists, "
                                                 "tell the repository admins"));
    }

    SECTION("garbage blocks: not JSON, JSON of another shape, not HTTP") {
        api.answer({200, "<html><body>Bad gateway</body></html>"});
        auto pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status != 0);
        CHECK_THAT(remote_text(pushed), Contains(unavailable + std::string("invalid answer: not "
                                                                           "JSON")));

        api.answer({200, R"({"state": "success"})"});
        pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status != 0);
        CHECK_THAT(remote_text(pushed), Contains(unavailable + std::string("invalid answer: ")));

        api.answer({200, "\x01\x02 no status line here\r\n\r\n", 0ms, true});
        pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status != 0);
        CHECK_THAT(remote_text(pushed), Contains(unavailable));
        CHECK(sandbox.server_rev("refs/heads/main").empty());
    }

    SECTION("on_error = allow turns an unavailable backend into a warning") {
        sandbox.install(http_checks_policy(api, "allow"));
        api.answer({500, "{}"});
        const auto pushed = sandbox.push({"origin", "main"}, token);
        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/main") == tip);
        CHECK_THAT(remote_text(pushed), Contains("trunkgate: push accepted with 1 warning"));
        CHECK_THAT(remote_text(pushed),
                   Contains("  refs/heads/main  [required-checks] warning: status backend "
                            "unavailable: HTTP 500"));
    }
}
