// End-to-end: entering the merge queue with a real `git push origin HEAD:refs/for/main` through
// git's proc-receive hook (receive.procReceiveRefs = refs/for, written by `trunkgate install`).
// git creates no refs/for ref; the pusher sees the queue position and an honest result line.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/gates_support.hpp"
#include "support/queue_support.hpp"
#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using Catch::Contains;
using trunkgate::testing::gates::as;
using trunkgate::testing::queues::queue_policy;
using trunkgate::testing::queues::start_queue;
using json = nlohmann::json;

namespace {

struct push_fixture {
    git_sandbox sandbox;

    explicit push_fixture(const std::string& policy = queue_policy) {
        start_queue(sandbox, policy);
    }

    // A new commit on the clone's main, not pushed to any branch; its id.
    std::string change(const std::string& file) { return sandbox.commit("change " + file, file); }

    run_result push_for(const std::string& ref, const std::vector<std::string>& options = {},
                        const std::string& identity = "alice") {
        std::vector<std::string> args;
        for (const auto& option : options)
            args.insert(args.end(), {"-o", option});
        args.insert(args.end(), {"origin", "HEAD:" + ref});
        return sandbox.push(args, as(identity));
    }

    // Checks that `pushed` went through with `remote` as what the hook said, that git reported
    // `ref` as a new reference, and that no such ref exists on the server.
    void check_queued(const run_result& pushed, const std::string& ref, const std::string& remote) {
        INFO(pushed.all());
        CHECK(pushed.status == 0);
        CHECK(remote_text(pushed) == remote);
        CHECK_THAT(pushed.err, Contains(" * [new reference]   HEAD -> " + ref));
        CHECK(sandbox.server_rev(ref).empty());
    }

    json entries() {
        const auto listed =
            sandbox.trunkgate({"queue", "--repo", sandbox.server(), "--format", "json"});
        INFO(listed.all());
        REQUIRE(listed.status == 0);
        return json::parse(listed.out)["queues"][0]["entries"];
    }
};

} // namespace

TEST_CASE("queue push: git push HEAD:refs/for/main enters the queue and creates no ref",
          "[e2e][queue][push]") {
    push_fixture fixture;
    const auto commit = fixture.change("a.txt");

    const auto pushed = fixture.push_for("refs/for/main");

    fixture.check_queued(pushed, "refs/for/main",
                         "trunkgate: queued for main at position 1 (id q-0001); CI runs on "
                         "refs/heads/trunkgate/queue/main/q-0001\n");
    const auto entries = fixture.entries();
    REQUIRE(entries.size() == 1);
    CHECK(entries[0]["id"] == "q-0001");
    CHECK(entries[0]["state"] == "waiting");
    CHECK(entries[0]["commit"] == commit);
    CHECK(entries[0]["pusher"] == "alice");
    CHECK(entries[0]["topic"] == "");
    CHECK(fixture.sandbox.server_rev("refs/trunkgate/queue/q-0001") == commit);
    // post-receive hears of refs/for/main, but nothing landed there: the audit log says so.
    const auto audit = fixture.sandbox.trunkgate(
        {"audit", "--repo", fixture.sandbox.server(), "--format", "json"});
    const auto decision = nlohmann::json::parse(audit.out.substr(0, audit.out.find('\n')));
    CHECK(decision["decision"] == "accept");
    CHECK(decision["refs"][0]["ref"] == "refs/for/main");
    CHECK(decision["landed"] == nlohmann::json::array()); // no ref moved
}

TEST_CASE("queue push: the same topic pushed again replaces the change", "[e2e][queue][push]") {
    push_fixture fixture;
    fixture.change("a.txt");
    const auto first = fixture.push_for("refs/for/main/fix-1");
    INFO(first.all());
    REQUIRE(first.status == 0);
    CHECK_THAT(remote_text(first), Contains("queued for main at position 1 (id q-0001)"));
    const auto second_commit = fixture.change("b.txt");

    const auto second = fixture.push_for("refs/for/main/fix-1");

    fixture.check_queued(second, "refs/for/main/fix-1",
                         "trunkgate: queued for main at position 1 (id q-0002); CI runs on "
                         "refs/heads/trunkgate/queue/main/q-0002; it replaces q-0001\n");
    const auto entries = fixture.entries();
    REQUIRE(entries.size() == 2);
    CHECK(entries[0]["id"] == "q-0002");
    CHECK(entries[0]["commit"] == second_commit);
    CHECK(entries[0]["topic"] == "fix-1");
    CHECK(entries[1]["id"] == "q-0001");
    CHECK(entries[1]["state"] == "cancelled");
}

TEST_CASE("queue push: refs/for/<branch> without a queue is rejected with the reason",
          "[e2e][queue][push]") {
    push_fixture fixture;
    fixture.change("a.txt");

    const auto pushed = fixture.push_for("refs/for/nope");

    INFO(pushed.all());
    CHECK(pushed.status != 0);
    CHECK_THAT(pushed.err, Contains(" ! [remote rejected] HEAD -> refs/for/nope (refs/heads/nope "
                                    "has no merge queue (queued branches: main))"));
    CHECK(fixture.sandbox.server_rev("refs/for/nope").empty());
    CHECK(fixture.entries().empty());
}

