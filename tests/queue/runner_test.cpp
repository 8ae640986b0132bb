#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

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

    // Queues a change adding `file` (on branch `branch`, else one named after the file).
    std::string add(const std::string& file, std::string branch = "") {
        if (branch.empty())
            branch = file;
        REQUIRE(sandbox.git({"checkout", "-q", "-B", branch, "origin/main"}).status == 0);
        const auto commit = sandbox.commit("change " + file, file);
        REQUIRE(sandbox.push({"origin", branch}).status == 0);
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
        status(entry(id).speculative, state);
    }

    // CI reports `state` for check "build" on the commit `hex`.
    void status(const std::string& hex, const std::string& state) {
        git_oid commit;
        REQUIRE(git_oid_fromstr(&commit, hex.c_str()) == 0);
        record_status(repo.get(), rules.checks.notes_ref, commit, "build",
                      {state, "", "", "2026-12-01T00:00:00Z", "ci"});
        if (state == "success")
            passed.insert(hex);
    }

    // CI as a function of the tree: each speculative commit under test that CI has not built
    // yet fails when it holds `poison` (a file only the bad change adds) and passes otherwise.
    void ci_by_content(const std::string& poison) {
        for (const auto& listed : store.entries("refs/heads/main"))
            if (listed.state == queue_state::testing && built.insert(listed.speculative).second)
                status(listed.speculative,
                       sandbox.server_rev(listed.speculative + ":" + poison).empty() ? "success"
                                                                                     : "failure");
    }

    // Every landing of every run, for the "only tested commits" checks.
    queue_run_report run_and_record() {
        auto report = run();
        moves.insert(moves.end(), report.landings.begin(), report.landings.end());
        return report;
    }

    std::string main_tip() { return sandbox.server_rev("main"); }

    // The speculative branches on the server.
    std::set<std::string> branches() {
        const auto listed = sandbox.git_in(
            sandbox.server(), {"for-each-ref", "--format=%(refname)", "refs/heads/trunkgate/"});
        std::set<std::string> names;
        std::istringstream lines(listed.out);
        for (std::string line; std::getline(lines, line);)
            names.insert(line);
        return names;
    }

    // Every commit main pointed to, newest first (needs logging turned on first).
    std::vector<std::string> main_reflog() {
        const auto log =
            sandbox.git_in(sandbox.server(), {"reflog", "show", "--format=%H", "refs/heads/main"});
        std::vector<std::string> tips;
        std::istringstream lines(log.out);
        for (std::string line; std::getline(lines, line);)
            tips.push_back(line);
        return tips;
    }

    // Turns on the server's reflog for every ref; libgit2 reads the setting when the
    // repository is opened, so it is opened again.
    void log_ref_updates() {
        REQUIRE(sandbox.git_in(sandbox.server(), {"config", "core.logAllRefUpdates", "always"})
                    .status == 0);
        repo = open_repository(sandbox.server());
    }

    std::set<std::string> passed;  // commits CI passed
    std::set<std::string> built;   // commits CI built (ci_by_content)
    std::vector<ref_update> moves; // target moves of run_and_record
};

std::string branch(const std::string& id) {
    return "refs/heads/trunkgate/queue/main/" + id;
}

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

