// End-to-end: [[protect]] entries (force-push, protected-delete, push-restricted, linear-history)
// enforced on real `git push`es into a bare repository with trunkgate installed.
#include <catch2/catch.hpp>

#include <map>

#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using Catch::Contains;

namespace {

// A policy that protects main only, with `keys` added to its [[protect]] entry.
std::string protect_main(const std::string& keys = "") {
    return "[[protect]]\nrefs = [\"refs/heads/main\"]\n" + keys + "\n";
}

// A server with trunkgate installed (policy `policy_text`) and one commit on main.
std::string publish_main(git_sandbox& sandbox, const std::string& policy_text) {
    sandbox.install(policy_text);
    const auto tip = sandbox.commit("feat: first");
    const auto pushed = sandbox.push({"origin", "main"});
    REQUIRE(pushed.status == 0);
    REQUIRE(sandbox.server_rev("refs/heads/main") == tip);
    return tip;
}

} // namespace

TEST_CASE("protect: a non-fast-forward of main is rejected unless allow_force_push",
          "[e2e][protect][force-push]") {
    git_sandbox sandbox;
    SECTION("protected: rejected, main unchanged, message names both tips") {
        const auto published = publish_main(sandbox, protect_main());
        REQUIRE(sandbox.git({"commit", "-q", "--amend", "-m", "feat: first, reworded"}).status ==
                0);
        const auto rewritten = sandbox.clone_rev("HEAD");
        const auto forced = sandbox.push({"--force", "origin", "main"});

        CHECK(forced.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main") == published);
        CHECK_THAT(forced.err, Contains("remote: trunkgate: push rejected: 1 problem"));
        CHECK_THAT(forced.err,
                   Contains("refs/heads/main  [force-push] not a fast-forward of a "
                            "protected ref (was " +
                            published.substr(0, 7) + ", now " + rewritten.substr(0, 7) + ")"));
        CHECK_THAT(forced.err,
                   Contains("hint: git pull --rebase origin main && git push origin main"));
        CHECK_THAT(forced.err, Contains("main -> main (pre-receive hook declined)"));
    }
    SECTION("allow_force_push = true: accepted, main moves to the rewritten commit") {
        publish_main(sandbox, protect_main("allow_force_push = true"));
        REQUIRE(sandbox.git({"commit", "-q", "--amend", "-m", "feat: first, reworded"}).status ==
                0);
        const auto rewritten = sandbox.clone_rev("HEAD");
        const auto forced = sandbox.push({"--force", "origin", "main"});

        CHECK(forced.status == 0);
        CHECK(sandbox.server_rev("refs/heads/main") == rewritten);
        CHECK_THAT(forced.err, !Contains("[force-push]"));
    }
}

TEST_CASE("protect: deleting main is rejected unless allow_delete",
          "[e2e][protect][protected-delete]") {
    git_sandbox sandbox;
    // git itself refuses to delete a bare repository's HEAD branch; let only trunkgate decide.
    REQUIRE(sandbox.git_in(sandbox.server(), {"config", "receive.denyDeleteCurrent", "ignore"})
                .status == 0);
    SECTION("protected: rejected, main unchanged") {
        const auto published = publish_main(sandbox, protect_main());
        const auto deleted = sandbox.push({"origin", "--delete", "main"});

        CHECK(deleted.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main") == published);
        CHECK_THAT(deleted.err, Contains("remote:   refs/heads/main  [protected-delete] deleting "
                                         "a protected ref is not allowed (protected by refs = "
                                         "[refs/heads/main])"));
        CHECK_THAT(deleted.err, Contains("allow_delete = true"));
        CHECK_THAT(deleted.err, Contains("(pre-receive hook declined)"));
    }
    SECTION("allow_delete = true: accepted, main is gone") {
        publish_main(sandbox, protect_main("allow_delete = true"));
        const auto deleted = sandbox.push({"origin", "--delete", "main"});

        CHECK(deleted.status == 0);
        CHECK(sandbox.server_rev("refs/heads/main").empty());
        CHECK_THAT(deleted.err, !Contains("[protected-delete]"));
    }
}

TEST_CASE("protect: push_allowed restricts who may update main, by the identity env",
          "[e2e][protect][push-restricted]") {
    git_sandbox sandbox;
    sandbox.commit("feat: first");
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    const auto published = sandbox.server_rev("refs/heads/main");
    REQUIRE_FALSE(published.empty());
    const auto next = sandbox.commit("feat: second");

    SECTION("TRUNKGATE_USER=dev is outside release-*: rejected") {
        sandbox.install(protect_main("push_allowed = [\"release-*\"]"));
        const auto pushed = sandbox.push({"origin", "main"}, {{"TRUNKGATE_USER", "dev"}});

        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main") == published);
        CHECK_THAT(pushed.err, Contains("refs/heads/main  [push-restricted] 'dev' may not update "
                                        "this protected ref (allowed: release-*)"));
        CHECK_THAT(pushed.err, Contains("hint: push to a branch of your own and have it merged: "
                                        "git push origin HEAD:refs/heads/feature/<topic>"));
    }
    SECTION("TRUNKGATE_USER=release-bot matches release-*: accepted") {
        sandbox.install(protect_main("push_allowed = [\"release-*\"]"));
        const auto pushed = sandbox.push({"origin", "main"}, {{"TRUNKGATE_USER", "release-bot"}});

        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/main") == next);
        CHECK_THAT(pushed.err, !Contains("[push-restricted]"));
    }
    SECTION("[identity] env = [\"GL_USER\"]: TRUNKGATE_USER no longer counts") {
        sandbox.install(protect_main("push_allowed = [\"release-*\"]") +
                        "[identity]\nenv = [\"GL_USER\"]\n");

        const auto ignored =
            sandbox.push({"origin", "main"}, {{"TRUNKGATE_USER", "release-bot"}, {"GL_USER", ""}});
        CHECK(ignored.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main") == published);
        CHECK_THAT(ignored.err, Contains("refs/heads/main  [push-restricted] an unidentified "
                                         "pusher may not update this protected ref (allowed: "
                                         "release-*)"));

        const auto accepted = sandbox.push({"origin", "main"},
                                           {{"TRUNKGATE_USER", "dev"}, {"GL_USER", "release-bot"}});
        CHECK(accepted.status == 0);
        CHECK(sandbox.server_rev("refs/heads/main") == next);
    }
}

TEST_CASE("protect: an unidentified pusher matches push_allowed = [\"*\"] and nothing else",
          "[e2e][protect][push-restricted]") {
    git_sandbox sandbox;
    const std::map<std::string, std::string> nobody{{"TRUNKGATE_USER", ""},
                                                    {"GL_USER", ""},
                                                    {"REMOTE_USER", ""},
                                                    {"GITEA_PUSHER_NAME", ""},
                                                    {"USER", ""}};
    SECTION("push_allowed = [\"*\"] (the default): accepted") {
        sandbox.install(protect_main());
        const auto tip = sandbox.commit("feat: first");
        const auto pushed = sandbox.push({"origin", "main"}, nobody);
        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/main") == tip);
    }
    SECTION("push_allowed = [\"?*\"]: rejected as an unidentified pusher") {
        sandbox.install(protect_main("push_allowed = [\"?*\"]"));
        sandbox.commit("feat: first");
        const auto pushed = sandbox.push({"origin", "main"}, nobody);
        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main").empty());
        CHECK_THAT(pushed.err, Contains("[push-restricted] an unidentified pusher may not update "
                                        "this protected ref (allowed: ?*)"));
    }
}

TEST_CASE("protect: a merge commit pushed to a linear-history main is rejected by id and subject",
          "[e2e][protect][linear-history][quarantine]") {
    git_sandbox sandbox;
    sandbox.commit("feat: base", "", days_ago(1));
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    const auto published = sandbox.server_rev("refs/heads/main");
    REQUIRE(sandbox.git({"checkout", "-q", "-b", "feature/topic"}).status == 0);
    sandbox.commit("feat: topic work", "topic.txt", days_ago(0.9));
    REQUIRE(sandbox.git({"checkout", "-q", "main"}).status == 0);
    sandbox.commit("feat: on main meanwhile", "main.txt", days_ago(0.8));

    SECTION("linear_history = true: rejected, and the merge never reaches the server") {
        sandbox.install(protect_main("linear_history = true"));
        // Every commit of this push (the merge included) exists only in git's quarantine
        // directory while the hook runs: naming the merge proves libgit2 read them there.
        const auto merge = sandbox.merge("feature/topic", "Merge feature/topic into main");
        const auto pushed = sandbox.push({"origin", "main"});

        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main") == published);
        CHECK_THAT(pushed.err, Contains("remote: trunkgate: push rejected: 1 problem"));
        CHECK_THAT(pushed.err,
                   Contains("refs/heads/main  [linear-history] merge commit " + merge.substr(0, 7) +
                            " \"Merge feature/topic into main\" on a ref that "
                            "requires linear history"));
        CHECK_THAT(pushed.err, Contains("hint: replay your commits instead of merging: git fetch "
                                        "origin && git rebase origin/main, then push again"));
        CHECK(sandbox.git_in(sandbox.server(), {"cat-file", "-e", merge}).status != 0);
    }
    SECTION("linear_history = false: the same merge is accepted") {
        sandbox.install(protect_main("linear_history = false"));
        const auto merge = sandbox.merge("feature/topic", "Merge feature/topic into main");
        const auto pushed = sandbox.push({"origin", "main"});

        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/main") == merge);
    }
    SECTION("a rebased, linear main is accepted") {
        sandbox.install(protect_main("linear_history = true"));
        REQUIRE(sandbox.git({"cherry-pick", "feature/topic"}).status == 0);
        const auto tip = sandbox.clone_rev("HEAD");
        const auto pushed = sandbox.push({"origin", "main"});

        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/main") == tip);
        CHECK_THAT(pushed.err, !Contains("trunkgate:"));
    }
}

TEST_CASE("protect: creating a protected ref judges only the merges it adds",
          "[e2e][protect][linear-history]") {
    git_sandbox sandbox;
    // A merge that reached main before trunkgate was installed.
    sandbox.commit("feat: base", "", days_ago(1));
    REQUIRE(sandbox.git({"checkout", "-q", "-b", "feature/old"}).status == 0);
    sandbox.commit("feat: old topic", "old.txt", days_ago(0.9));
    REQUIRE(sandbox.git({"checkout", "-q", "main"}).status == 0);
    sandbox.commit("feat: main meanwhile", "main.txt", days_ago(0.8));
    const auto old_merge = sandbox.merge("feature/old", "Merge feature/old", days_ago(0.7));
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    sandbox.install("[[protect]]\nrefs = [\"refs/heads/main\", \"refs/heads/release/*\"]\n"
                    "linear_history = true\n");

    SECTION("release/1.0 at main's tip: no new commits, accepted") {
        const auto pushed = sandbox.push({"origin", "main:refs/heads/release/1.0"});

        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/release/1.0") == old_merge);
        CHECK_THAT(pushed.err, !Contains("[linear-history]"));
    }
    SECTION("release/1.1 with a new merge on top: only the new merge is named") {
        REQUIRE(sandbox.git({"checkout", "-q", "-b", "fix/x"}).status == 0);
        sandbox.commit("fix: x", "x.txt");
        REQUIRE(sandbox.git({"checkout", "-q", "main"}).status == 0);
        sandbox.commit("fix: y", "y.txt");
        const auto new_merge = sandbox.merge("fix/x", "Merge fix/x");
        const auto pushed = sandbox.push({"origin", "HEAD:refs/heads/release/1.1"});

        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/release/1.1").empty());
        CHECK_THAT(pushed.err, Contains("remote: trunkgate: push rejected: 1 problem"));
        CHECK_THAT(pushed.err, Contains("refs/heads/release/1.1  [linear-history] merge commit " +
                                        new_merge.substr(0, 7) + " \"Merge fix/x\""));
        CHECK_THAT(pushed.err, !Contains(old_merge.substr(0, 7)));
    }
}
