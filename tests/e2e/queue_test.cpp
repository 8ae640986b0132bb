// End-to-end: the merge queue on a real bare repository. Changes are pushed as branches and
// queued with `trunkgate queue add`; CI is `trunkgate status set` on the speculative commits the
// queue publishes; `trunkgate queue run` lands, ejects and rebuilds. The target must only ever
// point at commits whose required check passed.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "support/gates_support.hpp"
#include "support/http_receiver.hpp"
#include "support/queue_support.hpp"
#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using Catch::Contains;
using trunkgate::testing::gates::as;
using trunkgate::testing::queues::queue_policy;
using trunkgate::testing::queues::start_queue;
using json = nlohmann::json;

namespace {

struct queue_fixture {
    git_sandbox sandbox;

    explicit queue_fixture(const std::string& policy = queue_policy) {
        start_queue(sandbox, policy);
    }

    // A branch off main's current tip in the clone with one commit to `file`, pushed; its id.
    std::string change(const std::string& branch, const std::string& file,
                       const std::string& content) {
        REQUIRE(sandbox.git({"checkout", "-q", "-B", branch, "origin/main"}).status == 0);
        write_file(sandbox.clone() + "/" + file, content);
        REQUIRE(sandbox.git({"add", file}).status == 0);
        REQUIRE(sandbox.git({"commit", "-q", "-m", "change " + file}).status == 0);
        const auto pushed = sandbox.push({"origin", branch});
        INFO(pushed.all());
        REQUIRE(pushed.status == 0);
        return sandbox.clone_rev("HEAD");
    }

