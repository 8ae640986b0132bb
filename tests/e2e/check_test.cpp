// End-to-end: `trunkgate check` answers before a push with the hook's own text, as JSON, and
// with the documented exit codes (0 accepted, 1 rejected, 2 usage, 3 policy error).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sstream>

#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using Catch::Contains;
using Catch::StartsWith;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

// Main with a base commit and four more; trunkgate installed with max_behind = 3 and main
// protected; the clone on `feature/stale`, one commit on top of the base.
struct stale_branch {
    git_sandbox sandbox;
    std::string policy_file;
    std::string tip;

    stale_branch() {
        const auto start = days_ago(1);
        const auto base = sandbox.commit("main 0", "", start);
        for (int i = 1; i <= 4; ++i)
            sandbox.commit("main " + std::to_string(i), "", start + 60 * i);
        REQUIRE(sandbox.push({"origin", "main"}).status == 0);
        sandbox.install("[[protect]]\nrefs = [\"refs/heads/main\"]\npush_allowed = "
                        "[\"release-*\"]\n\n[branches]\nmax_behind = 3\n");
        policy_file = sandbox.server() + "/trunkgate.toml";
        REQUIRE(sandbox.git({"checkout", "-q", "-b", "feature/stale", base}).status == 0);
        tip = sandbox.commit("feat: stale work", "stale.txt", start + 3600);
    }

    std::vector<std::string> create_args() const {
        return {zero_id, tip, "refs/heads/feature/stale"};
    }
};

} // namespace

TEST_CASE("check: text output matches the hook's and exits 1 on a rejection",
          "[e2e][check][text]") {
    stale_branch setup;
    auto& sandbox = setup.sandbox;
    std::vector<std::string> args{"check", "--policy", setup.policy_file};
    for (const auto& arg : setup.create_args())
        args.push_back(arg);

    const auto checked = sandbox.trunkgate(args);
    const auto pushed = sandbox.push({"origin", "feature/stale"});

    CHECK(checked.status == 1);
    REQUIRE(pushed.status != 0);
    const auto check_lines = lines_of(checked.out);
    const auto hook_lines = remote_lines(pushed);
    REQUIRE(check_lines.size() == 3);
    REQUIRE(hook_lines.size() == 3);
    // The header names the policy file as each program found it; the findings are identical.
    CHECK_THAT(check_lines[0], StartsWith("trunkgate: push rejected: 1 problem (policy "));
    CHECK_THAT(hook_lines[0], StartsWith("trunkgate: push rejected: 1 problem (policy "));
    CHECK(check_lines[1] == hook_lines[1]);
    CHECK(check_lines[2] == hook_lines[2]);
    CHECK_THAT(check_lines[1], Contains("refs/heads/feature/stale  [up-to-date] branch is"));
    CHECK_THAT(check_lines[1], Contains("4 commits behind main (limit 3)"));

    SECTION("the same updates on stdin, in pre-receive format") {
        const auto from_stdin =
            sandbox.trunkgate({"check", "--policy", setup.policy_file},
                              zero_id + " " + setup.tip + " refs/heads/feature/stale\n");
        CHECK(from_stdin.status == 1);
        CHECK(from_stdin.out == checked.out);
    }
}

TEST_CASE("check: --format json carries rule, ref, commit, value and limit", "[e2e][check][json]") {
    stale_branch setup;
    auto& sandbox = setup.sandbox;
    std::vector<std::string> args{"check", "--format", "json", "--policy", setup.policy_file};
    for (const auto& arg : setup.create_args())
        args.push_back(arg);

    const auto checked = sandbox.trunkgate(args);

    CHECK(checked.status == 1);
    const auto document = nlohmann::json::parse(checked.out);
    CHECK(document.at("decision") == "reject");
    CHECK(document.at("mode") == "enforce");
    REQUIRE(document.at("findings").size() == 1);
    const auto& finding = document.at("findings").at(0);
    CHECK(finding.at("rule") == "up-to-date");
    CHECK(finding.at("level") == "block");
    CHECK(finding.at("ref") == "refs/heads/feature/stale");
    CHECK(finding.at("commit") == setup.tip);
    CHECK(finding.at("value") == 4);
    CHECK(finding.at("limit") == 3);
    CHECK_THAT(finding.at("message").get<std::string>(),
               Contains("4 commits behind main (limit 3)"));
    CHECK(finding.at("hint") == "git fetch origin && git rebase origin/main && git push "
                                "--force-with-lease origin HEAD:feature/stale");
    // Keys in the documented order (README): decision, mode, findings.
    const auto& raw = checked.out;
    CHECK(raw.find("\"decision\"") < raw.find("\"mode\""));
    CHECK(raw.find("\"mode\"") < raw.find("\"findings\""));
}

