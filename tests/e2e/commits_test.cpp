// End-to-end: [commits] rules on real pushes. Each new commit is read once, from git's
// quarantine, and a rejected push leaves every ref where it was.
#include <catch2/catch.hpp>

#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using Catch::Contains;

namespace {

const std::string commit_rules = R"(
[commits]
refs = ["refs/heads/*"]
message_pattern = '^(feat|fix|docs|chore)(\([a-z0-9-]+\))?!?: .+'
message_forbidden_pattern = '(?i)\b(wip|fixup!|squash!)'
max_subject_length = 50
author_email_pattern = '@example\.com$'
max_file_size = "4 KiB"
forbidden_paths = ["*.pem", "secrets/**"]
secret_files = true
max_changed_files = 5
)";

// A server whose main holds one good commit, with `policy_text` installed.
std::string publish_main(git_sandbox& sandbox, const std::string& policy_text = commit_rules) {
    sandbox.install(policy_text);
    const auto tip = sandbox.commit("chore: start", "README");
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    return tip;
}

std::string commit_with(git_sandbox& sandbox, const std::string& message, const std::string& path,
                        const std::string& content) {
    write_file(sandbox.clone() + "/" + path, content);
    REQUIRE(sandbox.git({"add", "--", path}).status == 0);
    REQUIRE(sandbox.git({"commit", "-q", "-m", message}).status == 0);
    return sandbox.clone_rev("HEAD");
}

} // namespace

TEST_CASE("commits: a bad message is rejected with the commit named", "[e2e][commits]") {
    git_sandbox sandbox;
    const auto published = publish_main(sandbox);
    const auto bad = commit_with(sandbox, "updated things", "a.txt", "a");
    const auto pushed = sandbox.push({"origin", "main"});
    CHECK(pushed.status != 0);
    CHECK(sandbox.server_rev("refs/heads/main") == published);
    CHECK_THAT(pushed.err,
               Contains("remote:   refs/heads/main  [commit-message] commit " + bad.substr(0, 7) +
                        " \"updated things\": message does not match"));
    CHECK_THAT(pushed.err, Contains("hint: reword it: git commit --amend"));

    REQUIRE(sandbox.git({"commit", "-q", "--amend", "-m", "docs: explain things"}).status == 0);
    CHECK(sandbox.push({"origin", "main"}).status == 0);
}

TEST_CASE("commits: size, forbidden paths and secret files, path and size named",
          "[e2e][commits]") {
    git_sandbox sandbox;
    publish_main(sandbox);
    sandbox.git({"switch", "-q", "-c", "feature/assets"});
    const auto big = commit_with(sandbox, "feat: add logo", "img/logo.bin", std::string(5000, 'x'));
    commit_with(sandbox, "feat: add cert", "deploy/tls.pem", "-----BEGIN-----");
    commit_with(sandbox, "feat: add env", "app/.env", "TOKEN=1");
    const auto pushed = sandbox.push({"origin", "feature/assets"});
    CHECK(pushed.status != 0);
    CHECK(sandbox.server_rev("refs/heads/feature/assets").empty());
    CHECK_THAT(pushed.err,
               Contains("[file-size] commit " + big.substr(0, 7) +
                        " \"feat: add logo\" adds img/logo.bin (4.9 KiB, limit 4.0 KiB)"));
    CHECK_THAT(pushed.err, Contains("[forbidden-path] commit"));
    CHECK_THAT(pushed.err, Contains("adds deploy/tls.pem, which matches forbidden path '*.pem'"));
    CHECK_THAT(pushed.err, Contains("adds app/.env, which matches well-known secret file '.env'"));
    CHECK_THAT(pushed.err, Contains("push rejected: 3 problems"));
}

