// End-to-end: the policy as a whole: evaluate mode, a broken or missing policy (every push is
// rejected with [policy-error] and the position of the problem), and `trunkgate policy lint`.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <vector>

#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using Catch::Contains;

namespace {

std::string template_with(const std::string& from, const std::string& to) {
    auto text = read_file(source_path("templates/policy/trunk-based.toml"));
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

struct broken_policy {
    const char* what;
    const char* text;
    const char* position; ///< LINE:COLUMN
    const char* problem;  ///< "" where the wording belongs to toml++
};

const broken_policy broken_policies[] = {
    {"TOML syntax error", "mode = \"enforce\"\n[branches\nmax_behind = 3\n", "2:10", ""},
    {"unknown key", "[branches]\nmax_behind = 3\nmax_behnd = 4\n", "3:1",
     "unknown key 'branches.max_behnd'"},
    {"invalid RE2 pattern", "[tags]\nname_pattern = 'v(['\n", "2:16",
     "'tags.name_pattern' is not a valid RE2 pattern"},
    {"string for an integer", "[branches]\nmax_behind = \"3\"\n", "2:14",
     "'branches.max_behind' must be a non-negative integer"},
    {"string for a boolean", "[[protect]]\nrefs = [\"refs/heads/main\"]\nallow_delete = \"yes\"\n",
     "3:16", "'protect.allow_delete' must be true or false"},
    {"unknown rule id in [enforcement]", "[enforcement]\nbranch-agee = \"warn\"\n", "2:1",
     "unknown rule id 'branch-agee' in [enforcement]"},
    {"evaluate mode does not soften a broken policy", "mode = \"evaluate\"\n[trunk]\nbrnch = 1\n",
     "3:1", "unknown key 'trunk.brnch'"},
};

} // namespace

TEST_CASE("policy: evaluate mode accepts what enforce mode would reject and says so",
          "[e2e][policy][evaluate]") {
    git_sandbox sandbox;
    sandbox.install(template_with("mode = \"enforce\"", "mode = \"evaluate\""));
    sandbox.commit("feat: first");
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    REQUIRE(sandbox.git({"commit", "-q", "--amend", "-m", "feat: first, reworded"}).status == 0);
    const auto rewritten = sandbox.clone_rev("HEAD");

    const auto pushed = sandbox.push({"--force", "origin", "main", "HEAD:refs/heads/scratch"});

    CHECK(pushed.status == 0);
    CHECK(sandbox.server_rev("refs/heads/main") == rewritten);
    CHECK(sandbox.server_rev("refs/heads/scratch") == rewritten);
    CHECK_THAT(pushed.err, Contains("remote: trunkgate: evaluate mode, push accepted; enforcing "
                                    "would reject it: 2 problems (policy trunkgate.toml)"));
    CHECK_THAT(pushed.err,
               Contains("refs/heads/main  [force-push] would block: not a fast-forward"));
    CHECK_THAT(pushed.err, Contains("refs/heads/scratch  [branch-name] would block: branch name "
                                    "does not match"));
    CHECK_THAT(pushed.err, !Contains("push rejected"));
}

TEST_CASE("policy: in evaluate mode only demoted blocks say would block",
          "[e2e][policy][evaluate]") {
    git_sandbox sandbox;
    const auto policy_text = template_with("mode = \"enforce\"", "mode = \"evaluate\"");
    sandbox.install(policy_text);
    sandbox.commit("feat: first", "", days_ago(10));
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    // An old commit on a badly named branch: branch-age is "warn" in the template, branch-name
    // blocks.
    const auto tip = sandbox.commit("feat: old work", "old.txt", days_ago(5));
    const std::vector<std::string> update{zero_id, tip, "refs/heads/scratch"};

    auto args = std::vector<std::string>{"check", "--format", "json", "--policy",
                                         sandbox.server() + "/trunkgate.toml"};
    args.insert(args.end(), update.begin(), update.end());
    const auto checked = sandbox.trunkgate(args);
    CHECK(checked.status == 0);
    const auto document = nlohmann::json::parse(checked.out);
    CHECK(document.at("decision") == "accept");
    CHECK(document.at("mode") == "evaluate");
    REQUIRE(document.at("findings").size() == 2);
    for (const auto& finding : document.at("findings")) {
        CHECK(finding.at("level") == "warn");
        CHECK(finding.at("would_block") == (finding.at("rule") == "branch-name"));
    }

    const auto pushed = sandbox.push({"origin", "HEAD:refs/heads/scratch"});
    CHECK(pushed.status == 0);
    CHECK(sandbox.server_rev("refs/heads/scratch") == tip);
    CHECK_THAT(pushed.err, Contains("remote: trunkgate: evaluate mode, push accepted; enforcing "
                                    "would reject it: 1 problem"));
    CHECK_THAT(pushed.err, Contains("refs/heads/scratch  [branch-name] would block: "));
    CHECK_THAT(pushed.err, Contains("refs/heads/scratch  [branch-age] warning: "));
}

TEST_CASE("policy: the [feedback] contact is shown on a rejection only", "[e2e][policy][contact]") {
    git_sandbox sandbox;
    sandbox.install(template_with("contact = \"\"", "contact = \"#git-admins on chat\""));
    sandbox.commit("feat: first");
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);