TEST_CASE("check: exit 0 with no problems, in text and JSON", "[e2e][check][accept]") {
    stale_branch setup;
    auto& sandbox = setup.sandbox;
    REQUIRE(sandbox.git({"rebase", "-q", "main"}).status == 0);
    const auto rebased = sandbox.clone_rev("HEAD");
    const std::vector<std::string> update{zero_id, rebased, "refs/heads/feature/stale"};

    auto text_args = std::vector<std::string>{"check", "--policy", setup.policy_file};
    text_args.insert(text_args.end(), update.begin(), update.end());
    const auto text = sandbox.trunkgate(text_args);
    CHECK(text.status == 0);
    CHECK(text.out == "trunkgate: no problems found (policy " + setup.policy_file + ")\n");

    auto json_args = text_args;
    json_args.insert(json_args.begin() + 1, {"--format", "json"});
    const auto json = sandbox.trunkgate(json_args);
    CHECK(json.status == 0);
    const auto document = nlohmann::json::parse(json.out);
    CHECK(document.at("decision") == "accept");
    CHECK(document.at("findings").empty());

    const auto pushed = sandbox.push({"origin", "feature/stale"});
    CHECK(pushed.status == 0);
    CHECK(sandbox.server_rev("refs/heads/feature/stale") == rebased);
}

TEST_CASE("check: --repo judges updates against the server repository", "[e2e][check][repo]") {
    stale_branch setup;
    auto& sandbox = setup.sandbox;
    const auto main_tip = sandbox.server_rev("refs/heads/main");

    SECTION("deleting main: protected-delete, exit 1") {
        const auto checked = sandbox.trunkgate(
            {"check", "--repo", sandbox.server(), main_tip, zero_id, "refs/heads/main"});
        CHECK(checked.status == 1);
        CHECK_THAT(checked.out, Contains("refs/heads/main  [protected-delete]"));
        CHECK(checked.err.empty());
    }
    SECTION("--as picks the identity that push_allowed sees") {
        const auto parent = sandbox.server_rev("refs/heads/main~1");
        // A rewind of main: force-push and, for a pusher outside release-*, push-restricted.
        const std::vector<std::string> rewind{"check",  "--repo", sandbox.server(), "--as", "dev",
                                              main_tip, parent,   "refs/heads/main"};
        const auto as_dev = sandbox.trunkgate(rewind);
        CHECK(as_dev.status == 1);
        CHECK_THAT(as_dev.out, Contains("[push-restricted] 'dev' may not update"));
        CHECK_THAT(as_dev.out, Contains("[force-push]"));

        auto as_bot_args = rewind;
        as_bot_args[4] = "release-bot";
        const auto as_bot = sandbox.trunkgate(as_bot_args);
        CHECK(as_bot.status == 1);
        CHECK_THAT(as_bot.out, !Contains("[push-restricted]"));
        CHECK_THAT(as_bot.out, Contains("[force-push]"));
    }
    SECTION("an object the server lacks: ref-target") {
        const auto checked = sandbox.trunkgate(
            {"check", "--repo", sandbox.server(), zero_id, setup.tip, "refs/heads/feature/stale"});
        CHECK(checked.status == 1);
        CHECK_THAT(checked.out,
                   Contains("refs/heads/feature/stale  [ref-target] new value " +
                            setup.tip.substr(0, 7) + " is not an object in this repository"));
    }
}

TEST_CASE("check: a policy that does not load exits 3 with policy-error",
          "[e2e][check][policy-error]") {
    stale_branch setup;
    auto& sandbox = setup.sandbox;
    const auto policy = sandbox.dir() + "/bad.toml";
    write_file(policy, "[branches]\nmax_behind = 3\nmax_behnd = 4\n");
    auto args = std::vector<std::string>{"check", "--policy", policy};
    for (const auto& arg : setup.create_args())
        args.push_back(arg);

    const auto text = sandbox.trunkgate(args);
    CHECK(text.status == 3);
    CHECK_THAT(text.out, Contains("[policy-error] " + policy + ":3:1: unknown key"));

    args.insert(args.begin() + 1, {"--format", "json"});
    const auto json = sandbox.trunkgate(args);
    CHECK(json.status == 3);
    const auto document = nlohmann::json::parse(json.out);
    CHECK(document.at("decision") == "reject");
    REQUIRE(document.at("findings").size() == 1);
    CHECK(document.at("findings").at(0).at("rule") == "policy-error");
    CHECK_THAT(document.at("findings").at(0).at("message").get<std::string>(),
               StartsWith(policy + ":3:1: unknown key 'branches.max_behnd'"));
}

TEST_CASE("check: bad command lines exit 2", "[e2e][check][usage]") {
    git_sandbox sandbox;
    SECTION("an unknown format") {
        const auto checked = sandbox.trunkgate({"check", "--format", "yaml"});
        CHECK(checked.status == 2);
        CHECK_THAT(checked.err, Contains("--format is text or json"));
    }
    SECTION("an incomplete triple") {
        const auto checked = sandbox.trunkgate({"check", zero_id, zero_id});
        CHECK(checked.status == 2);
        CHECK_THAT(checked.err, Contains("OLD NEW REF triples"));
    }
    SECTION("not in a repository") {
        const auto checked = sandbox.trunkgate({"check", "--repo", sandbox.dir() + "/nowhere",
                                                zero_id, std::string(40, 'a'), "refs/heads/x"});
        CHECK(checked.status == 2);
        CHECK_THAT(checked.err, Contains("is not in a git repository"));
    }
}
