// Each rule, allowed and blocked, judged by the real engine over a real repository.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "support/sandbox.hpp"
#include "trunkgate/gate/evaluate.hpp"
#include "trunkgate/gate/feedback.hpp"
#include "trunkgate/gate/rules.hpp"
#include "trunkgate/history/git.hpp"

using namespace trunkgate;

namespace {

const std::string zero(40, '0');
constexpr long long hour = 3600;
constexpr long long day = 86400;
const long long now = 1800000000;

const char* base_policy = R"(
[[protect]]
refs = ["refs/heads/main", "refs/heads/release/*"]
linear_history = true
push_allowed = ["*"]

[branches]
refs = ["refs/heads/*"]
name_pattern = '^refs/heads/(feature|fix)/[a-z0-9-]+$'
max_behind = 3
max_age_days = 2
max_ahead = 4

[tags]
name_pattern = '^refs/tags/v[0-9]+\.[0-9]+\.[0-9]+$'
)";

// A repository whose main has 6 commits: the first five days old, the others one hour apart,
// ending two hours before `now`. Committer dates only grow along history, as in real repositories
// (the walks trust them the way git's own walks do).
struct rules_fixture {
    libgit2_guard libgit2;
    testing::git_sandbox sandbox;
    std::vector<std::string> main_commits;
    rules_fixture() {
        for (int i = 0; i < 6; ++i)
            main_commits.push_back(sandbox.commit("main " + std::to_string(i), "",
                                                  i == 0 ? now - 5 * day : now - (7 - i) * hour));
        sandbox.git({"update-ref", "refs/tags/v1.0.0", main_commits[2]});
    }
    std::string branch_from(int main_index, int count, long long when) {
        sandbox.git({"checkout", "-q", "-B", "work", main_commits[main_index]});
        std::string tip;
        for (int i = 0; i < count; ++i)
            tip = sandbox.commit("work " + std::to_string(i), "w.txt", when + i);
        return tip;
    }
    verdict judge(const std::vector<ref_update>& updates, const std::string& extra_policy = "",
                  const std::string& identity = "dev") {
        const auto rules_policy = parse_policy(extra_policy + base_policy, "p.toml");
        const auto repo = open_repository(sandbox.clone());
        return evaluate(repo.get(), rules_policy, updates, push_context{identity, {}, now});
    }
};

std::vector<std::string> rule_ids(const verdict& result) {
    std::vector<std::string> ids;
    for (const auto& item : result.found)
        ids.push_back(item.rule);
    return ids;
}

const finding& only(const verdict& result, const std::string& rule) {
    const finding* match = nullptr;
    for (const auto& item : result.found)
        if (item.rule == rule) {
            REQUIRE(match == nullptr);
            match = &item;
        }
    REQUIRE(match != nullptr);
    return *match;
}

} // namespace

TEST_CASE("rules: a clean feature branch passes every rule", "[rules]") {
    rules_fixture fixture;
    const auto tip = fixture.branch_from(5, 2, now - hour);
    const auto result = fixture.judge({{zero, tip, "refs/heads/feature/login"}});
    CHECK(rule_ids(result).empty());
    CHECK_FALSE(result.rejected());
    CHECK(render_text(result).empty());
}

TEST_CASE("rules: force-push and protected-delete on protected refs", "[rules]") {
    rules_fixture fixture;
    const auto& m = fixture.main_commits;
    SECTION("a fast-forward of main is allowed") {
        CHECK(rule_ids(fixture.judge({{m[4], m[5], "refs/heads/main"}})).empty());
    }
    SECTION("rewinding main is a force-push") {
        const auto result = fixture.judge({{m[5], m[3], "refs/heads/main"}});
        const auto& found = only(result, "force-push");
        CHECK(found.severity == level::block);
        CHECK(found.ref == "refs/heads/main");
        CHECK(found.commit == m[3]);
        CHECK_THAT(found.message,
                   Catch::Contains("was " + m[5].substr(0, 7) + ", now " + m[3].substr(0, 7)));
        CHECK(found.hint == "git pull --rebase origin main && git push origin main");
    }
    SECTION("allow_force_push lets it through") {
        const auto result =
            fixture.judge({{m[5], m[3], "refs/heads/main"}},
                          "[[protect]]\nrefs = [\"refs/heads/main\"]\nallow_force_push = true\n");
        // The first [[protect]] entry still forbids it: every matching entry applies.
        CHECK(rule_ids(result) == std::vector<std::string>{"force-push"});
        const auto relaxed = parse_policy(
            "[[protect]]\nrefs = [\"refs/heads/main\"]\nallow_force_push = true\n", "p");
        const auto repo = open_repository(fixture.sandbox.clone());
        CHECK(evaluate(repo.get(), relaxed, {{m[5], m[3], "refs/heads/main"}}, {"dev", {}, now})
                  .found.empty());
    }
    SECTION("a rewrite of an unprotected branch is fine") {
        CHECK(rule_ids(fixture.judge({{m[5], m[3], "refs/heads/feature/x"}})).empty());
    }
    SECTION("deleting main is blocked, deleting a feature branch is not") {
        CHECK(rule_ids(fixture.judge({{m[5], zero, "refs/heads/main"}})) ==
              std::vector<std::string>{"protected-delete"});
        CHECK(rule_ids(fixture.judge({{m[5], zero, "refs/heads/feature/x"}})).empty());
    }
}

