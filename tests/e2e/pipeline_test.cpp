// End-to-end: the pipeline loop. A developer pushes a branch; trunkgate's post-receive hook posts
// the push event to a real receiver (Debian's adnanh/webhook); the receiver's command clones the
// pushed commit, runs the project's own tests and records `build` with `trunkgate status set`;
// main then moves to that commit only once its build succeeded.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "support/ci_receiver.hpp"
#include "support/gates_support.hpp"
#include "support/http_receiver.hpp"
#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using namespace trunkgate::testing::gates;
using namespace std::chrono_literals;
using Catch::Contains;
using json = nlohmann::json;

namespace {

const std::string secret_variable = "TRUNKGATE_WEBHOOK_SECRET";
const std::string secret = "tg-pipeline-secret-5d81";

// CI for one pushed commit, as webhook runs it with the event's ref and commit: clone the server,
// check the commit out, run the project's ./test.sh, record `build` as ci-bot. While the file
// `hold` exists it waits (at most 10 s) after reporting `pending`, so a test can push in between.
const std::string ci_script = R"(#!/bin/sh
set -u
ref="$1"
sha="$2"
ci='@CI@'
server='@SERVER@'
trunkgate='@TRUNKGATE@'
export HOME="$ci/home" GIT_CONFIG_NOSYSTEM=1 LC_ALL=C
report() {
    TRUNKGATE_USER=ci-bot "$trunkgate" status set --repo "$server" "$sha" build "$@"
}
report pending --description "running ./test.sh for $ref"
waited=0
while [ -e "$ci/hold" ] && [ "$waited" -lt 200 ]; do
    sleep 0.05
    waited=$((waited + 1))
done
work="$ci/runs/$sha"
log="$ci/logs/$sha.log"
mkdir -p "$ci/logs"
rm -rf "$work"
if { git clone -q --no-checkout "$server" "$work" && git -C "$work" checkout -q "$sha" &&
     (cd "$work" && ./test.sh); } >"$log" 2>&1; then
    report success --description "./test.sh passed" --url "file://$log"
else
    report failure --description "./test.sh failed" --url "file://$log"
fi
)";

std::string pipeline_policy(const std::string& url) {
    return R"(
[[protect]]
refs = ["refs/heads/main"]
required_checks = ["build"]

[checks]
writers = ["ci-bot"]

[events]
deliver = "inline"

[[events.endpoint]]
url = ")" + url +
           R"("
secret_env = ")" +
           secret_variable + R"("
refs = ["refs/heads/feature/*"]
timeout_ms = 5000
)";
}

// The developer's push, with the webhook secret the post-receive hook signs events with.
run_result push(const git_sandbox& sandbox, const std::vector<std::string>& args) {
    return sandbox.push(args, {{secret_variable, secret}});
}

// The `build` status the server has for `sha` ({} when none).
json build_status(const git_sandbox& sandbox, const std::string& sha) {
    const auto got =
        sandbox.trunkgate({"status", "get", "--repo", sandbox.server(), sha, "--format", "json"});
    if (got.status != 0)
        return json::object();
    const auto statuses = json::parse(got.out);
    return statuses.contains("build") ? statuses["build"] : json::object();
}

// Waits (bounded) until CI recorded `state` for `sha`'s build: "" then, else what went wrong, for
// the failure message.
std::string wait_for_build(const git_sandbox& sandbox, const ci_receiver& ci,
                           const std::string& sha, const std::string& state) {
    if (wait_until([&] { return build_status(sandbox, sha).value("state", "") == state; }, 10s))
        return "";
    return "build of " + sha + " is " + build_status(sandbox, sha).dump() + ", not " + state +
           "\nwebhook log:\n" + ci.log();
}

// A commit of the project: its own test passes when status.txt says "ok".
std::string commit_project(git_sandbox& sandbox, const std::string& message,
                           const std::string& status_text) {
    const auto test = sandbox.clone() + "/test.sh";
    write_file(test, "#!/bin/sh\necho \"status: $(cat status.txt)\"\ngrep -qx ok status.txt\n");
    std::filesystem::permissions(test, std::filesystem::perms::owner_all);
    write_file(sandbox.clone() + "/status.txt", status_text + "\n");
    if (sandbox.git({"add", "test.sh", "status.txt"}).status != 0 ||
        sandbox.git({"commit", "-q", "-m", message}).status != 0)
        throw std::runtime_error("cannot commit the project");
    return sandbox.clone_rev("HEAD");
}

} // namespace