TEST_CASE("queue runner: a batch is one build, and lands with one move of the target",
          "[queue][runner][batch]") {
    runner_fixture f("batch_size = 4\n");
    const auto tip = f.main_tip();
    const std::vector<std::string> ids{f.add("a.txt"), f.add("b.txt"), f.add("c.txt"),
                                       f.add("d.txt")};
    const auto fifth = f.add("e.txt");
    const auto built = f.run();
    CHECK_THAT(joined(built), Contains("q-0001..q-0004: testing "));
    CHECK_THAT(joined(built), Contains(fifth + ": testing "));
    const auto tested = f.entry(ids[0]).speculative;
    for (const auto& id : ids) {
        INFO(id);
        const auto entry = f.entry(id);
        CHECK(entry.state == queue_state::testing);
        CHECK(entry.speculative == tested);
        CHECK(entry.built_on == tip);
        CHECK(entry.batch == "q-0004");
        CHECK(entry.batch_size == 4);
        CHECK(entry.builds == 1);
    }
    // The fifth did not fit: a batch of its own, on the first batch's commit.
    CHECK(f.entry(fifth).batch == fifth);
    CHECK(f.entry(fifth).built_on == tested);
    // One branch per batch, named after its last entry.
    CHECK(built.updates.size() == 2);
    CHECK(f.branches() == std::set<std::string>{branch("q-0004"), branch(fifth)});
    CHECK(f.sandbox.server_rev(branch("q-0004")) == tested);

    f.status(tested, "success");
    const auto landed = f.run();
    REQUIRE(landed.landings.size() == 1);
    CHECK(landed.landings[0].old_hex == tip);
    CHECK(landed.landings[0].new_hex == tested);
    CHECK(f.main_tip() == tested);
    for (const auto& id : ids) {
        INFO(id);
        CHECK(f.entry(id).state == queue_state::landed);
        CHECK(f.entry(id).builds == 1);
        CHECK_THAT(joined(landed), Contains(id + ": landed: refs/heads/main is now"));
        CHECK(f.sandbox.server_rev("refs/trunkgate/queue/" + id).empty());
    }
    for (const auto* file : {"a.txt", "b.txt", "c.txt", "d.txt"})
        CHECK_FALSE(f.sandbox.server_rev(std::string("main:") + file).empty());
    CHECK(f.sandbox.server_rev("main:e.txt").empty());
    CHECK(f.entry(fifth).state == queue_state::testing); // built on what landed: still valid
    CHECK(f.branches() == std::set<std::string>{branch(fifth)});
}

TEST_CASE("queue runner: a failing batch is bisected until the bad change alone is ejected",
          "[queue][runner][batch]") {
    runner_fixture f("batch_size = 4\n");
    f.log_ref_updates();
    const auto initial = f.main_tip();
    const auto a = f.add("a.txt");
    const auto b = f.add("b.txt");
    const auto bad = f.add("bad.txt");
    const auto d = f.add("d.txt");
    f.run_and_record();
    CHECK(f.entry(a).batch == d);
    f.ci_by_content("bad.txt");
    f.now += 60; // else the second half, made in the same second, is the whole batch again
    const auto second = joined(f.run_and_record());
    CHECK_THAT(second, Contains("q-0001..q-0004: failed (check build is failure); bisected into "
                                "q-0001..q-0002 and q-0003..q-0004"));
    for (const auto& id : {a, b, bad, d}) {
        INFO(id);
        const auto entry = f.entry(id);
        CHECK(entry.state == queue_state::testing);
        CHECK(entry.reason ==
              "rebuilt: batch q-0001..q-0004 failed (check build is failure); bisecting");
        CHECK(entry.batch_limit == 2);
        CHECK(entry.batch_size == 2);
        CHECK(entry.failed_builds == 0); // a batch of several charges nobody
    }
    CHECK(f.entry(a).batch == b);
    CHECK(f.entry(bad).batch == d);
    CHECK(f.entry(bad).built_on == f.entry(a).speculative); // the second half on the first
    CHECK(f.branches() == std::set<std::string>{branch(b), branch(d)});
    for (int pass = 0; pass < 10; ++pass) {
        f.ci_by_content("bad.txt");
        f.now += 60;
        f.run_and_record();
    }
    CHECK(f.entry(bad).state == queue_state::ejected);
    CHECK(f.entry(bad).reason == "check build is failure");
    for (const auto& id : {a, b, d}) {
        INFO(id);
        CHECK(f.entry(id).state == queue_state::landed);
    }
    CHECK(f.sandbox.server_rev("main:bad.txt").empty());
    CHECK_FALSE(f.sandbox.server_rev("main:d.txt").empty());
    // [abcd] [ab] [cd] [c] [d on c] [d]: six builds for three changes, two target moves.
    CHECK(f.built.size() == 6);
    CHECK(f.moves.size() == 2);
    CHECK(f.entry(a).builds == 2);
    CHECK(f.entry(d).builds == 4);
    // The target only ever pointed at commits CI passed.
    for (const auto& move : f.moves) {
        INFO(move.new_hex);
        CHECK(f.passed.count(move.new_hex) == 1);
    }
    const auto reflog = f.main_reflog();
    CHECK(reflog.size() == 2); // logged from after main was made
    for (const auto& tip : reflog)
        if (tip != initial) {
            INFO(tip);
            CHECK(f.passed.count(tip) == 1);
        }
    CHECK(f.branches().empty());
}