TEST_CASE("rules: push-restricted follows push_allowed globs", "[rules]") {
    rules_fixture fixture;
    const auto& m = fixture.main_commits;
    const std::string restricted = R"(
[[protect]]
refs = ["refs/heads/release/*"]
push_allowed = ["release-*", "alice"]
)";
    const ref_update update{m[4], m[5], "refs/heads/release/1.0"};
    CHECK(rule_ids(fixture.judge({update}, restricted, "release-bot")).empty());
    CHECK(rule_ids(fixture.judge({update}, restricted, "alice")).empty());
    const auto denied = fixture.judge({update}, restricted, "bob");
    CHECK_THAT(
        only(denied, "push-restricted").message,
        Catch::Contains("'bob' may not update this protected ref (allowed: release-*, alice)"));
    const auto anonymous = fixture.judge({update}, restricted, "");
    CHECK_THAT(only(anonymous, "push-restricted").message,
               Catch::Contains("an unidentified pusher"));
    CHECK(rule_ids(fixture.judge({{m[4], m[5], "refs/heads/main"}}, restricted, "bob")).empty());
}

TEST_CASE("rules: linear-history names each merge commit", "[rules]") {
    rules_fixture fixture;
    const auto& m = fixture.main_commits;
    fixture.branch_from(3, 1, now - 2 * hour);
    fixture.sandbox.git({"checkout", "-q", "-B", "main", m[5]});
    REQUIRE(fixture.sandbox.git({"merge", "-q", "--no-ff", "-m", "Merge work", "work"}).status ==
            0);
    const auto merge = fixture.sandbox.clone_rev("HEAD");
    const auto result = fixture.judge({{m[5], merge, "refs/heads/main"}});
    const auto& found = only(result, "linear-history");
    CHECK(found.commit == merge);
    CHECK_THAT(found.message, Catch::Contains(merge.substr(0, 7) + " \"Merge work\""));
    CHECK_THAT(found.hint, Catch::Contains("git rebase origin/main"));
    SECTION("a new protected ref at a merge some existing ref already has adds nothing") {
        // Local main holds the merge already, as the server's main would.
        // (The test policy's name_pattern allows feature/ and fix/ only.)
        CHECK(rule_ids(fixture.judge({{zero, merge, "refs/heads/release/1.0"}})) ==
              std::vector<std::string>{"branch-name"});
    }
    SECTION("the same merge on a feature branch is fine") {
        const auto feature = fixture.judge({{m[5], merge, "refs/heads/feature/merge"}});
        INFO(render_text(feature));
        CHECK(rule_ids(feature).empty());
    }
}

