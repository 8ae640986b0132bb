#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "support/sandbox.hpp"
#include "trunkgate/queue/store.hpp"

using namespace trunkgate;
using Catch::Matchers::Contains;

namespace {

const std::string commit_a(40, 'a');
const std::string commit_b(40, 'b');
const std::string commit_c(40, 'c');

queue_entry change(const std::string& commit, bool priority = false) {
    queue_entry entry;
    entry.target = "refs/heads/main";
    entry.commit = commit;
    entry.pusher = "alice";
    entry.priority = priority;
    return entry;
}

std::vector<std::string> ids(const std::vector<queue_entry>& entries) {
    std::vector<std::string> listed;
    for (const auto& entry : entries)
        listed.push_back(entry.id);
    return listed;
}

} // namespace

TEST_CASE("queue store: ids, order and priority", "[queue][store]") {
    testing::temp_dir dir;
    queue_store store(dir / "queue");
    const auto first = store.enqueue(change(commit_a), 100);
    const auto second = store.enqueue(change(commit_b), 101);
    CHECK(first.id == "q-0001");
    CHECK(second.id == "q-0002");
    CHECK(first.state == queue_state::waiting);
    CHECK(first.enqueued_at == 100);
    const auto urgent = store.enqueue(change(commit_c, true), 102);
    CHECK(ids(store.entries("refs/heads/main")) ==
          std::vector<std::string>{urgent.id, first.id, second.id});
    CHECK(store.entries("refs/heads/other").empty());
    SECTION("the journal is on disk: another store reads the same") {
        queue_store again(dir / "queue");
        CHECK(ids(again.entries()) == std::vector<std::string>{urgent.id, first.id, second.id});
        CHECK(again.enqueue(change(commit_a), 103).id == "q-0004");
    }
    SECTION("ended entries come last, newest first") {
        CHECK(store.cancel(urgent.id, "cancelled by alice", 200));
        CHECK(store.eject(first.id, "check build is failure", 300));
        CHECK(ids(store.entries()) == std::vector<std::string>{second.id, first.id, urgent.id});
    }
}

TEST_CASE("queue store: each transition from its states only, and safe twice", "[queue][store]") {
    testing::temp_dir dir;
    queue_store store(dir / "queue");
    const auto id = store.enqueue(change(commit_a), 100).id;
    CHECK_FALSE(store.begin_landing(id, commit_c)); // waiting: nothing to land
    CHECK_FALSE(store.finish_landing(id, 110));
    CHECK(store.start_testing(id, commit_b, commit_c, 110));
    CHECK_FALSE(store.start_testing(id, commit_b, commit_c, 111)); // already so
    CHECK(store.record_checks(id, {{"build", "pending"}}));
    CHECK_FALSE(store.record_checks(id, {{"build", "pending"}}));
    auto entry = *store.find(id);
    CHECK(entry.state == queue_state::testing);
    CHECK(entry.speculative == commit_b);
    CHECK(entry.built_on == commit_c);
    CHECK(entry.builds == 1);
    CHECK(entry.checks == std::map<std::string, std::string>{{"build", "pending"}});
    SECTION("land") {
        CHECK(store.begin_landing(id, commit_c));
        CHECK_FALSE(store.cancel(id, "too late", 120));
        CHECK(store.finish_landing(id, 120));
        CHECK_FALSE(store.finish_landing(id, 121));
        CHECK(store.find(id)->state == queue_state::landed);
        CHECK(store.find(id)->ended_at == 120);
    }
    SECTION("an interrupted landing goes back to testing") {
        CHECK(store.begin_landing(id, commit_c));
        CHECK(store.abort_landing(id));
        CHECK(store.find(id)->state == queue_state::testing);
        CHECK(store.find(id)->landing_from.empty());
    }
    SECTION("a failed build is rebuilt, then ejected") {
        CHECK(store.rebuild(id, "retried after: check build is failure", true));
        CHECK_FALSE(store.rebuild(id, "again", true));
        entry = *store.find(id);
        CHECK(entry.state == queue_state::waiting);
        CHECK(entry.speculative.empty());
        CHECK(entry.failed_builds == 1);
        CHECK(store.eject(id, "check build is failure", 130));
        CHECK_FALSE(store.eject(id, "again", 131));
        CHECK_FALSE(store.start_testing(id, commit_b, commit_c, 132));
        CHECK(store.find(id)->reason == "check build is failure");
    }
}

