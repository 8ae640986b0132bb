// End-to-end: the merge queue with a real CI in the loop. Developers push to refs/for/main from
// their own clones; the queue's runner starts on its own after every push and status
// ([[queue]] runner = "auto"); each speculative branch goes out as a signed push event to
// Debian's adnanh/webhook, whose CI script clones it, runs the project's ./test.sh and records
// `build` with `trunkgate status set`. Nobody calls `trunkgate queue run`. Main must only ever
// point at commits CI passed.
//
// Also here: a runner killed with SIGKILL (by strace, at the system call that moves main or
// that records the landing) and the run after it.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/ci_receiver.hpp"
#include "support/gates_support.hpp"
#include "support/queue_support.hpp"
#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using namespace std::chrono_literals;
using Catch::Contains;
using trunkgate::testing::gates::as;
using json = nlohmann::json;

namespace {

const std::string secret = "tg-queue-pipeline-secret-93a7";

// CI for one speculative branch: clone the server, check the commit out, run ./test.sh, record
// `build` as ci-bot. A deleted branch (the entry landed or ended) needs no build. The first
// build of a tree holding flaky.txt fails whatever ./test.sh says: a flaky test.
const std::string ci_script = R"(#!/bin/sh
set -u
ref="$1"
sha="$2"
ci='@CI@'
server='@SERVER@'
trunkgate='@TRUNKGATE@'
export HOME="$ci/home" GIT_CONFIG_NOSYSTEM=1 LC_ALL=C
case "$sha" in 0000000000000000000000000000000000000000) exit 0 ;; esac
report() {
    TRUNKGATE_USER=ci-bot "$trunkgate" status set --repo "$server" "$sha" build "$@" \
        >>"$ci/status.log" 2>&1
}
echo "$ref $sha" >>"$ci/builds.log"
report pending --description "running ./test.sh for $ref"
work="$ci/runs/$sha"
log="$ci/logs/$sha.log"
mkdir -p "$ci/logs"
rm -rf "$work"
if { git clone -q --no-checkout "$server" "$work" && git -C "$work" checkout -q "$sha" &&
     (cd "$work" && ./test.sh); } >"$log" 2>&1; then
    if [ -e "$work/flaky.txt" ] && mkdir "$ci/flaked" 2>/dev/null; then
        report failure --description "flaky: failed once"
    else
        report success --description "./test.sh passed"
    fi
else
    report failure --description "./test.sh failed"
fi
)";

std::string pipeline_policy(const std::string& url, const std::string& secret_file,
                            const std::string& queue_keys = "") {
    return R"(
[[protect]]
refs = ["refs/heads/main"]
required_checks = ["build"]

[[queue]]
target = "refs/heads/main"
method = "rebase"
max_parallel = 4
)" + queue_keys +
           R"(
[checks]
writers = ["ci-bot"]

[events]
deliver = "inline"

[[events.endpoint]]
url = ")" + url +
           R"("
secret_file = ")" +
           secret_file + R"("
refs = ["refs/heads/trunkgate/queue/*"]
timeout_ms = 5000
)";
}

// A server whose main holds the project: ./test.sh fails when any file under changes/ says
// BROKEN. With a CI behind webhook and trunkgate installed with the queue's policy.
struct pipeline_fixture {
    git_sandbox sandbox;
    ci_receiver ci;

    explicit pipeline_fixture(const std::string& queue_keys = "")
        : ci(sandbox.server(), ci_script, secret) {
        write_file(sandbox.clone() + "/test.sh", "#!/bin/sh\n! grep -rqs BROKEN changes\n");
        std::filesystem::permissions(sandbox.clone() + "/test.sh",
                                     std::filesystem::perms::owner_all);
        REQUIRE(sandbox.git({"add", "test.sh"}).status == 0);
        REQUIRE(sandbox.git({"commit", "-q", "-m", "the project and its test"}).status == 0);
        // Every value main takes is in its reflog, the first one included.
        REQUIRE(sandbox.git_in(sandbox.server(), {"config", "core.logAllRefUpdates", "always"})
                    .status == 0);
        REQUIRE(sandbox.push({"origin", "main"}).status == 0);
        write_file(sandbox.dir() + "/webhook-secret", secret);
        sandbox.install(pipeline_policy(ci.url(), sandbox.dir() + "/webhook-secret", queue_keys));
    }

