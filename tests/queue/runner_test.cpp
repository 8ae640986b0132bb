#include <catch2/catch.hpp>

#include "support/sandbox.hpp"
#include "trunkgate/checks/status.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/history/refs.hpp"
#include "trunkgate/queue/queue.hpp"

using namespace trunkgate;
using Catch::Matchers::Contains;
using testing::git_sandbox;

namespace {

policy queue_policy(const std::string& queue_keys = "") {
    return parse_policy("[[protect]]\nrefs = [\"refs/heads/main\"]\nrequired_checks = "
                        "[\"build\"]\n\n[[queue]]\ntarget = \"refs/heads/main\"\n" +
                            queue_keys,
                        "test.toml");
}

// A bare repository with main, changes queued on it, and a clock the test moves.
struct runner_fixture {
    git_sandbox sandbox;
    libgit2_guard libgit2;
    policy rules;
    repository_ptr repo;
    testing::temp_dir journal;
    queue_store store{journal / "queue"};
    std::int64_t now = 1'700'000'000;

    explicit runner_fixture(const std::string& queue_keys = "") : rules(queue_policy(queue_keys)) {
        sandbox.commit("initial", "README");
        REQUIRE(sandbox.push({"origin", "main"}).status == 0);
        repo = open_repository(sandbox.server());
    }

    std::string add(const std::string& file) {
        REQUIRE(sandbox.git({"checkout", "-q", "-B", file, "origin/main"}).status == 0);
        const auto commit = sandbox.commit("change " + file, file);
        REQUIRE(sandbox.push({"origin", file}).status == 0);
        change_request request{"refs/heads/main", commit, "", "alice", false};
        return enqueue_change(repo.get(), rules, store, request, now).entry.id;
    }

    queue_run_report run() {
        queue_run_options options;
        options.now = now;
        return run_queue(repo.get(), rules, store, options);
    }

    queue_entry entry(const std::string& id) { return *store.find(id); }

    void ci(const std::string& id, const std::string& state) {
        git_oid commit;
        REQUIRE(git_oid_fromstr(&commit, entry(id).speculative.c_str()) == 0);
        record_status(repo.get(), rules.checks.notes_ref, commit, "build",
                      {state, "", "", "2026-12-01T00:00:00Z", "ci"});
    }

    std::string main_tip() { return sandbox.server_rev("main"); }
};

std::string joined(const queue_run_report& report) {
    std::string text;
    for (const auto& line : report.lines)
        text += line + "\n";
    return text;
}

} // namespace

TEST_CASE("queue runner: no verdict within check_timeout_minutes is a failure", "[queue][runner]") {
    runner_fixture f("check_timeout_minutes = 30\n");
    const auto id = f.add("a.txt");
    f.run();
    f.now += 29 * 60;
    f.run();
    CHECK(f.entry(id).state == queue_state::testing);
    f.now += 2 * 60;
    CHECK_THAT(joined(f.run()), Contains(id + ": ejected: no verdict from CI within 30 minutes"));
    CHECK(f.entry(id).state == queue_state::ejected);
}

TEST_CASE("queue runner: retries build a failure again before ejecting it", "[queue][runner]") {
    runner_fixture f("retries = 1\n");
    const auto id = f.add("a.txt");
    f.run();
    const auto first = f.entry(id).speculative;
    f.ci(id, "failure"); // within the same second as the build
    CHECK_THAT(joined(f.run()), Contains(id + ": testing"));
    const auto again = f.entry(id);
    CHECK(again.state == queue_state::testing);
    CHECK(again.builds == 2);
    CHECK(again.failed_builds == 1);
    CHECK(again.speculative != first); // a fresh commit, so CI builds it again
    f.ci(id, "failure");
    CHECK_THAT(joined(f.run()), Contains(id + ": ejected: check build is failure"));
}