TEST_CASE("commits: author email and changed files", "[e2e][commits]") {
    git_sandbox sandbox;
    publish_main(sandbox);
    sandbox.git({"switch", "-q", "-c", "feature/bulk"});
    for (int i = 0; i < 6; ++i)
        write_file(sandbox.clone() + "/bulk/f" + std::to_string(i), "x");
    REQUIRE(sandbox.git({"add", "bulk"}).status == 0);
    REQUIRE(
        sandbox.git({"commit", "-q", "-m", "chore: bulk"}, {{"GIT_AUTHOR_EMAIL", "me@gmail.com"}})
            .status == 0);
    const auto pushed = sandbox.push({"origin", "feature/bulk"});
    CHECK(pushed.status != 0);
    CHECK_THAT(pushed.err, Contains("[author-email] commit"));
    CHECK_THAT(pushed.err, Contains("author email <me@gmail.com> does not match @example\\.com$"));
    CHECK_THAT(pushed.err, Contains("[changed-files] commit"));
    CHECK_THAT(pushed.err, Contains("changes 6 paths (limit 5)"));
}

TEST_CASE("commits: a commit sent to several refs is judged once", "[e2e][commits]") {
    git_sandbox sandbox;
    publish_main(sandbox);
    const auto bad = commit_with(sandbox, "oops", "a.txt", "a");
    const auto pushed =
        sandbox.push({"origin", "HEAD:refs/heads/feature/one", "HEAD:refs/heads/feature/two"});
    CHECK(pushed.status != 0);
    CHECK(sandbox.server_rev("refs/heads/feature/one").empty());
    CHECK(sandbox.server_rev("refs/heads/feature/two").empty());
    CHECK_THAT(pushed.err, Contains("push rejected: 1 problem"));
    CHECK_THAT(pushed.err,
               Contains("refs/heads/feature/one  [commit-message] commit " + bad.substr(0, 7)));
}

TEST_CASE("commits: commits already on the server are not judged again", "[e2e][commits]") {
    git_sandbox sandbox;
    // Published before the commit rules were switched on.
    publish_main(sandbox, "");
    sandbox.git({"switch", "-q", "-c", "feature/old"});
    commit_with(sandbox, "legacy message", "a.txt", "a");
    REQUIRE(sandbox.push({"origin", "feature/old"}).status == 0);

    sandbox.install(commit_rules);
    sandbox.git({"switch", "-q", "-c", "feature/new"});
    commit_with(sandbox, "feat: builds on legacy work", "b.txt", "b");
    const auto pushed = sandbox.push({"origin", "feature/new"});
    CHECK(pushed.status == 0);
    CHECK(pushed.err.find("[commit-message]") == std::string::npos);
    CHECK_FALSE(sandbox.server_rev("refs/heads/feature/new").empty());
}

TEST_CASE("commits: trunkgate check in a developer clone judges what the server lacks",
          "[e2e][commits][check]") {
    git_sandbox sandbox;
    publish_main(sandbox);
    write_file(sandbox.dir() + "/rules.toml", commit_rules);
    sandbox.git({"switch", "-q", "-c", "feature/local"});
    const auto bad = commit_with(sandbox, "no prefix", "a.txt", "a");
    // The local branch holds the commit; origin/main does not: it is what a push would add.
    const auto checked = sandbox.trunkgate({"check", "--policy", sandbox.dir() + "/rules.toml",
                                            std::string(40, '0'), bad, "refs/heads/feature/local"});
    CHECK(checked.status == 1);
    CHECK_THAT(checked.out, Contains("[commit-message] commit " + bad.substr(0, 7)));
    // Once the server has it (published under another name), there is nothing new to judge.
    sandbox.install("mode = \"evaluate\"\n");
    REQUIRE(sandbox.push({"origin", "HEAD:refs/heads/feature/published"}).status == 0);
    REQUIRE(sandbox.git({"fetch", "-q", "origin"}).status == 0);
    const auto again = sandbox.trunkgate({"check", "--policy", sandbox.dir() + "/rules.toml",
                                          std::string(40, '0'), bad, "refs/heads/feature/local"});
    CHECK(again.status == 0);
    CHECK_THAT(again.out, Contains("no problems found"));
}