    // A developer's own clone with one commit adding changes/<name>.txt (`content`); its path.
    std::string developer(const std::string& name, const std::string& content,
                          const std::string& file = "") {
        const auto dir = sandbox.dir() + "/" + name;
        REQUIRE(sandbox.git_in(sandbox.dir(), {"clone", "-q", sandbox.server(), dir}).status == 0);
        const auto path = file.empty() ? "changes/" + name + ".txt" : file;
        write_file(dir + "/" + path, content + "\n");
        REQUIRE(sandbox.git_in(dir, {"add", path}).status == 0);
        REQUIRE(sandbox.git_in(dir, {"commit", "-q", "-m", name + ": " + path}).status == 0);
        return dir;
    }

    run_result push_for_main(const std::string& dir, const std::string& identity) const {
        return sandbox.git_in(dir, {"push", "origin", "HEAD:refs/for/main"}, as(identity));
    }

    json entries() const {
        const auto listed =
            sandbox.trunkgate({"queue", "--repo", sandbox.server(), "--format", "json"});
        REQUIRE(listed.status == 0);
        return json::parse(listed.out)["queues"][0]["entries"];
    }

    // Waits (bounded) until every entry has ended; the entries then.
    json settled(std::chrono::seconds timeout) const {
        json listed;
        const bool ended = wait_until(
            [&] {
                listed = entries();
                for (const auto& entry : listed)
                    if (!entry["position"].is_null())
                        return false;
                return !listed.empty();
            },
            timeout);
        INFO("queue:\n"
             << listed.dump(1) << "\nrunner log:\n"
             << read_file(sandbox.server() + "/trunkgate/queue/runner.log") << "\nwebhook log:\n"
             << ci.log());
        REQUIRE(ended);
        return listed;
    }

    json statuses(const std::string& sha) const {
        const auto got = sandbox.trunkgate(
            {"status", "get", "--repo", sandbox.server(), sha, "--format", "json"});
        return got.status == 0 ? json::parse(got.out) : json::object();
    }

    std::string build_state(const std::string& sha) const {
        return statuses(sha).value("/build/state"_json_pointer, "");
    }

    // Every commit main pointed to after the project's first commit, from the server's reflog.
    std::vector<std::string> main_values() const {
        const auto log =
            sandbox.git_in(sandbox.server(), {"reflog", "show", "--format=%H", "main"});
        REQUIRE(log.status == 0);
        std::vector<std::string> values;
        std::istringstream lines(log.out);
        for (std::string line; std::getline(lines, line);)
            values.push_back(line);
        REQUIRE_FALSE(values.empty());
        values.pop_back(); // the project's first commit, pushed before trunkgate was installed
        return values;
    }
};

json entry_by_pusher(const json& entries, const std::string& pusher) {
    for (const auto& entry : entries)
        if (entry["pusher"] == pusher)
            return entry;
    FAIL("no entry queued by " << pusher << ": " << entries.dump());
    return {};
}

} // namespace