TEST_CASE("queue store: batches and their limits", "[queue][store]") {
    testing::temp_dir dir;
    queue_store store(dir / "queue");
    const auto id = store.enqueue(change(commit_a), 100).id;
    CHECK_FALSE(store.limit_batch(id, 2)); // waiting: not built in a batch yet
    CHECK(store.start_testing(id, commit_b, commit_c, 110, "q-0009", 4));
    CHECK_FALSE(store.start_testing(id, commit_b, commit_c, 111, "q-0009", 4)); // already so
    auto entry = *store.find(id);
    CHECK(entry.batch == "q-0009");
    CHECK(batch_size_of(entry) == 4);
    CHECK(store.limit_batch(id, 2));
    CHECK_FALSE(store.limit_batch(id, 3)); // a limit only shrinks
    CHECK(store.limit_batch(id, 1));
    CHECK(store.find(id)->batch_limit == 1);
    CHECK(store.rebuild(id, "rebuilt: batch q-0001..q-0009 failed; bisecting", false));
    entry = *store.find(id);
    CHECK(entry.batch.empty());
    CHECK(batch_of(entry) == id);
    CHECK(batch_size_of(entry) == 1);
    CHECK(entry.batch_limit == 1);   // stays with the entry
    CHECK(entry.failed_builds == 0); // a batch's failure is nobody's
    CHECK(store.start_testing(id, commit_b, commit_c, 120));
    CHECK(batch_of(*store.find(id)) == id); // built alone
    auto text = queue_entry_json(*store.find(id));
    const auto field = "\"batch\": \"" + id + "\"";
    REQUIRE(text.find(field) != std::string::npos);
    text.replace(text.find(field), field.size(), "\"batch\": \"main\"");
    CHECK_THROWS_WITH(parse_queue_entry(text), Contains("'batch' is not a queue id"));
}

TEST_CASE("queue store: damaged entries are named, never taken", "[queue][store]") {
    testing::temp_dir dir;
    queue_store store(dir / "queue");
    const auto id = store.enqueue(change(commit_a), 100).id;
    testing::write_file(dir / "queue/entries/q-0002.json", "{\"id\": \"q-0002\", \"state\": 7}");
    std::vector<std::string> unreadable;
    CHECK(ids(store.entries({}, &unreadable)) == std::vector<std::string>{id});
    REQUIRE(unreadable.size() == 1);
    CHECK_THAT(unreadable[0], Contains("q-0002.json is damaged"));
    CHECK_THROWS_AS(store.find("q-0002"), input_error);
    CHECK_FALSE(store.find("q-0999"));
    CHECK_FALSE(store.find("../etc/passwd"));
    CHECK_THROWS_AS(parse_queue_entry("[]"), input_error);
    auto text = queue_entry_json(*store.find(id));
    CHECK(parse_queue_entry(text).commit == commit_a);
    text.replace(text.find(commit_a), 40, "not-a-commit");
    CHECK_THROWS_WITH(parse_queue_entry(text), Contains("'commit' is not a commit id"));
}

TEST_CASE("queue store: one runner at a time", "[queue][store]") {
    testing::temp_dir dir;
    queue_store store(dir / "queue");
    {
        const auto hold = store.try_hold_runner();
        REQUIRE(hold);
        CHECK_FALSE(queue_store(dir / "queue").try_hold_runner());
    }
    CHECK(store.try_hold_runner());
}

TEST_CASE("queue store: a run asked for stays asked until a runner takes it", "[queue][store]") {
    testing::temp_dir dir;
    queue_store store(dir / "queue");
    CHECK_FALSE(store.run_requested());
    store.request_run();
    store.request_run(); // asking twice is one request
    CHECK(store.run_requested());
    CHECK(store.take_run_request());
    CHECK_FALSE(store.run_requested());
    CHECK_FALSE(store.take_run_request());
}