TEST_CASE("rules: up-to-date, branch-size and branch-age measure against trunk", "[rules]") {
    rules_fixture fixture;
    SECTION("behind by more than max_behind") {
        const auto tip = fixture.branch_from(1, 1, now - hour);
        const auto result = fixture.judge({{zero, tip, "refs/heads/feature/stale"}});
        const auto& found = only(result, "up-to-date");
        CHECK(found.value.value() >= 4);
        CHECK(found.limit == 3);
        CHECK_THAT(found.message, Catch::Contains("commits behind main (limit 3)"));
        CHECK(found.hint ==
              "git fetch origin && git rebase origin/main && git push --force-with-lease origin "
              "HEAD:feature/stale");
    }
    SECTION("behind by exactly max_behind is fine") {
        const auto tip = fixture.branch_from(2, 1, now - hour);
        CHECK(rule_ids(fixture.judge({{zero, tip, "refs/heads/feature/ok"}})).empty());
    }
    SECTION("more than max_ahead commits") {
        const auto tip = fixture.branch_from(5, 5, now - hour);
        const auto found_verdict = fixture.judge({{zero, tip, "refs/heads/feature/big"}});
        const auto& found = only(found_verdict, "branch-size");
        CHECK(found.value == 5);
        CHECK(found.limit == 4);
        CHECK_THAT(found.message, Catch::Contains("branch has 5 commits not on main (limit 4)"));
    }
    SECTION("oldest branch commit older than max_age_days") {
        const auto tip = fixture.branch_from(0, 1, now - 3 * day - hour);
        // up-to-date would stop the walk early when it blocks; as a warning it lets age be
        // measured.
        const auto found_verdict = fixture.judge({{zero, tip, "refs/heads/feature/old"}},
                                                 "[enforcement]\nup-to-date = \"warn\"\n");
        const auto& found = only(found_verdict, "branch-age");
        CHECK(found.value == 73); // hours, like the limit
        CHECK(found.limit == 48);
        CHECK(found.commit == tip);
        CHECK_THAT(found.message, Catch::Contains("is 3.0 days old (limit 2 days)"));
    }
    SECTION("[enforcement] can turn a rule into a warning or off") {
        const auto tip = fixture.branch_from(1, 1, now - hour);
        const auto warned = fixture.judge({{zero, tip, "refs/heads/feature/stale"}},
                                          "[enforcement]\nup-to-date = \"warn\"\n");
        CHECK(only(warned, "up-to-date").severity == level::warn);
        CHECK_FALSE(warned.rejected());
        const auto off = fixture.judge({{zero, tip, "refs/heads/feature/stale"}},
                                       "[enforcement]\nup-to-date = \"off\"\n");
        CHECK(off.found.empty());
    }
    SECTION("protected refs are not short-lived branches") {
        const auto tip = fixture.branch_from(1, 1, now - hour);
        // Only the name is checked (the pattern allows feature/ and fix/ only); no measuring.
        CHECK(rule_ids(fixture.judge({{zero, tip, "refs/heads/release/0.1"}})) ==
              std::vector<std::string>{"branch-name"});
    }
}

TEST_CASE("rules: branch-name, tag-name and tag-immutable", "[rules]") {
    rules_fixture fixture;
    const auto& m = fixture.main_commits;
    SECTION("names are checked when a ref is created") {
        CHECK(rule_ids(fixture.judge({{zero, m[5], "refs/heads/Feature/X"}})) ==
              std::vector<std::string>{"branch-name"});
        CHECK(rule_ids(fixture.judge({{m[4], m[5], "refs/heads/Feature/X"}})).empty());
        CHECK(rule_ids(fixture.judge({{zero, m[5], "refs/tags/v2.0.0"}})).empty());
        const auto found_verdict = fixture.judge({{zero, m[5], "refs/tags/release-2"}});
        const auto& found = only(found_verdict, "tag-name");
        CHECK_THAT(found.message,
                   Catch::Contains("does not match ^refs/tags/v[0-9]+\\.[0-9]+\\.[0-9]+$"));
    }
    SECTION("an existing tag may not move or be deleted") {
        const auto moved_verdict = fixture.judge({{m[2], m[5], "refs/tags/v1.0.0"}});
        const auto& moved = only(moved_verdict, "tag-immutable");
        CHECK_THAT(moved.message, Catch::Contains("v1.0.0 already points at " + m[2].substr(0, 7)));
        CHECK(rule_ids(fixture.judge({{m[2], zero, "refs/tags/v1.0.0"}})) ==
              std::vector<std::string>{"tag-immutable"});
        CHECK(fixture.judge({{m[2], zero, "refs/tags/v1.0.0"}}, "").found.front().severity ==
              level::block);
    }
}

TEST_CASE("rules: ref-target catches unknown objects and non-commit branches", "[rules]") {
    rules_fixture fixture;
    const auto tree = fixture.sandbox.clone_rev("HEAD^{tree}");
    CHECK(rule_ids(fixture.judge({{zero, std::string(40, 'e'), "refs/heads/feature/x"}})) ==
          std::vector<std::string>{"ref-target"});
    const auto found_verdict = fixture.judge({{zero, tree, "refs/heads/feature/x"}});
    const auto& found = only(found_verdict, "ref-target");
    CHECK_THAT(found.message, Catch::Contains("a branch must point at a commit, not a tree"));
    // Tags may point at any object.
    CHECK(rule_ids(fixture.judge({{zero, tree, "refs/tags/v9.9.9"}})).empty());
}