    const auto rejected = sandbox.push({"origin", "HEAD:refs/heads/scratch"});
    CHECK(rejected.status != 0);
    CHECK_THAT(rejected.err, Contains("remote:   questions: #git-admins on chat"));

    sandbox.commit("feat: old", "old.txt", days_ago(5));
    const auto warned = sandbox.push({"origin", "HEAD:refs/heads/feature/old"});
    CHECK(warned.status == 0);
    CHECK_THAT(warned.err, Contains("[branch-age] warning: "));
    CHECK_THAT(warned.err, !Contains("questions:"));
}

TEST_CASE("policy: a broken policy rejects every push with policy-error and the position",
          "[e2e][policy][policy-error]") {
    for (const auto& broken : broken_policies) {
        DYNAMIC_SECTION(broken.what) {
            git_sandbox sandbox;
            sandbox.install();
            sandbox.write_server_policy(broken.text);
            sandbox.commit("feat: harmless");
            const auto pushed = sandbox.push({"origin", "HEAD:refs/heads/feature/ok"});

            CHECK(pushed.status != 0);
            CHECK(sandbox.server_rev("refs/heads/feature/ok").empty());
            const auto file = sandbox.server() + "/trunkgate.toml";
            CHECK_THAT(pushed.err, Contains("remote: trunkgate: push rejected: 1 problem"));
            CHECK_THAT(pushed.err, Contains("remote:   [policy-error] " + file + ":" +
                                            broken.position + ": " + broken.problem));
            CHECK_THAT(pushed.err, Contains("hint: the server's policy is broken, not your push: "
                                            "check it with `trunkgate policy lint " +
                                            file + "`"));
            CHECK_THAT(pushed.err, Contains("(pre-receive hook declined)"));
        }
    }
}

TEST_CASE("policy: no policy at all rejects every push with policy-error",
          "[e2e][policy][policy-error]") {
    git_sandbox sandbox;
    sandbox.install();
    sandbox.commit("feat: harmless");

    SECTION("trunkgate.toml deleted after install") {
        REQUIRE(std::remove((sandbox.server() + "/trunkgate.toml").c_str()) == 0);
        const auto pushed = sandbox.push({"origin", "main"});

        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main").empty());
        CHECK_THAT(pushed.err, Contains("remote:   [policy-error] " + sandbox.server() +
                                        "/trunkgate.toml:0:0: no policy found"));
    }
    SECTION("git config trunkgate.policy names a file that does not exist") {
        REQUIRE(sandbox.git_in(sandbox.server(), {"config", "trunkgate.policy", "missing.toml"})
                    .status == 0);
        const auto pushed = sandbox.push({"origin", "main"});

        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main").empty());
        CHECK_THAT(pushed.err, Contains("[policy-error] " + sandbox.server() +
                                        "/missing.toml:0:0: cannot read the policy file"));
    }
    SECTION("git config trunkgate.policy names a directory") {
        write_file(sandbox.server() + "/policies/README", "not a policy\n");
        REQUIRE(
            sandbox.git_in(sandbox.server(), {"config", "trunkgate.policy", "policies/"}).status ==
            0);
        const auto pushed = sandbox.push({"origin", "main"});

        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main").empty());
        CHECK_THAT(pushed.err, Contains("[policy-error] " + sandbox.server() +
                                        "/policies/:0:0: the policy is not a regular file"));
    }
}