TEST_CASE("queue push: -o trunkgate.priority=high", "[e2e][queue][push]") {
    push_fixture fixture;
    fixture.change("a.txt");
    REQUIRE(fixture.push_for("refs/for/main/one").status == 0);
    fixture.change("b.txt");

    SECTION("by an identity not allowed priority: queued at the end, and told so") {
        const auto pushed = fixture.push_for("refs/for/main/two", {"trunkgate.priority=high"});

        INFO(pushed.all());
        CHECK(pushed.status == 0);
        CHECK(remote_text(pushed) ==
              "trunkgate: alice may not ask for priority ([[queue]] priority); queued at the end\n"
              "trunkgate: queued for main at position 2 (id q-0002); CI runs on "
              "refs/heads/trunkgate/queue/main/q-0002\n");
        CHECK(fixture.entries()[1]["priority"] == false);
    }
    SECTION("by a priority identity: ahead of the queue") {
        const auto pushed =
            fixture.push_for("refs/for/main/two", {"trunkgate.priority=high"}, "release-manager");

        INFO(pushed.all());
        CHECK(pushed.status == 0);
        CHECK(remote_text(pushed) == "trunkgate: queued for main at position 1 (id q-0002); CI "
                                     "runs on refs/heads/trunkgate/queue/main/q-0002\n");
        CHECK(fixture.entries()[0]["priority"] == true);
    }
}

TEST_CASE("queue push: only the identities of [[queue]] allowed may queue", "[e2e][queue][push]") {
    auto policy = queue_policy;
    policy.replace(policy.find("runner = "), 0, "allowed = [\"alice\", \"release-*\"]\n");
    push_fixture fixture(policy);
    fixture.change("a.txt");

    const auto refused = fixture.push_for("refs/for/main", {}, "bob");
    INFO(refused.all());
    CHECK(refused.status != 0);
    CHECK_THAT(refused.err, Contains(" ! [remote rejected] HEAD -> refs/for/main ('bob' may not "
                                     "queue changes for refs/heads/main (allowed: alice, "
                                     "release-*; [[queue]] allowed))"));
    const auto added = fixture.sandbox.trunkgate(
        {"queue", "add", "--repo", fixture.sandbox.server(), "--target", "main", "HEAD"}, "",
        as("bob"));
    CHECK(added.status == 2);
    CHECK_THAT(added.err, Contains("'bob' may not queue changes for refs/heads/main"));
    CHECK(fixture.entries().empty());

    const auto queued = fixture.push_for("refs/for/main", {}, "alice");
    INFO(queued.all());
    CHECK(queued.status == 0);
    CHECK(fixture.entries().size() == 1);
}

TEST_CASE("queue push: an --atomic push cannot enter the queue", "[e2e][queue][push]") {
    push_fixture fixture;
    fixture.change("a.txt");

    const auto pushed =
        fixture.sandbox.push({"--atomic", "origin", "HEAD:refs/for/main"}, as("alice"));

    INFO(pushed.all());
    CHECK(pushed.status != 0);
    CHECK_THAT(pushed.err, Contains("(atomic pushes cannot enter the merge queue; push "
                                    "refs/for/... on its own)"));
    CHECK(fixture.entries().empty());
}

TEST_CASE("queue push: with runner = \"auto\" pushes and statuses move the queue on their own",
          "[e2e][queue][push]") {
    git_sandbox sandbox;
    auto automatic = queue_policy;
    automatic.replace(automatic.find("runner = \"manual\""), 17, "runner = \"auto\"");
    start_queue(sandbox, automatic + "\n[checks]\nwriters = [\"ci-bot\"]\n");
    const auto speculative_of = [&](const std::string& id) {
        std::string built;
        wait_until(
            [&] {
                built = sandbox.server_rev("refs/heads/trunkgate/queue/main/" + id);
                return !built.empty();
            },
            std::chrono::seconds(20));
        return built;
    };

    // The push that queues a change starts the runner, which builds it: nobody ran `queue run`.
    sandbox.commit("change a", "a.txt");
    REQUIRE(sandbox.push({"origin", "HEAD:refs/for/main"}, gates::as("alice")).status == 0);
    const auto first = speculative_of("q-0001");
    REQUIRE_FALSE(first.empty());

    SECTION("trunkgate status set on the server lands it") {
        const auto set = sandbox.trunkgate(
            {"status", "set", "--repo", sandbox.server(), first, "build", "success"});
        REQUIRE(set.status == 0);
        CHECK(wait_until([&] { return sandbox.server_rev("main") == first; },
                         std::chrono::seconds(20)));
    }
    SECTION("a pushed status note lands it") {
        REQUIRE(sandbox.git({"fetch", "-q", "origin", first}).status == 0);
        REQUIRE(
            sandbox
                .trunkgate({"status", "set", "--repo", sandbox.clone(), first, "build", "success"})
                .status == 0);
        const auto pushed =
            sandbox.push({"origin", "refs/notes/trunkgate/checks"}, gates::as("ci-bot"));
        INFO(pushed.all());
        REQUIRE(pushed.status == 0);
        CHECK(wait_until([&] { return sandbox.server_rev("main") == first; },
                         std::chrono::seconds(20)));
    }
    // The landing was audited as the queue's, and the runner left its log.
    CHECK(wait_until(
        [&] {
            return read_file(sandbox.server() + "/trunkgate/audit.log").find("trunkgate-queue") !=
                   std::string::npos;
        },
        std::chrono::seconds(5)));
    CHECK_THAT(read_file(sandbox.server() + "/trunkgate/queue/runner.log"),
               Contains("q-0001: landed: refs/heads/main is now " + first.substr(0, 7)));
}
