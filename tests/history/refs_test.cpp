#include <catch2/catch.hpp>

#include "support/sandbox.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/history/refs.hpp"

using namespace trunkgate;
using testing::git_sandbox;

TEST_CASE("refs: only a lock holding the commit a killed swap was writing is removed", "[refs]") {
    git_sandbox sandbox;
    const auto first = sandbox.commit("first", "a.txt");
    const auto second = sandbox.commit("second", "b.txt");
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    const libgit2_guard libgit2;
    const auto repo = open_repository(sandbox.server());
    const auto lock = sandbox.server() + "/refs/heads/main.lock";
    const auto target = *commit_of(repo.get(), first);

    CHECK_FALSE(remove_abandoned_ref_lock(repo.get(), "refs/heads/main", target)); // none

    testing::write_file(lock, second + "\n"); // someone else's write in progress
    CHECK_FALSE(remove_abandoned_ref_lock(repo.get(), "refs/heads/main", target));
    CHECK(testing::read_file(lock) == second + "\n");
    CHECK(swap_ref(repo.get(), "refs/heads/main", target, *commit_of(repo.get(), second), "t") ==
          swap_outcome::locked);

    testing::write_file(lock, first + "\n"); // what a killed swap to `first` leaves
    CHECK(remove_abandoned_ref_lock(repo.get(), "refs/heads/main", target));
    CHECK(swap_ref(repo.get(), "refs/heads/main", target, *commit_of(repo.get(), second), "t") ==
          swap_outcome::moved);
    CHECK(sandbox.server_rev("main") == first);
}