TEST_CASE("pipeline: main moves to a pushed commit only after CI behind webhook passed it",
          "[e2e][pipeline]") {
    git_sandbox sandbox;
    ci_receiver ci(sandbox.server(), ci_script, secret);
    sandbox.install(pipeline_policy(ci.url()));

    const auto good = commit_project(sandbox, "feat: the service says ok", "ok");
    sandbox.git({"switch", "-q", "-c", "feature/x"});

    // Before CI has seen the commit: no build status at all.
    auto pushed = push(sandbox, {"origin", "feature/x:main"});
    CHECK(pushed.status != 0);
    CHECK(sandbox.server_rev("refs/heads/main").empty());
    CHECK_THAT(remote_text(pushed),
               Contains("refs/heads/main  [required-checks] check 'build' is missing for " +
                        good.substr(0, 7)));

    // The branch push posts the event; CI reports pending and is held there.
    ci.hold();
    pushed = push(sandbox, {"origin", "feature/x"});
    {
        INFO("push output:\n"
             << pushed.all() << "spool log:\n"
             << read_file(sandbox.server() + "/trunkgate/spool/events.log"));
        REQUIRE(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/feature/x") == good);
        CHECK_THAT(remote_text(pushed), Contains("trunkgate: delivered "));
        CHECK_THAT(remote_text(pushed), Contains("refs/heads/feature/x"));
    }
    REQUIRE(wait_for_build(sandbox, ci, good, "pending") == "");
    pushed = push(sandbox, {"origin", "feature/x:main"});
    CHECK(pushed.status != 0);
    CHECK(sandbox.server_rev("refs/heads/main").empty());
    CHECK_THAT(remote_text(pushed),
               Contains("[required-checks] check 'build' is pending for " + good.substr(0, 7) +
                        ": running ./test.sh for refs/heads/feature/x"));

    // CI finishes: the project's own test passed on that very commit.
    ci.release();
    REQUIRE(wait_for_build(sandbox, ci, good, "success") == "");
    const auto passed = build_status(sandbox, good);
    CHECK(passed["by"] == "ci-bot");
    CHECK(passed["description"] == "./test.sh passed");
    CHECK_THAT(ci.run_log(good), Contains("status: ok"));
    pushed = push(sandbox, {"origin", "feature/x:main"});
    CHECK(pushed.status == 0);
    CHECK(sandbox.server_rev("refs/heads/main") == good);

    // A commit that breaks the project's test: CI records failure and main stays where it was.
    const auto broken = commit_project(sandbox, "feat: the service breaks", "broken");
    pushed = push(sandbox, {"origin", "feature/x"});
    REQUIRE(pushed.status == 0);
    REQUIRE(wait_for_build(sandbox, ci, broken, "failure") == "");
    CHECK_THAT(ci.run_log(broken), Contains("status: broken"));
    pushed = push(sandbox, {"origin", "feature/x:main"});
    CHECK(pushed.status != 0);
    CHECK(sandbox.server_rev("refs/heads/main") == good);
    CHECK_THAT(remote_text(pushed), Contains("[required-checks] check 'build' is failure for " +
                                             broken.substr(0, 7) + ": ./test.sh failed (file://"));
    CHECK_THAT(remote_text(pushed), Contains("hint: fix what failed"));

    // The fix goes through the same loop.
    const auto fixed = commit_project(sandbox, "fix: the service says ok again", "ok");
    REQUIRE(push(sandbox, {"origin", "feature/x"}).status == 0);
    REQUIRE(wait_for_build(sandbox, ci, fixed, "success") == "");
    pushed = push(sandbox, {"origin", "feature/x:main"});
    CHECK(pushed.status == 0);
    CHECK(sandbox.server_rev("refs/heads/main") == fixed);
}