TEST_CASE("queue pipeline: five developers queue at once; the broken change is ejected, the "
          "others land, and main only ever holds commits CI passed",
          "[e2e][queue][pipeline]") {
    pipeline_fixture fixture;
    const std::vector<std::string> names{"dev1", "dev2", "dev3", "dev4", "dev5"};
    std::vector<std::string> clones;
    for (const auto& name : names)
        clones.push_back(fixture.developer(name, name == "dev3" ? "BROKEN" : "works"));

    std::vector<run_result> pushed(names.size());
    std::vector<std::thread> pushes;
    for (std::size_t i = 0; i < names.size(); ++i)
        pushes.emplace_back([&, i] { pushed[i] = fixture.push_for_main(clones[i], names[i]); });
    for (auto& push : pushes)
        push.join();
    for (const auto& result : pushed) {
        INFO(result.all());
        CHECK(result.status == 0);
        CHECK_THAT(remote_text(result), Contains("trunkgate: queued for main at position "));
    }

    const auto entries = fixture.settled(120s);
    REQUIRE(entries.size() == names.size());
    const auto broken = entry_by_pusher(entries, "dev3");
    CHECK(broken["state"] == "ejected");
    CHECK(broken["reason"] == "check build is failure: ./test.sh failed");
    // Its pusher reads why on their own commit, as a status of the queue.
    const auto told = fixture.statuses(broken["commit"])["trunkgate/queue"];
    CHECK(told["state"] == "failure");
    CHECK(told["description"] ==
          broken["id"].get<std::string>() + " ejected: check build is failure: ./test.sh failed");
    std::set<std::string> landed;
    for (const auto& name : names)
        if (name != "dev3") {
            const auto entry = entry_by_pusher(entries, name);
            CHECK(entry["state"] == "landed");
            landed.insert(entry["speculative"].get<std::string>());
            CHECK(fixture.statuses(entry["commit"])["trunkgate/queue"]["state"] == "success");
        }

    // Main holds the four good changes and not the broken one.
    const auto main = fixture.sandbox.server_rev("main");
    const auto tree =
        fixture.sandbox.git_in(fixture.sandbox.server(), {"ls-tree", "-r", "--name-only", main});
    for (const auto& name : names)
        CHECK((tree.out.find("changes/" + name + ".txt") != std::string::npos) == (name != "dev3"));

    // Every commit main ever pointed to is one CI built and passed: each was an entry's
    // speculative commit, and its `build` is success.
    const auto values = fixture.main_values();
    CHECK(values.size() == 4);
    for (const auto& value : values) {
        INFO(value);
        CHECK(landed.count(value) == 1);
        CHECK(fixture.build_state(value) == "success");
    }
    // And CI did the building: the branches the queue published reached it as push events.
    CHECK_THAT(read_file(fixture.ci.dir() / "builds.log"),
               Contains("refs/heads/trunkgate/queue/main/"));
}

TEST_CASE("queue pipeline: a flaky build is retried on a fresh speculative commit and lands",
          "[e2e][queue][pipeline]") {
    pipeline_fixture fixture("retries = 1\n");
    const auto clone = fixture.developer("dev1", "works", "flaky.txt");
    const auto pushed = fixture.push_for_main(clone, "dev1");
    INFO(pushed.all());
    REQUIRE(pushed.status == 0);

    const auto entries = fixture.settled(60s);
    REQUIRE(entries.size() == 1);
    CHECK(entries[0]["state"] == "landed");
    CHECK(entries[0]["builds"] == 2);
    const auto values = fixture.main_values();
    REQUIRE(values.size() == 1);
    CHECK(fixture.build_state(values[0]) == "success");
    // CI built two different commits: the retry is a fresh build, not the failed one again.
    const auto builds = read_file(fixture.ci.dir() / "builds.log");
    std::set<std::string> built;
    std::istringstream lines(builds);
    for (std::string ref, sha; lines >> ref >> sha;)
        if (sha != zero_id)
            built.insert(sha);
    CHECK(built.size() == 2);
}

TEST_CASE("queue pipeline: two changes to the same lines; the second is ejected as a conflict",
          "[e2e][queue][pipeline]") {
    pipeline_fixture fixture;
    const auto first = fixture.developer("dev1", "mine", "shared.txt");
    const auto second = fixture.developer("dev2", "theirs", "shared.txt");
    REQUIRE(fixture.push_for_main(first, "dev1").status == 0);
    REQUIRE(fixture.push_for_main(second, "dev2").status == 0);

    const auto entries = fixture.settled(60s);
    CHECK(entry_by_pusher(entries, "dev1")["state"] == "landed");
    const auto conflicted = entry_by_pusher(entries, "dev2");
    CHECK(conflicted["state"] == "ejected");
    CHECK_THAT(conflicted["reason"].get<std::string>(), Contains("conflicts: shared.txt"));
}