    run_result queue(const std::vector<std::string>& args, const std::string& identity = "alice") {
        std::vector<std::string> argv{"queue"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.insert(argv.end(), {"--repo", sandbox.server()});
        return sandbox.trunkgate(argv, "", as(identity));
    }

    std::string add(const std::string& commit, const std::string& identity = "alice") {
        const auto added = queue({"add", "--target", "main", commit}, identity);
        INFO(added.all());
        REQUIRE(added.status == 0);
        const auto at = added.out.find("(id ");
        REQUIRE(at != std::string::npos);
        return added.out.substr(at + 4, added.out.find(')', at) - at - 4);
    }

    run_result run() {
        const auto ran = queue({"run"});
        INFO(ran.all());
        REQUIRE(ran.status == 0);
        return ran;
    }

    json listing() { return json::parse(queue({"--format", "json"}).out); }

    json entry(const std::string& id) {
        const auto listed = listing();
        for (const auto& item : listed["queues"][0]["entries"])
            if (item["id"] == id)
                return item;
        FAIL("no entry " + id + " in " + listed.dump());
        return {};
    }

    std::string speculative(const std::string& id) {
        return entry(id)["speculative"].get<std::string>();
    }

    void ci(const std::string& commit, const std::string& state) {
        const auto set = sandbox.trunkgate(
            {"status", "set", "--repo", sandbox.server(), commit, "build", state}, "", as("ci"));
        INFO(set.all());
        REQUIRE(set.status == 0);
    }

    // Every commit main pointed to, from its reflog.
    std::vector<std::string> main_history() {
        const auto log =
            sandbox.git_in(sandbox.server(), {"reflog", "show", "--format=%H", "refs/heads/main"});
        std::vector<std::string> tips;
        std::istringstream lines(log.out);
        for (std::string line; std::getline(lines, line);)
            tips.push_back(line);
        return tips;
    }
};

} // namespace

TEST_CASE("queue: changes land in order on their tested result; a failure is ejected",
          "[e2e][queue]") {
    queue_fixture f;
    REQUIRE(f.sandbox.git_in(f.sandbox.server(), {"config", "core.logAllRefUpdates", "always"})
                .status == 0);
    const auto initial = f.sandbox.server_rev("main");
    const auto a = f.add(f.change("a", "a.txt", "a\n"));
    const auto b = f.add(f.change("b", "b.txt", "b\n"));
    const auto c = f.add(f.change("c", "c.txt", "c\n"));
    CHECK(a == "q-0001");
    CHECK(f.entry(c)["position"] == 3);

    const auto first = f.run();
    for (const auto& id : {a, b, c}) {
        INFO(id);
        CHECK(f.entry(id)["state"] == "testing");
        CHECK(f.sandbox.server_rev("refs/heads/trunkgate/queue/main/" + id) == f.speculative(id));
    }
    CHECK_THAT(first.out, Contains(a + ": testing "));
    // The train: b is tested on a's result, c on b's.
    CHECK(f.sandbox.server_rev(f.speculative(b) + "^") == f.speculative(a));
    CHECK(f.sandbox.server_rev(f.speculative(c) + "^") == f.speculative(b));
    CHECK(f.sandbox.server_rev("main") == initial); // nothing passed yet

    const auto tested_a = f.speculative(a), tested_b = f.speculative(b);
    f.ci(tested_a, "success");
    f.ci(tested_b, "failure");
    f.ci(f.speculative(c), "success"); // built on b: worthless once b is out
    const auto second = f.run();
    CHECK_THAT(second.out, Contains(a + ": landed"));
    CHECK_THAT(second.out, Contains(b + ": ejected: check build is failure"));
    CHECK(f.sandbox.server_rev("main") == tested_a);
    CHECK(f.entry(a)["state"] == "landed");
    CHECK(f.entry(b)["state"] == "ejected");
    CHECK(f.entry(b)["reason"] == "check build is failure");
    CHECK(f.sandbox.server_rev("refs/heads/trunkgate/queue/main/" + a).empty());
    CHECK(f.sandbox.server_rev("refs/heads/trunkgate/queue/main/" + b).empty());
    // c was rebuilt on main without b, and waits for its own verdict.
    CHECK(f.entry(c)["state"] == "testing");
    CHECK(f.sandbox.server_rev(f.speculative(c) + "^") == tested_a);

    const auto tested_c = f.speculative(c);
    f.ci(tested_c, "success");
    CHECK_THAT(f.run().out, Contains(c + ": landed"));
    CHECK(f.sandbox.server_rev("main") == tested_c);
    CHECK(f.sandbox.server_rev("main:b.txt").empty());
    CHECK_FALSE(f.sandbox.server_rev("main:c.txt").empty());
    // Trunk was never red: every commit main pointed to since is one CI passed.
    const auto history = f.main_history();
    CHECK(std::count(history.begin(), history.end(), tested_a) == 1);
    CHECK(std::count(history.begin(), history.end(), tested_c) == 1);
    for (const auto& tip : history) {
        if (tip == initial)
            continue;
        INFO(tip);
        CHECK(
            f.sandbox
                .trunkgate({"status", "get", "--repo", f.sandbox.server(), tip, "--format", "json"})
                .out.find("\"success\"") != std::string::npos);
    }
    // The audit log has each landing.
    const auto audit = f.sandbox.trunkgate({"audit", "--repo", f.sandbox.server()});
    CHECK_THAT(audit.out, Contains("trunkgate-queue  landed  refs/heads/main"));
}

TEST_CASE("queue: a batch with a failing change is bisected; the others land", "[e2e][queue]") {
    auto policy = queue_policy;
    policy.replace(policy.find("max_parallel = 4"), 16, "max_parallel = 4\nbatch_size = 3");
    queue_fixture f(policy);
    REQUIRE(f.sandbox.git_in(f.sandbox.server(), {"config", "core.logAllRefUpdates", "always"})
                .status == 0);
    const auto initial = f.sandbox.server_rev("main");
    const auto a = f.add(f.change("a", "a.txt", "a\n"));
    const auto bad = f.add(f.change("bad", "bad.txt", "bad\n"));
    const auto c = f.add(f.change("c", "c.txt", "c\n"));
    std::set<std::string> builds; // distinct speculative commits CI was given
    // Speculative commits are deterministic: a half rebuilt within the same second as the
    // batch can be the very commit built before (keeping its verdict). A new second makes
    // every build a new commit, so the count below is exact.
    const auto run_in_a_new_second = [&f] {
        const auto start = std::time(nullptr);
        while (std::time(nullptr) == start)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return f.run();
    };

    CHECK_THAT(f.run().out, Contains(a + ".." + c + ": testing "));
    const auto together = f.speculative(a);
    builds.insert(together);
    for (const auto& id : {a, bad, c}) {
        INFO(id);
        const auto entry = f.entry(id);
        CHECK(entry["state"] == "testing");
        CHECK(entry["speculative"] == together);
        CHECK(entry["batch"] == c);
        CHECK(entry["batch_size"] == 3);
        CHECK(entry["speculative_ref"] == "refs/heads/trunkgate/queue/main/" + c);
        CHECK(entry["builds"] == 1);
    }
    CHECK(f.sandbox.server_rev("refs/heads/trunkgate/queue/main/" + c) == together);
    CHECK(f.sandbox.server_rev("refs/heads/trunkgate/queue/main/" + a).empty());
    CHECK_THAT(f.queue({}).out, Contains("batch " + c + " (3 changes)"));

    f.ci(together, "failure");
    CHECK_THAT(run_in_a_new_second().out, Contains(a + ".." + c +
                                                   ": failed (check build is failure); bisected "
                                                   "into " +
                                                   a + ".." + bad + " and " + c));
    CHECK(f.entry(a)["reason"] ==
          "rebuilt: batch " + a + ".." + c + " failed (check build is failure); bisecting");
    CHECK(f.entry(a)["batch"] == bad);
    CHECK(f.entry(c)["batch"] == c);
    CHECK(f.sandbox.server_rev(f.speculative(c) + "^") == f.speculative(bad));
    const auto first_half = f.speculative(a);
    builds.insert(first_half);
    builds.insert(f.speculative(c));

    f.ci(first_half, "failure");
    run_in_a_new_second();
    CHECK(f.entry(a)["batch"] == a);
    CHECK(f.entry(bad)["batch"] == bad);
    CHECK(f.entry(bad)["state"] == "testing"); // not ejected for a batch's failure
    for (const auto& id : {a, bad, c})
        builds.insert(f.speculative(id));

    f.ci(f.speculative(a), "success");
    f.ci(f.speculative(bad), "failure");
    const auto fourth = f.run();
    CHECK_THAT(fourth.out, Contains(a + ": landed"));
    CHECK_THAT(fourth.out, Contains(bad + ": ejected: check build is failure"));
    CHECK(f.entry(bad)["state"] == "ejected");
    CHECK(f.entry(c)["state"] == "testing");
    CHECK(f.sandbox.server_rev(f.speculative(c) + "^") == f.sandbox.server_rev("main"));
    builds.insert(f.speculative(c));

    f.ci(f.speculative(c), "success");
    CHECK_THAT(f.run().out, Contains(c + ": landed"));
    CHECK(f.entry(a)["state"] == "landed");
    CHECK(f.entry(c)["state"] == "landed");
    CHECK(f.sandbox.server_rev("main:bad.txt").empty());
    CHECK_FALSE(f.sandbox.server_rev("main:a.txt").empty());
    CHECK_FALSE(f.sandbox.server_rev("main:c.txt").empty());
    // [a bad c] [a bad] [c on a+bad] [a] [bad] [c on bad] [c on a]: seven builds, two landed.
    CHECK(builds.size() == 7);
    // Trunk was never red.
    const auto history = f.main_history();
    CHECK(history.size() == 2); // logged from after main was made
    for (const auto& tip : history) {
        if (tip == initial)
            continue;
        INFO(tip);
        CHECK(
            f.sandbox
                .trunkgate({"status", "get", "--repo", f.sandbox.server(), tip, "--format", "json"})
                .out.find("\"success\"") != std::string::npos);
    }
    const auto left =
        f.sandbox.git_in(f.sandbox.server(), {"for-each-ref", "refs/heads/trunkgate/"});
    CHECK(left.out.empty());
}

TEST_CASE("queue: a change that no longer applies is ejected with the paths", "[e2e][queue]") {
    queue_fixture f;
    const auto first = f.add(f.change("one", "shared.txt", "one\n"));
    const auto second = f.add(f.change("two", "shared.txt", "two\n"));
    f.run();
    CHECK(f.entry(first)["state"] == "testing");
    // Both built: the second on the first, where it conflicts.
    CHECK(f.entry(second)["state"] == "ejected");
    CHECK_THAT(f.entry(second)["reason"].get<std::string>(), Contains("conflicts: shared.txt"));
    f.ci(f.speculative(first), "success");
    f.run();
    CHECK(f.entry(first)["state"] == "landed");
}

TEST_CASE("queue: cancel, by its pusher or an admin only", "[e2e][queue]") {
    queue_fixture f;
    const auto id = f.add(f.change("x", "x.txt", "x\n"));
    f.run();
    const auto branch = "refs/heads/trunkgate/queue/main/" + id;
    CHECK_FALSE(f.sandbox.server_rev(branch).empty());
    const auto refused = f.queue({"cancel", id}, "mallory");
    CHECK(refused.status == 2);
    CHECK_THAT(refused.err, Contains("only they or an identity of [bypass] identities"));
    const auto cancelled = f.queue({"cancel", id}, "release-manager");
    INFO(cancelled.all());
    CHECK(cancelled.status == 0);
    CHECK(f.entry(id)["state"] == "cancelled");
    CHECK(f.sandbox.server_rev(branch).empty());
    CHECK(f.queue({"cancel", id}).status == 2); // ended already
    SECTION("without a verdict, nothing lands") {
        const auto other = f.add(f.change("y", "y.txt", "y\n"));
        f.run();
        f.run();
        CHECK(f.entry(other)["state"] == "testing");
        CHECK(f.sandbox.server_rev("main") != f.speculative(other));
    }
}

TEST_CASE("queue: the policy's [[queue]] is checked", "[e2e][queue]") {
    git_sandbox sandbox;
    write_file(sandbox.dir() + "/bad.toml", "[[queue]]\ntarget = \"main\"\n");
    const auto linted = sandbox.trunkgate({"policy", "lint", sandbox.dir() + "/bad.toml"});
    CHECK(linted.status == 3);
    CHECK_THAT(linted.err, Contains("'queue.target' is one full branch name"));
    write_file(sandbox.dir() + "/batch.toml",
               "[[queue]]\ntarget = \"refs/heads/main\"\nbatch_size = 4\n");
    CHECK(sandbox.trunkgate({"policy", "lint", sandbox.dir() + "/batch.toml"}).status == 0);
    write_file(sandbox.dir() + "/batch.toml",
               "[[queue]]\ntarget = \"refs/heads/main\"\nbatch_size = 65\n");
    CHECK_THAT(sandbox.trunkgate({"policy", "lint", sandbox.dir() + "/batch.toml"}).err,
               Contains("'queue.batch_size' must be between 1 and 64"));
    write_file(sandbox.dir() + "/runner.toml",
               "[[queue]]\ntarget = \"refs/heads/main\"\nrunner = \"cron\"\n");
    CHECK_THAT(sandbox.trunkgate({"policy", "lint", sandbox.dir() + "/runner.toml"}).err,
               Contains("'queue.runner' is \"auto\" or \"manual\""));
}

TEST_CASE("queue: a direct push to a queued branch is refused with queue-required",
          "[e2e][queue]") {
    queue_fixture f;
    REQUIRE(f.sandbox.git({"checkout", "-q", "-B", "main", "origin/main"}).status == 0);
    f.sandbox.commit("straight to main", "direct.txt");
    const auto before = f.sandbox.server_rev("main");
    const auto pushed = f.sandbox.push({"origin", "main"}, as("alice"));
    CHECK(pushed.status != 0);
    CHECK(f.sandbox.server_rev("main") == before);
    const auto text = remote_text(pushed);
    CHECK_THAT(text, Contains("[queue-required] main has a merge queue: changes land through it"));
    CHECK_THAT(text, Contains("hint: queue the change: git push origin HEAD:refs/for/main"));
    SECTION("[bypass] still works, and is audited") {
        const auto bypassed =
            f.sandbox.push({"-o", "trunkgate.bypass=hotfix for the outage", "origin", "main"},
                           as("release-manager"));
        INFO(bypassed.all());
        CHECK(bypassed.status == 0);
        CHECK(f.sandbox.server_rev("main") == f.sandbox.clone_rev("HEAD"));
        CHECK_THAT(f.sandbox.trunkgate({"audit", "--repo", f.sandbox.server()}).out,
                   Contains("bypass: \"hotfix for the outage\""));
    }
}

TEST_CASE("queue: a change sent to refs/for/<branch> meets the branch and commit rules of its "
          "target",
          "[e2e][queue]") {
    queue_fixture f(queue_policy + R"(
[branches]
max_behind = 2

[commits]
message_pattern = '^(feat|fix): '
)");
    // A change made on main, then main moves on by three commits.
    REQUIRE(f.sandbox.git({"checkout", "-q", "-B", "old", "origin/main"}).status == 0);
    const auto change = f.sandbox.commit("wip", "w.txt");
    const auto zero = std::string(40, '0');
    REQUIRE(f.sandbox.git({"checkout", "-q", "-B", "moving", "origin/main"}).status == 0);
    f.sandbox.commits(3, "feat: more");
    REQUIRE(f.sandbox
                .push({"-o", "trunkgate.bypass=setting up the test", "origin", "moving:main"},
                      as("release-manager"))
                .status == 0);
    // Judged from the developer's clone, as the hook would judge the push.
    const auto checked =
        f.sandbox.trunkgate({"check", "--policy", f.sandbox.server() + "/trunkgate.toml", zero,
                             change, "refs/for/main/topic"},
                            "", as("alice"));
    INFO(checked.all());
    CHECK(checked.status == 1);
    // "3" or "at least 3": the walk may stop once the limit is passed.
    CHECK_THAT(checked.out, Contains("[up-to-date] branch is "));
    CHECK_THAT(checked.out, Contains("3 commits behind main (limit 2)"));
    CHECK_THAT(checked.out, Contains("git rebase origin/main && git push origin "
                                     "HEAD:refs/for/main/topic"));
    CHECK_THAT(checked.out, Contains("[commit-message]"));
    CHECK(checked.out.find("queue-required") == std::string::npos);
}

TEST_CASE("queue: CI hears of every branch the queue makes, lands and deletes", "[e2e][queue]") {
    http_receiver receiver;
    queue_fixture f(queue_policy +
                    "\n[events]\ndeliver = \"inline\"\n\n[[events.endpoint]]\nurl = \"" +
                    receiver.url() + "\"\n");
    const auto landing = f.add(f.change("a", "a.txt", "a\n"));
    const auto cancelled = f.add(f.change("b", "b.txt", "b\n"));
    const auto before = receiver.request_count(); // the pushes of the branches above
    f.run();
    REQUIRE(receiver.wait_for_requests(before + 2, std::chrono::seconds(10)));
    f.ci(f.speculative(landing), "success");
    REQUIRE(f.queue({"cancel", cancelled}).status == 0);
    f.run();
    // Created: both speculative branches; then the cancelled one deleted, main moved and the
    // landed one's branch deleted.
    REQUIRE(receiver.wait_for_requests(before + 5, std::chrono::seconds(10)));
    std::multiset<std::string> seen;
    for (const auto& request : receiver.requests()) {
        const auto body = json::parse(request.body);
        seen.insert(body["ref"].get<std::string>() + (body["deleted"] == true ? " deleted" : ""));
    }
    CHECK(seen.count("refs/heads/trunkgate/queue/main/" + landing) == 1);
    CHECK(seen.count("refs/heads/trunkgate/queue/main/" + landing + " deleted") == 1);
    CHECK(seen.count("refs/heads/trunkgate/queue/main/" + cancelled) == 1);
    CHECK(seen.count("refs/heads/trunkgate/queue/main/" + cancelled + " deleted") == 1);
    CHECK(seen.count("refs/heads/main") == 1);
}

TEST_CASE("queue: queue run --all-under serves the repositories that have a queue",
          "[e2e][queue]") {
    queue_fixture fixture;
    auto& sandbox = fixture.sandbox;
    const auto other = sandbox.dir() + "/other.git"; // a repository without trunkgate
    REQUIRE(sandbox.git_in(sandbox.dir(), {"init", "-q", "--bare", other}).status == 0);
    const auto id = fixture.add(fixture.change("feature/a", "a.txt", "a\n"));

    const auto ran = sandbox.trunkgate({"queue", "run", "--all-under", sandbox.dir()});
    INFO(ran.all());
    CHECK(ran.status == 0);
    CHECK(ran.err.empty());
    CHECK_THAT(ran.out, Contains(sandbox.server() + ": " + id + ": testing "));
    CHECK(ran.out.find("other.git") == std::string::npos);

    // Named, a repository says why there is nothing to do.
    const auto named = sandbox.trunkgate({"queue", "run", "--repo", other});
    CHECK(named.status == 3);
    CHECK_THAT(named.err, Contains("other.git"));
    const auto missing =
        sandbox.trunkgate({"queue", "run", "--all-under", sandbox.dir() + "/nope"});
    CHECK(missing.status == 2);
    CHECK_THAT(missing.err, Contains("--all-under " + sandbox.dir() + "/nope: not a directory"));
}