TEST_CASE("rules: evaluate mode turns every block into a warning", "[rules]") {
    rules_fixture fixture;
    const auto& m = fixture.main_commits;
    const auto result = fixture.judge({{m[5], m[3], "refs/heads/main"}}, "mode = \"evaluate\"\n");
    CHECK_FALSE(result.rejected());
    CHECK(result.demoted == 1);
    CHECK(only(result, "force-push").severity == level::warn);
    CHECK_THAT(render_text(result),
               Catch::StartsWith("trunkgate: evaluate mode, push accepted; enforcing "
                                 "would reject it: 1 problem (policy p.toml)\n"));
    CHECK_THAT(render_text(result),
               Catch::Contains("[force-push] would block: not a fast-forward"));
}

TEST_CASE("rules: the table and ids are stable", "[rules]") {
    std::vector<std::string> ids;
    for (const auto& entry : rule_table())
        ids.emplace_back(entry.id);
    CHECK(ids == std::vector<std::string>{"ref-target", "protected-delete", "force-push",
                                          "push-restricted", "linear-history", "up-to-date",
                                          "branch-age", "branch-size", "branch-name", "tag-name",
                                          "tag-immutable", "required-checks", "promotion",
                                          "approval", "status-write", "queue-required"});
    std::vector<std::string> commit_ids;
    for (const auto& entry : commit_rule_table())
        commit_ids.emplace_back(entry.id);
    CHECK(commit_ids == std::vector<std::string>{"commit-message", "author-email",
                                                 "committer-email", "file-size", "forbidden-path",
                                                 "changed-files"});
    CHECK(is_rule_id("policy-error"));
    CHECK(is_rule_id("bypass-denied"));
    CHECK_FALSE(is_rule_id("force_push"));
    // The policy's list of ids (below the gate) is exactly the gate's tables, in order.
    std::vector<std::string> listed(rule_ids().begin(), rule_ids().end());
    auto tables = ids;
    tables.insert(tables.end(), commit_ids.begin(), commit_ids.end());
    tables.insert(tables.end(), {"bypass-denied", "policy-error"});
    CHECK(listed == tables);
}

TEST_CASE("rules: a push that also moves trunk measures branches against the new trunk",
          "[rules]") {
    rules_fixture fixture;
    const auto& m = fixture.main_commits;
    fixture.sandbox.git({"checkout", "-q", "-B", "ahead", m[5]});
    std::string trunk;
    for (int i = 0; i < 4; ++i)
        trunk = fixture.sandbox.commit("trunk " + std::to_string(i), "t.txt", now - hour + i);
    const auto branch = fixture.sandbox.commit("feature", "f.txt", now - hour + 10);
    // Against main as it is (m[5]) the branch is 5 ahead (limit 4); after this push, 1.
    const auto both =
        fixture.judge({{m[5], trunk, "refs/heads/main"}, {zero, branch, "refs/heads/feature/x"}});
    CHECK(rule_ids(both).empty());
    const auto alone = fixture.judge({{zero, branch, "refs/heads/feature/x"}});
    CHECK(rule_ids(alone) == std::vector<std::string>{"branch-size"});
}

TEST_CASE("rules: an old value that is no readable commit fails closed", "[rules]") {
    rules_fixture fixture;
    const auto& m = fixture.main_commits;
    CHECK(rule_ids(fixture.judge({{std::string(40, '1'), m[5], "refs/heads/main"}})) ==
          std::vector<std::string>{"force-push"});
    const auto tree = fixture.sandbox.clone_rev(m[4] + "^{tree}");
    CHECK(rule_ids(fixture.judge({{tree, m[5], "refs/heads/main"}})) ==
          std::vector<std::string>{"force-push"});
}

TEST_CASE("rules: a new protected ref cannot import merges from an unprotected branch", "[rules]") {
    rules_fixture fixture;
    const auto& m = fixture.main_commits;
    fixture.branch_from(3, 1, now - 2 * hour);
    fixture.sandbox.git({"checkout", "-q", "-B", "feature/y", m[5]});
    REQUIRE(fixture.sandbox.git({"merge", "-q", "--no-ff", "-m", "Merge work", "work"}).status ==
            0);
    const auto merge = fixture.sandbox.clone_rev("HEAD");
    // feature/y (a ref that exists already) holds the merge, but it promised no linear history.
    const auto result = fixture.judge({{zero, merge, "refs/heads/release/2.0"}});
    CHECK(only(result, "linear-history").commit == merge);
}
