// End-to-end: [tags] rules (tag-name on create, tag-immutable) on real tag pushes.
#include <catch2/catch.hpp>

#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using Catch::Contains;

namespace {

// A server with trunkgate installed (the template when `policy_text` is empty) and main
// published; returns main's tip.
std::string publish_main(git_sandbox& sandbox, const std::string& policy_text = "") {
    sandbox.install(policy_text);
    const auto tip = sandbox.commit("feat: first");
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    REQUIRE(sandbox.server_rev("refs/heads/main") == tip);
    return tip;
}

} // namespace

TEST_CASE("tags: a new tag must match name_pattern", "[e2e][tags][tag-name]") {
    git_sandbox sandbox;
    const auto tip = publish_main(sandbox);

    SECTION("v1.0 (two components): rejected with the pattern and the retag commands") {
        REQUIRE(sandbox.git({"tag", "v1.0"}).status == 0);
        const auto pushed = sandbox.push({"origin", "v1.0"});

        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/tags/v1.0").empty());
        CHECK_THAT(pushed.err, Contains("refs/tags/v1.0  [tag-name] tag name does not match "
                                        "^refs/tags/v[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?$"));
        CHECK_THAT(pushed.err,
                   Contains("hint: tag again with a matching name: git tag -d v1.0 && "
                            "git tag v<major>.<minor>.<patch> " +
                            tip.substr(0, 7) + " && git push origin v<major>.<minor>.<patch>"));
    }
    SECTION("v1.2.3 (lightweight): accepted") {
        REQUIRE(sandbox.git({"tag", "v1.2.3"}).status == 0);
        const auto pushed = sandbox.push({"origin", "v1.2.3"});

        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/tags/v1.2.3") == tip);
        CHECK_THAT(pushed.err, !Contains("trunkgate:"));
    }
    SECTION("v2.0.0-rc.1 (annotated): accepted") {
        REQUIRE(sandbox.git({"tag", "-a", "-m", "release candidate", "v2.0.0-rc.1"}).status == 0);
        const auto tag_object = sandbox.clone_rev("refs/tags/v2.0.0-rc.1");
        REQUIRE(tag_object != tip);
        const auto pushed = sandbox.push({"origin", "v2.0.0-rc.1"});

        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/tags/v2.0.0-rc.1") == tag_object);
    }
}

TEST_CASE("tags: a published tag can be neither moved nor deleted", "[e2e][tags][tag-immutable]") {
    git_sandbox sandbox;

    SECTION("immutable (the default)") {
        const auto published = publish_main(sandbox);
        REQUIRE(sandbox.git({"tag", "v1.2.3"}).status == 0);
        REQUIRE(sandbox.push({"origin", "v1.2.3"}).status == 0);
        const auto restore_hint = "hint: publish a new tag instead; to restore yours to the "
                                  "published one: git fetch origin --force "
                                  "refs/tags/v1.2.3:refs/tags/v1.2.3";

        SECTION("moved with --force: rejected, the tag stays") {
            sandbox.commit("fix: after the release");
            REQUIRE(sandbox.git({"tag", "-f", "v1.2.3"}).status == 0);
            const auto moved = sandbox.push({"--force", "origin", "v1.2.3"});

            CHECK(moved.status != 0);
            CHECK(sandbox.server_rev("refs/tags/v1.2.3") == published);
            CHECK_THAT(moved.err, Contains("refs/tags/v1.2.3  [tag-immutable] tags are immutable: "
                                           "v1.2.3 already points at " +
                                           published.substr(0, 7)));
            CHECK_THAT(moved.err, Contains(restore_hint));
        }
        SECTION("deleted: rejected, the tag stays") {
            const auto deleted = sandbox.push({"origin", "--delete", "refs/tags/v1.2.3"});

            CHECK(deleted.status != 0);
            CHECK(sandbox.server_rev("refs/tags/v1.2.3") == published);
            CHECK_THAT(deleted.err, Contains("refs/tags/v1.2.3  [tag-immutable] tags are "
                                             "immutable: v1.2.3 may not be deleted"));
            CHECK_THAT(deleted.err, Contains(restore_hint));
        }
    }
    SECTION("immutable = false: a tag may move") {
        publish_main(sandbox, "[tags]\nimmutable = false\n");
        REQUIRE(sandbox.git({"tag", "v1"}).status == 0);
        REQUIRE(sandbox.push({"origin", "v1"}).status == 0);
        const auto moved_to = sandbox.commit("fix: after the release");
        REQUIRE(sandbox.git({"tag", "-f", "v1"}).status == 0);
        const auto moved = sandbox.push({"--force", "origin", "v1"});

        CHECK(moved.status == 0);
        CHECK(sandbox.server_rev("refs/tags/v1") == moved_to);
    }
}