TEST_CASE("queue runner: a change that conflicts inside a batch is ejected alone",
          "[queue][runner][batch]") {
    runner_fixture f("batch_size = 3\n");
    const auto a = f.add("x.txt", "one");
    const auto b = f.add("b.txt");
    const auto c = f.add("x.txt", "two"); // adds x.txt too, with other content
    CHECK_THAT(joined(f.run()), Contains(c + ": ejected: "));
    CHECK_THAT(f.entry(c).reason, Contains("(conflicts: x.txt)"));
    CHECK(f.entry(a).batch == b);
    CHECK(f.entry(b).batch_size == 2);
    f.ci(a, "success");
    f.run();
    CHECK(f.entry(a).state == queue_state::landed);
    CHECK(f.entry(b).state == queue_state::landed);
}

TEST_CASE("queue runner: max_parallel counts batches", "[queue][runner][batch]") {
    runner_fixture f("batch_size = 2\nmax_parallel = 2\n");
    std::vector<std::string> ids;
    for (const auto* file : {"a.txt", "b.txt", "c.txt", "d.txt", "e.txt", "f.txt"})
        ids.push_back(f.add(file));
    f.run();
    CHECK(f.branches() == std::set<std::string>{branch(ids[1]), branch(ids[3])});
    for (std::size_t k = 0; k < 4; ++k)
        CHECK(f.entry(ids[k]).state == queue_state::testing);
    CHECK(f.entry(ids[4]).state == queue_state::waiting);
    CHECK(f.entry(ids[5]).state == queue_state::waiting);
    f.ci(ids[0], "success");
    f.run();
    CHECK(f.entry(ids[1]).state == queue_state::landed);
    // One batch under test, so the next one is built, on the one ahead of it.
    CHECK(f.entry(ids[4]).state == queue_state::testing);
    CHECK(f.entry(ids[5]).batch == ids[5]);
    CHECK(f.entry(ids[4]).built_on == f.entry(ids[3]).speculative);
    CHECK(f.branches() == std::set<std::string>{branch(ids[3]), branch(ids[5])});
}

TEST_CASE("queue runner: an entry leaving a batch voids it", "[queue][runner][batch]") {
    runner_fixture f("batch_size = 3\n");
    const auto a = f.add("a.txt");
    const auto b = f.add("b.txt");
    const auto c = f.add("c.txt");
    f.run();
    const auto tested = f.entry(a).speculative;
    const auto updates = cancel_change(f.repo.get(), f.rules, f.store, b, "alice", f.now);
    REQUIRE(updates.size() == 1);
    CHECK(updates[0].ref == branch(c)); // the batch's branch, named after c
    f.status(tested, "success");        // CI passed the batch with b in it: it must not land
    const auto report = joined(f.run());
    CHECK(f.main_tip() != tested);
    CHECK_THAT(report, Contains("q-0001,q-0003: testing "));
    CHECK(f.entry(a).reason == "rebuilt: an entry of its batch left the queue");
    CHECK(f.entry(a).batch_size == 2);
    CHECK(f.sandbox.server_rev(f.entry(a).speculative + ":b.txt").empty());
}

TEST_CASE("queue runner: a batch without a verdict in time is bisected, not ejected",
          "[queue][runner][batch]") {
    runner_fixture f("batch_size = 2\ncheck_timeout_minutes = 30\n");
    const auto a = f.add("a.txt");
    const auto b = f.add("b.txt");
    f.run();
    f.now += 31 * 60;
    CHECK_THAT(joined(f.run()),
               Contains("q-0001..q-0002: failed (no verdict from CI within 30 minutes "
                        "(check_timeout_minutes)); bisected into q-0001 and q-0002"));
    for (const auto& id : {a, b}) {
        INFO(id);
        CHECK(f.entry(id).state == queue_state::testing);
        CHECK(f.entry(id).batch_size == 1);
        CHECK(f.entry(id).failed_builds == 0);
        CHECK_THAT(f.entry(id).reason, Contains("rebuilt: batch q-0001..q-0002 failed (no "
                                                "verdict from CI within 30 minutes"));
    }
    f.now += 31 * 60;
    CHECK_THAT(joined(f.run()), Contains(a + ": ejected: no verdict from CI within 30 minutes"));
    CHECK(f.entry(b).state == queue_state::testing);
    CHECK(f.entry(b).built_on == f.main_tip());
}

