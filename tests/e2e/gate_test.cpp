// End-to-end: real `git push` into a bare repository with trunkgate installed.
#include <catch2/catch.hpp>

#include "support/sandbox.hpp"

using namespace trunkgate::testing;

TEST_CASE("gate: a force-push to main is rejected and main does not move", "[e2e][force-push]") {
    git_sandbox sandbox;
    sandbox.install();
    sandbox.commit("feat: first");
    const auto pushed = sandbox.commit("feat: second");
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    REQUIRE(sandbox.server_rev("refs/heads/main") == pushed);

    REQUIRE(sandbox.git({"reset", "-q", "--hard", "HEAD~1"}).status == 0);
    sandbox.commit("feat: rewritten");
    const auto forced = sandbox.push({"--force", "origin", "main"});

    CHECK(forced.status != 0);
    CHECK(sandbox.server_rev("refs/heads/main") == pushed);
    CHECK_THAT(forced.err, Catch::Contains("remote: trunkgate: push rejected: 1 problem"));
    CHECK_THAT(forced.err, Catch::Contains("refs/heads/main  [force-push] not a fast-forward"));
    CHECK_THAT(forced.err,
               Catch::Contains("hint: git pull --rebase origin main && git push origin main"));
}