TEST_CASE("policy: lint reports ok or FILE:LINE:COLUMN", "[e2e][policy][lint]") {
    git_sandbox sandbox;
    SECTION("the template is valid") {
        const auto file = source_path("templates/policy/trunk-based.toml");
        const auto linted = sandbox.trunkgate({"policy", "lint", file});
        CHECK(linted.status == 0);
        CHECK(linted.out == file + ": ok\n");
    }
    for (const auto& broken : broken_policies) {
        DYNAMIC_SECTION("invalid: " << broken.what) {
            const auto file = sandbox.dir() + "/broken.toml";
            write_file(file, broken.text);
            const auto linted = sandbox.trunkgate({"policy", "lint", file});
            CHECK(linted.status == 3);
            CHECK(linted.out.empty());
            CHECK_THAT(linted.err, Contains(file + ":" + broken.position + ": " + broken.problem));
        }
    }
    SECTION("a missing file") {
        const auto file = sandbox.dir() + "/nowhere.toml";
        const auto linted = sandbox.trunkgate({"policy", "lint", file});
        CHECK(linted.status == 3);
        CHECK_THAT(linted.err, Contains(file + ":0:0: cannot read the policy file"));
    }
    SECTION("no file: the policy of the repository here, which a fresh clone does not have") {
        const auto linted = sandbox.trunkgate({"policy", "lint"});
        CHECK(linted.status == 3);
        CHECK(linted.out.empty());
        CHECK_THAT(linted.err,
                   Contains(sandbox.clone() + "/.git/trunkgate.toml:0:0: no policy found"));
    }
    SECTION("a FILE and --repo, or two files: usage error") {
        for (const auto& args : std::vector<std::vector<std::string>>{
                 {"policy", "lint", "--repo", sandbox.server(), "x.toml"},
                 {"policy", "lint", "a.toml", "b.toml"}}) {
            const auto linted = sandbox.trunkgate(args);
            CHECK(linted.status == 2);
            CHECK_THAT(linted.err, Contains("usage: trunkgate policy lint FILE, or trunkgate "
                                            "policy lint [--repo DIR]"));
        }
    }
}

