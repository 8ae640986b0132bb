#include <catch2/catch.hpp>

#include "support/sandbox.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/history/history.hpp"

using namespace trunkgate;

namespace {

git_oid oid_of(const std::string& hex) {
    git_oid oid;
    REQUIRE(git_oid_fromstr(&oid, hex.c_str()) == 0);
    return oid;
}

constexpr long long start = 1700000000;

// main: 10 commits one hour apart; feature forks after main's 3rd commit with 2 commits of its
// own dated after main's tip.
struct forked_history {
    testing::git_sandbox sandbox;
    std::string fork_point, main_tip, feature_tip, feature_first;
    forked_history() {
        for (int i = 1; i <= 3; ++i)
            fork_point = sandbox.commit("main " + std::to_string(i), "", start + i * 3600);
        for (int i = 4; i <= 10; ++i)
            main_tip = sandbox.commit("main " + std::to_string(i), "", start + i * 3600);
        sandbox.git({"checkout", "-q", "-b", "feature", fork_point});
        feature_first = sandbox.commit("feature 1", "f.txt", start + 11 * 3600);
        feature_tip = sandbox.commit("feature 2", "f.txt", start + 12 * 3600);
    }
};

} // namespace

TEST_CASE("history: behind, ahead and oldest branch commit", "[history]") {
    libgit2_guard libgit2;
    forked_history history;
    const auto repo = open_repository(history.sandbox.clone());
    branch_limits limits;
    limits.max_behind = 50;
    limits.max_ahead = 50;
    limits.oldest_allowed_time = start;

    SECTION("exact counts when under the limits") {
        const auto measured = measure_branch(repo.get(), oid_of(history.feature_tip),
                                             oid_of(history.main_tip), limits);
        CHECK(measured.complete);
        CHECK(measured.behind.count == 7);
        CHECK_FALSE(measured.behind.at_least);
        CHECK(measured.ahead.count == 2);
        REQUIRE(measured.oldest);
        CHECK(to_hex(*measured.oldest) == history.feature_first);
        CHECK(measured.oldest_time == start + 11 * 3600);
    }
    SECTION("a branch at trunk's tip is neither behind nor ahead") {
        const auto measured =
            measure_branch(repo.get(), oid_of(history.main_tip), oid_of(history.main_tip), limits);
        CHECK(measured.behind.count == 0);
        CHECK(measured.ahead.count == 0);
        CHECK_FALSE(measured.oldest);
    }
    SECTION("a branch contained in trunk is only behind") {
        const auto measured = measure_branch(repo.get(), oid_of(history.fork_point),
                                             oid_of(history.main_tip), limits);
        CHECK(measured.behind.count == 7);
        CHECK(measured.ahead.count == 0);
    }
    SECTION("the walk stops once behind passes a blocking limit") {
        limits.max_behind = 3;
        limits.stop_when_behind_exceeded = true;
        const auto measured = measure_branch(repo.get(), oid_of(history.feature_tip),
                                             oid_of(history.main_tip), limits);
        CHECK_FALSE(measured.complete);
        CHECK(measured.behind.count > 3);
        CHECK(measured.behind.count < 7);
        CHECK(measured.behind.at_least);
    }
    SECTION("nothing asked, nothing walked") {
        const auto measured = measure_branch(repo.get(), oid_of(history.feature_tip),
                                             oid_of(history.main_tip), branch_limits{});
        CHECK(measured.behind.count == 0);
        CHECK(measured.ahead.count == 0);
    }
}

TEST_CASE("history: a merged-in trunk counts once", "[history]") {
    libgit2_guard libgit2;
    forked_history history;
    REQUIRE(history.sandbox
                .git({"merge", "-q", "--no-edit", "main"},
                     {{"GIT_COMMITTER_DATE", "@" + std::to_string(start + 13 * 3600) + " +0000"},
                      {"GIT_AUTHOR_DATE", "@" + std::to_string(start + 13 * 3600) + " +0000"}})
                .status == 0);
    const auto merged = history.sandbox.clone_rev("HEAD");
    const auto repo = open_repository(history.sandbox.clone());
    branch_limits limits;
    limits.max_behind = 50;
    limits.max_ahead = 50;
    const auto measured =
        measure_branch(repo.get(), oid_of(merged), oid_of(history.main_tip), limits);
    CHECK(measured.behind.count == 0);
    CHECK(measured.ahead.count == 3); // two feature commits and the merge

    SECTION("merge commits are found among the commits a push adds") {
        const auto merges =
            find_merge_commits(repo.get(), oid_of(merged), oid_of(history.main_tip), false, {}, 5);
        REQUIRE(merges.total == 1);
        CHECK(to_hex(merges.listed[0].id) == merged);
        CHECK_THAT(merges.listed[0].subject, Catch::StartsWith("Merge branch 'main'"));
        const auto none = find_merge_commits(repo.get(), oid_of(history.feature_tip),
                                             oid_of(history.fork_point), false, {}, 5);
        CHECK(none.total == 0);
    }
}

TEST_CASE("history: committer dates that run backwards do not count trunk as behind", "[history]") {
    libgit2_guard libgit2;
    forked_history history;
    // Rebased onto main's tip, but dated before all of main (as --committer-date-is-author-date
    // or a skewed clock leaves it).
    history.sandbox.git({"checkout", "-q", "-B", "skewed", history.main_tip});
    history.sandbox.commit("skewed 1", "s.txt", start - 3600);
    const auto tip = history.sandbox.commit("skewed 2", "s.txt", start - 1800);
    const auto repo = open_repository(history.sandbox.clone());
    branch_limits limits;
    limits.max_behind = 2;
    limits.max_ahead = 50;
    limits.stop_when_behind_exceeded = true;
    const auto measured = measure_branch(repo.get(), oid_of(tip), oid_of(history.main_tip), limits);
    CHECK(measured.behind.count == 0);
    CHECK(measured.ahead.count == 2);
}

TEST_CASE("history: ancestry", "[history]") {
    libgit2_guard libgit2;
    forked_history history;
    const auto repo = open_repository(history.sandbox.clone());
    CHECK(is_ancestor(repo.get(), oid_of(history.fork_point), oid_of(history.main_tip)));
    CHECK(is_ancestor(repo.get(), oid_of(history.main_tip), oid_of(history.main_tip)));
    CHECK_FALSE(is_ancestor(repo.get(), oid_of(history.main_tip), oid_of(history.feature_tip)));
}
