#include <catch2/catch.hpp>

#include <sstream>

#include "support/sandbox.hpp"
#include "trunkgate/admin/queue_runner.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/queue/queue.hpp"

using namespace trunkgate;
using Catch::Matchers::Contains;
using testing::git_sandbox;

namespace {

const std::string queued_main = R"(
[[protect]]
refs = ["refs/heads/main"]
required_checks = ["build"]

[[queue]]
target = "refs/heads/main"
)";

std::optional<std::string> no_environment(const std::string&) {
    return std::nullopt;
}

} // namespace

TEST_CASE("queue runner service: a start that finds the queue busy is not lost", "[queue][admin]") {
    git_sandbox sandbox;
    sandbox.commit("initial", "README");
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    const libgit2_guard libgit2;
    const auto repo = open_repository(sandbox.server());
    const auto dir = git_dir(repo.get());
    const auto rules = parse_policy(queued_main, "test.toml");
    queue_store store(dir + "trunkgate/queue");
    const auto commit = sandbox.commit("change", "a.txt");
    REQUIRE(sandbox.push({"origin", "HEAD:refs/heads/change"}).status == 0);
    enqueue_change(repo.get(), rules, store, {"refs/heads/main", commit, "", "alice", false}, 1);
    std::ostringstream out, err;
    store.request_run();
    {
        const auto busy = store.try_hold_runner();
        REQUIRE(busy);
        CHECK_FALSE(run_queue_until_settled(repo.get(), dir, rules, out, err, no_environment));
        CHECK(store.run_requested()); // the runner at work passes once more for it
    }
    CHECK(run_queue_until_settled(repo.get(), dir, rules, out, err, no_environment));
    CHECK_FALSE(store.run_requested());
    CHECK_THAT(out.str(), Contains("q-0001: testing "));
    CHECK(err.str().empty());
    CHECK(store.find("q-0001")->state == queue_state::testing);
}

TEST_CASE("queue runner service: no detached start without an automatic queue", "[queue][admin]") {
    testing::temp_dir dir;
    auto manual = parse_policy(queued_main + "runner = \"manual\"\n", "test.toml");
    CHECK(start_queue_runner(dir / "", manual, no_environment).empty());
    CHECK_FALSE(queue_store(dir / "trunkgate/queue").run_requested());
    CHECK(start_queue_runner(dir / "", policy{}, no_environment).empty());
}