TEST_CASE("queue runner: a failure waits while the entries ahead are undecided",
          "[queue][runner]") {
    runner_fixture f;
    const auto head = f.add("a.txt");
    const auto second = f.add("b.txt");
    f.run();
    f.ci(second, "failure");
    f.run();
    CHECK(f.entry(second).state == queue_state::testing); // the head may be the culprit
    f.ci(head, "failure");
    f.run();
    CHECK(f.entry(head).state == queue_state::ejected);
    // Rebuilt on main without the head, for free.
    const auto rebuilt = f.entry(second);
    CHECK(rebuilt.state == queue_state::testing);
    CHECK(rebuilt.built_on == f.main_tip());
    CHECK(rebuilt.failed_builds == 0);
}

TEST_CASE("queue runner: the target moved under a passing entry", "[queue][runner]") {
    runner_fixture f;
    const auto id = f.add("a.txt");
    f.run();
    f.ci(id, "success");
    // Someone moves main before the run lands: it must not land the stale build.
    REQUIRE(f.sandbox.git({"checkout", "-q", "-B", "main", "origin/main"}).status == 0);
    f.sandbox.commit("direct", "direct.txt");
    REQUIRE(f.sandbox.push({"origin", "main"}).status == 0);
    const auto moved = f.main_tip();
    f.run();
    CHECK(f.main_tip() == moved);
    const auto rebuilt = f.entry(id);
    CHECK(rebuilt.state == queue_state::testing);
    CHECK(rebuilt.built_on == moved);
    f.ci(id, "success");
    f.run();
    CHECK(f.entry(id).state == queue_state::landed);
    CHECK(f.main_tip() == rebuilt.speculative);
}

TEST_CASE("queue runner: a landing interrupted at either point recovers", "[queue][runner]") {
    runner_fixture f;
    const auto id = f.add("a.txt");
    f.run();
    f.ci(id, "success");
    const auto tested = f.entry(id).speculative;
    const auto tip = f.main_tip();
    REQUIRE(f.store.begin_landing(id, tip)); // the journal said "landing", then the runner died
    SECTION("before the target moved: judged again and landed") {
        f.run();
        CHECK(f.entry(id).state == queue_state::landed);
        CHECK(f.main_tip() == tested);
    }
    SECTION("after the target moved: recorded as landed") {
        git_oid tested_id;
        REQUIRE(git_oid_fromstr(&tested_id, tested.c_str()) == 0);
        write_ref(f.repo.get(), "refs/heads/main", tested_id, "test: the swap that happened");
        const auto report = f.run();
        CHECK(f.entry(id).state == queue_state::landed);
        REQUIRE(report.landings.size() == 1);
        CHECK(report.landings[0].old_hex == tip);
        CHECK(report.landings[0].new_hex == tested);
    }
    CHECK(f.sandbox.server_rev("refs/heads/trunkgate/queue/main/" + id).empty());
    CHECK(f.sandbox.server_rev("refs/trunkgate/queue/" + id).empty());
}

TEST_CASE("queue runner: one runner at a time, and no queue lands without checks",
          "[queue][runner]") {
    SECTION("busy") {
        runner_fixture f;
        f.add("a.txt");
        f.store.request_run();
        {
            const auto hold = f.store.try_hold_runner();
            REQUIRE(hold);
            CHECK(f.run().busy);
            CHECK(f.entry("q-0001").state == queue_state::waiting);
            CHECK(f.store.run_requested()); // left for the runner at work
        }
        CHECK_FALSE(f.run().busy);
        CHECK_FALSE(f.store.run_requested()); // taken by the run that held the queue
        CHECK(f.entry("q-0001").state == queue_state::testing);
    }
    SECTION("no required checks") {
        runner_fixture f;
        f.rules.protect.clear();
        const auto id = f.add("a.txt");
        CHECK_THAT(joined(f.run()), Contains("has no required_checks"));
        CHECK(f.entry(id).state == queue_state::waiting);
    }
}