TEST_CASE("queue pipeline: a runner killed while landing loses nothing and lands nothing untested",
          "[e2e][queue][kill]") {
    git_sandbox sandbox;
    queues::start_queue(sandbox, queues::queue_policy);
    const auto server = sandbox.server();
    REQUIRE(sandbox.git({"checkout", "-q", "-b", "feature/a"}).status == 0);
    sandbox.commit("change a", "a.txt");
    REQUIRE(sandbox.push({"origin", "feature/a"}).status == 0);
    const auto queue = [&](std::vector<std::string> args) {
        args.insert(args.end(), {"--repo", server});
        args.insert(args.begin(), "queue");
        return sandbox.trunkgate(args, "", as("alice"));
    };
    REQUIRE(queue({"add", "--target", "main", "feature/a"}).status == 0);
    REQUIRE(queue({"run"}).status == 0);
    const auto tested = sandbox.server_rev("refs/heads/trunkgate/queue/main/q-0001");
    REQUIRE_FALSE(tested.empty());
    REQUIRE(
        sandbox.trunkgate({"status", "set", "--repo", server, tested, "build", "success"}).status ==
        0);
    const auto before = sandbox.server_rev("main");
    const auto state = [&] {
        return json::parse(read_file(server + "/trunkgate/queue/entries/q-0001.json"))["state"];
    };
    // `queue run` under strace, which sends it SIGKILL at the `when`th `syscall` on `path`.
    const auto run_killed = [&](const std::string& path, const std::string& syscall, int when) {
        return run({"strace", "-f", "-qq", "-o", "/dev/null", "-P", path, "-e", "trace=" + syscall,
                    "-e", "inject=" + syscall + ":signal=SIGKILL:when=" + std::to_string(when),
                    bin_path("trunkgate"), "queue", "run", "--repo", server},
                   sandbox.dir(), sandbox.environment());
    };

    bool left_lock = false; // killed holding git's lock of main, with the new value in it
    SECTION("killed as it moves main: main stays, the next run lands it") {
        left_lock = true;
        const auto killed = run_killed(server + "/refs/heads/main.lock", "rename", 1);
        INFO(killed.all());
        CHECK(killed.status != 0);
        CHECK(sandbox.server_rev("main") == before);
        CHECK(state() == "landing");
    }
    SECTION("killed after main moved, before the journal says so: the next run finishes it") {
        // The third time it takes the journal's lock: after record_checks and begin_landing,
        // the landing's own record, which comes after the swap.
        const auto killed = run_killed(server + "/trunkgate/queue/lock", "flock", 3);
        INFO(killed.all());
        CHECK(killed.status != 0);
        CHECK(sandbox.server_rev("main") == tested);
        CHECK(state() == "landing");
    }
    const auto recovered = queue({"run"});
    INFO(recovered.all());
    CHECK(recovered.status == 0);
    CHECK((recovered.out.find("q-0001: removed the lock of refs/heads/main an interrupted "
                              "landing left") != std::string::npos) == left_lock);
    CHECK_THAT(recovered.out,
               Contains("q-0001: landed: refs/heads/main is now " + tested.substr(0, 7)));
    CHECK(sandbox.server_rev("main") == tested);
    CHECK(state() == "landed");
    CHECK(sandbox.server_rev("refs/heads/trunkgate/queue/main/q-0001").empty());
    // Landed once: one audit record of the queue's landing.
    const auto audit = read_file(server + "/trunkgate/audit.log");
    CHECK(audit.find("trunkgate-queue") == audit.rfind("trunkgate-queue"));
}