TEST_CASE("queue runner: an interrupted landing of a batch recovers", "[queue][runner][batch]") {
    runner_fixture f("batch_size = 3\n");
    const std::vector<std::string> ids{f.add("a.txt"), f.add("b.txt"), f.add("c.txt")};
    f.run();
    const auto tested = f.entry(ids[0]).speculative;
    f.status(tested, "success");
    const auto tip = f.main_tip();
    git_oid tested_id;
    REQUIRE(git_oid_fromstr(&tested_id, tested.c_str()) == 0);
    queue_run_report report;
    SECTION("before the swap, with part of the batch landing") {
        REQUIRE(f.store.begin_landing(ids[0], tip)); // then the runner died
        REQUIRE(f.store.begin_landing(ids[1], tip));
        report = f.run();
        CHECK_THAT(joined(report), Contains("q-0001..q-0003: an interrupted landing did not move"));
    }
    SECTION("before the swap, with the whole batch landing") {
        for (const auto& id : ids)
            REQUIRE(f.store.begin_landing(id, tip));
        report = f.run();
    }
    SECTION("after the swap, before any entry was recorded landed") {
        for (const auto& id : ids)
            REQUIRE(f.store.begin_landing(id, tip));
        write_ref(f.repo.get(), "refs/heads/main", tested_id, "test: the swap that happened");
        report = f.run();
    }
    SECTION("after the swap, with part of the batch recorded landed") {
        for (const auto& id : ids)
            REQUIRE(f.store.begin_landing(id, tip));
        write_ref(f.repo.get(), "refs/heads/main", tested_id, "test: the swap that happened");
        REQUIRE(f.store.finish_landing(ids[0], f.now));
        report = f.run();
    }
    SECTION("a landed entry proves the swap, even when the target moved on since") {
        for (const auto& id : ids)
            REQUIRE(f.store.begin_landing(id, tip));
        write_ref(f.repo.get(), "refs/heads/main", tested_id, "test: the swap that happened");
        REQUIRE(f.store.finish_landing(ids[0], f.now));
        REQUIRE(f.sandbox.git({"fetch", "-q", "origin"}).status == 0);
        REQUIRE(f.sandbox.git({"checkout", "-q", "-B", "later", tested}).status == 0);
        const auto later = f.sandbox.commit("later", "later.txt");
        REQUIRE(f.sandbox.push({"origin", "later:main"}).status == 0);
        report = f.run();
        CHECK(f.main_tip() == later);
        for (const auto& id : ids)
            CHECK(f.entry(id).state == queue_state::landed);
        return;
    }
    CHECK(f.main_tip() == tested);
    // One move of the target, whichever run made it.
    REQUIRE(report.landings.size() == 1);
    CHECK(report.landings[0].old_hex == tip);
    CHECK(report.landings[0].new_hex == tested);
    for (const auto& id : ids) {
        INFO(id);
        CHECK(f.entry(id).state == queue_state::landed);
        CHECK(f.entry(id).builds == 1); // judged again, not rebuilt
        CHECK(f.sandbox.server_rev("refs/trunkgate/queue/" + id).empty());
    }
    CHECK(f.branches().empty());
}

TEST_CASE("queue runner: journal entries written before batches still read",
          "[queue][runner][batch]") {
    runner_fixture f;
    const auto a = f.add("a.txt");
    const auto b = f.add("b.txt");
    f.run();
    const auto tested_a = f.entry(a).speculative, tested_b = f.entry(b).speculative;
    // As the runner before batches wrote them: no batch, batch_size or batch_limit.
    for (const auto& id : {a, b}) {
        const auto path = f.journal / ("queue/entries/" + id + ".json");
        auto json = nlohmann::json::parse(testing::read_file(path));
        REQUIRE(json.contains("batch"));
        json.erase("batch");
        json.erase("batch_size");
        json.erase("batch_limit");
        testing::write_file(path, json.dump(2));
    }
    f.rules = queue_policy("batch_size = 4\n");
    const auto old = f.entry(a);
    CHECK(old.batch.empty());
    CHECK(batch_of(old) == a);
    CHECK(batch_size_of(old) == 1);
    CHECK(old.batch_limit == 0);
    f.run();
    // Each stays the batch of one it was built as: nothing is rebuilt.
    CHECK(f.entry(a).speculative == tested_a);
    CHECK(f.entry(b).speculative == tested_b);
    f.ci(a, "success");
    f.ci(b, "success");
    f.run();
    CHECK(f.entry(a).state == queue_state::landed);
    CHECK(f.entry(b).state == queue_state::landed);
    CHECK(f.main_tip() == tested_b);
}