TEST_CASE("policy: the server-wide policy gates a repository without a policy of its own, "
          "whose own file wins",
          "[e2e][policy][server-wide]") {
    git_sandbox sandbox;
    const auto server_wide = sandbox.dir() + "/etc/trunkgate/policy.toml";
    write_file(server_wide, "[branches]\n"
                            "name_pattern = '^refs/heads/(main|feature/[a-z0-9-]+)$'\n"
                            "[feedback]\n"
                            "contact = \"the server-wide policy\"\n");
    const std::map<std::string, std::string> env{{"TRUNKGATE_SYSTEM_POLICY", server_wide}};
    const auto own_repo = sandbox.dir() + "/own.git";
    REQUIRE(sandbox.git_in(sandbox.dir(), {"init", "-q", "--bare", own_repo}).status == 0);
    const auto own_policy = sandbox.dir() + "/own.toml";
    write_file(own_policy, "[branches]\n"
                           "name_pattern = '^refs/heads/(main|scratch)$'\n"
                           "[feedback]\n"
                           "contact = \"the repository's own policy\"\n");

    // install writes no trunkgate.toml where the server-wide policy would be the one used, and
    // does where a policy is asked for.
    const auto installed = sandbox.trunkgate({"install", sandbox.server()}, "", env);
    REQUIRE(installed.status == 0);
    CHECK_THAT(installed.out,
               Contains(sandbox.server() +
                        ": trunkgate.toml: not installed; the hooks use the server-wide policy " +
                        server_wide + "\n"));
    CHECK(read_file(sandbox.server() + "/trunkgate.toml").empty());
    const auto own_installed =
        sandbox.trunkgate({"install", "--policy", own_policy, own_repo}, "", env);
    REQUIRE(own_installed.status == 0);
    CHECK_THAT(own_installed.out,
               Contains(own_repo + ": trunkgate.toml: installed from " + own_policy + "\n"));
    sandbox.commit("feat: first");
    REQUIRE(sandbox.push({"origin", "main"}, env).status == 0);
    REQUIRE(sandbox.push({own_repo, "main"}, env).status == 0);

    SECTION("the repository without its own policy: the server-wide policy judges the push") {
        const auto pushed = sandbox.push({"origin", "HEAD:refs/heads/scratch"}, env);

        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/scratch").empty());
        CHECK_THAT(remote_text(pushed),
                   Contains("trunkgate: push rejected: 1 problem (policy " + server_wide +
                            ")\n"
                            "  refs/heads/scratch  [branch-name] branch name does not match") &&
                       Contains("  questions: the server-wide policy\n"));
        CHECK_THAT(pushed.err, Contains("scratch (pre-receive hook declined)"));

        const auto linted =
            sandbox.trunkgate({"policy", "lint", "--repo", sandbox.server()}, "", env);
        CHECK(linted.status == 0);
        CHECK(linted.out == server_wide + ": ok (the policy of " + sandbox.server() +
                                ": the server-wide policy)\n");
        const auto checked = sandbox.trunkgate({"check", "--repo", sandbox.server(), zero_id,
                                                sandbox.clone_rev("HEAD"), "refs/heads/feature/ok"},
                                               "", env);
        CHECK(checked.status == 0);
        CHECK(checked.out == "trunkgate: no problems found (policy " + server_wide + ")\n");
    }
    SECTION("the repository with its own trunkgate.toml: that file judges the push") {
        const auto accepted = sandbox.push({own_repo, "HEAD:refs/heads/scratch"}, env);
        CHECK(accepted.status == 0);

        const auto pushed = sandbox.push({own_repo, "HEAD:refs/heads/feature/x"}, env);
        CHECK(pushed.status != 0);
        CHECK_THAT(remote_text(pushed),
                   Contains("trunkgate: push rejected: 1 problem (policy trunkgate.toml)\n"
                            "  refs/heads/feature/x  [branch-name] branch name does not match") &&
                       Contains("  questions: the repository's own policy\n"));

        const auto linted = sandbox.trunkgate({"policy", "lint", "--repo", own_repo}, "", env);
        CHECK(linted.status == 0);
        CHECK(linted.out == own_repo + "/trunkgate.toml: ok (the policy of " + own_repo +
                                ": $GIT_DIR/trunkgate.toml)\n");
    }
    SECTION("a broken server-wide policy rejects the push with policy-error, naming the file") {
        write_file(server_wide, "[branches]\nmax_behind = -1\n");
        const auto pushed = sandbox.push({"origin", "HEAD:refs/heads/feature/ok"}, env);

        CHECK(pushed.status != 0);
        CHECK_THAT(remote_text(pushed),
                   Contains("[policy-error] " + server_wide +
                            ":2:14: 'branches.max_behind' must be a non-negative integer"));
        const auto linted =
            sandbox.trunkgate({"policy", "lint", "--repo", sandbox.server()}, "", env);
        CHECK(linted.status == 3);
        CHECK(linted.err == server_wide +
                                ":2:14: 'branches.max_behind' must be a non-negative integer\n"
                                "(the policy of " +
                                sandbox.server() + ": the server-wide policy)\n");
    }
}
