// End-to-end: [branches] rules (up-to-date, branch-age, branch-size, branch-name) on real pushes of
// short-lived branches, and the all-or-nothing outcome of a push of several refs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using Catch::Contains;

namespace {

std::string template_policy() {
    return read_file(source_path("templates/policy/trunk-based.toml"));
}

// The default template with `from` replaced by `to` (which must be there).
std::string template_with(const std::string& from, const std::string& to) {
    auto text = template_policy();
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

// Publishes `count` commits on main, one minute apart from `start`; returns their ids, oldest
// first. Explicit, increasing committer dates keep trunkgate's date-ordered walk deterministic.
std::vector<std::string> publish_main(git_sandbox& sandbox, int count, long long start) {
    std::vector<std::string> ids;
    for (int i = 0; i < count; ++i)
        ids.push_back(sandbox.commit("main " + std::to_string(i), "", start + 60 * i));
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    REQUIRE(sandbox.server_rev("refs/heads/main") == ids.back());
    return ids;
}

void branch_from(git_sandbox& sandbox, const std::string& name, const std::string& start) {
    REQUIRE(sandbox.git({"checkout", "-q", "-b", name, start}).status == 0);
}

bool any_line_mentions(const std::vector<std::string>& lines, const std::string& text) {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& line) {
        return line.find(text) != std::string::npos;
    });
}

} // namespace

TEST_CASE("branches: a clean push of a new feature branch is accepted silently",
          "[e2e][branches][quarantine]") {
    git_sandbox sandbox;
    sandbox.install();
    publish_main(sandbox, 2, days_ago(1));
    branch_from(sandbox, "feature/clean", "main");
    // Brand-new commits: while the hook runs they exist only in git's quarantine directory, and
    // every [branches] rule of the template measures them.
    sandbox.commit("feat: one");
    const auto tip = sandbox.commit("feat: two");

    const auto pushed = sandbox.push({"origin", "feature/clean"});

    CHECK(pushed.status == 0);
    CHECK(sandbox.server_rev("refs/heads/feature/clean") == tip);
    CHECK_THAT(pushed.err, !Contains("trunkgate:"));
    CHECK(remote_lines(pushed).empty());
}

TEST_CASE("branches: a branch more than max_behind commits behind main is rejected",
          "[e2e][branches][up-to-date][quarantine]") {
    git_sandbox sandbox;
    const auto start = days_ago(1);
    const auto main_ids = publish_main(sandbox, 5, start); // base + 4
    sandbox.install("[branches]\nmax_behind = 3\n");

    SECTION("4 behind, limit 3: rejected with the count, the limit and the rebase commands") {
        branch_from(sandbox, "feature/stale", main_ids[0]);
        const auto tip = sandbox.commit("feat: stale work", "stale.txt", start + 3600);
        const auto pushed = sandbox.push({"origin", "feature/stale"});

        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/feature/stale").empty());
        CHECK_THAT(pushed.err, Contains("remote: trunkgate: push rejected: 1 problem"));
        CHECK_THAT(pushed.err, Contains("refs/heads/feature/stale  [up-to-date] branch is"));
        CHECK_THAT(pushed.err, Contains("4 commits behind main (limit 3)"));
        CHECK_THAT(pushed.err,
                   Contains("hint: git fetch origin && git rebase origin/main && git push "
                            "--force-with-lease origin HEAD:feature/stale"));
        CHECK(sandbox.git_in(sandbox.server(), {"cat-file", "-e", tip}).status != 0);
    }
    SECTION("exactly 3 behind: accepted") {
        branch_from(sandbox, "feature/recent", main_ids[1]);
        const auto tip = sandbox.commit("feat: recent work", "recent.txt", start + 3600);
        const auto pushed = sandbox.push({"origin", "feature/recent"});

        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/feature/recent") == tip);
        CHECK_THAT(pushed.err, !Contains("[up-to-date]"));
    }
}

TEST_CASE("branches: a rebase that keeps old committer dates is measured right",
          "[e2e][branches][up-to-date][clock]") {
    git_sandbox sandbox;
    const auto base = publish_main(sandbox, 1, days_ago(10)).back();
    branch_from(sandbox, "feature/rebased", base);
    sandbox.commit("feat: written five days ago", "rebased.txt", days_ago(5));
    REQUIRE(sandbox.git({"checkout", "-q", "main"}).status == 0);
    const auto main_tip = publish_main(sandbox, 4, days_ago(1)).back();
    sandbox.install("[branches]\nmax_behind = 3\n");
    REQUIRE(sandbox.git({"checkout", "-q", "feature/rebased"}).status == 0);

    SECTION("not rebased: 4 behind, rejected") {
        const auto pushed = sandbox.push({"origin", "feature/rebased"});
        CHECK(pushed.status != 0);
        CHECK_THAT(pushed.err, Contains("4 commits behind main (limit 3)"));
    }
    SECTION("rebased with --committer-date-is-author-date: 0 behind, accepted") {
        REQUIRE(sandbox.git({"rebase", "-q", "--committer-date-is-author-date", "main"}).status ==
                0);
        const auto tip = sandbox.clone_rev("HEAD");
        REQUIRE(sandbox.clone_rev("HEAD~1") == main_tip);
        // The tip's committer date is days older than its parent's: dates run backwards.
        const auto dates = sandbox.git({"log", "-2", "--format=%ct"});
        std::istringstream in(dates.out);
        long long tip_time = 0, parent_time = 0;
        in >> tip_time >> parent_time;
        REQUIRE(tip_time < parent_time - 3 * 86400);

        const auto pushed = sandbox.push({"origin", "feature/rebased"});
        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/feature/rebased") == tip);
        CHECK_THAT(pushed.err, !Contains("[up-to-date]"));
    }
}

TEST_CASE("branches: an old branch warns under the template and is rejected when enforced",
          "[e2e][branches][branch-age]") {
    git_sandbox sandbox;
    publish_main(sandbox, 1, days_ago(10));
    branch_from(sandbox, "feature/old", "main");
    const auto oldest = sandbox.commit("feat: started five days ago", "old.txt", days_ago(5));
    const auto tip = sandbox.commit("feat: continued", "old.txt", days_ago(4));
    const auto oldest_text = "refs/heads/feature/old  [branch-age] ";
    const auto measured =
        "oldest commit not on main (" + oldest.substr(0, 7) + ") is 5.0 days old (limit 3 days)";

    SECTION("template (branch-age = \"warn\"): accepted with a warning") {
        sandbox.install();
        const auto pushed = sandbox.push({"origin", "feature/old"});

        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/feature/old") == tip);
        CHECK_THAT(pushed.err, Contains("remote: trunkgate: push accepted with 1 warning (policy "
                                        "trunkgate.toml)"));
        CHECK_THAT(pushed.err, Contains(oldest_text + std::string("warning: ") + measured));
        CHECK_THAT(pushed.err, Contains("hint: merge small and often: land what is ready on main"));
    }
    SECTION("branch-age = \"block\": rejected") {
        sandbox.install(template_with("branch-age = \"warn\"", "branch-age = \"block\""));
        const auto pushed = sandbox.push({"origin", "feature/old"});

        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/feature/old").empty());
        CHECK_THAT(pushed.err, Contains("remote: trunkgate: push rejected: 1 problem"));
        CHECK_THAT(pushed.err, Contains(oldest_text + measured));
    }
    SECTION("a branch of fresh commits is not old") {
        sandbox.install();
        branch_from(sandbox, "feature/fresh", "main");
        const auto fresh = sandbox.commit("feat: today", "fresh.txt");
        const auto pushed = sandbox.push({"origin", "feature/fresh"});

        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/feature/fresh") == fresh);
        CHECK_THAT(pushed.err, !Contains("[branch-age]"));
    }
}

TEST_CASE("branches: a branch with more than max_ahead commits is rejected",
          "[e2e][branches][branch-size]") {
    git_sandbox sandbox;
    const auto start = days_ago(1);
    publish_main(sandbox, 1, start);
    sandbox.install("[branches]\nmax_ahead = 2\n");
    branch_from(sandbox, "feature/big", "main");
    sandbox.commit("feat: 1", "", start + 600);
    const auto second = sandbox.commit("feat: 2", "", start + 1200);

    SECTION("2 ahead, limit 2: accepted") {
        const auto pushed = sandbox.push({"origin", "feature/big"});
        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/feature/big") == second);
    }
    SECTION("3 ahead, limit 2: rejected") {
        const auto tip = sandbox.commit("feat: 3", "", start + 1800);
        const auto pushed = sandbox.push({"origin", "feature/big"});

        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/feature/big").empty());
        CHECK_THAT(pushed.err, Contains("refs/heads/feature/big  [branch-size] branch has"));
        CHECK_THAT(pushed.err, Contains("3 commits not on main (limit 2)"));
        CHECK_THAT(pushed.err, Contains("hint: split the work into smaller branches and merge "
                                        "each to main on its own"));
    }
}

TEST_CASE("branches: a new branch must match name_pattern", "[e2e][branches][branch-name]") {
    git_sandbox sandbox;
    publish_main(sandbox, 1, days_ago(1));
    const auto created_before = sandbox.push({"origin", "main:refs/heads/wip"});
    REQUIRE(created_before.status == 0);
    sandbox.install();
    const auto tip = sandbox.commit("feat: named");

    SECTION("scratch: rejected, with the pattern and the rename commands") {
        const auto pushed = sandbox.push({"origin", "HEAD:refs/heads/scratch"});
        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/scratch").empty());
        CHECK_THAT(pushed.err, Contains("refs/heads/scratch  [branch-name] branch name does not "
                                        "match ^refs/heads/(main|release/[0-9.]+|(feature|fix|"
                                        "chore|docs)/[a-z0-9._-]+)$"));
        CHECK_THAT(pushed.err, Contains("hint: rename it and push again: git branch -m scratch "
                                        "feature/<topic> && git push origin feature/<topic>"));
    }
    SECTION("upper case after feature/: rejected") {
        const auto pushed = sandbox.push({"origin", "HEAD:refs/heads/feature/Login"});
        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/feature/Login").empty());
        CHECK_THAT(pushed.err, Contains("refs/heads/feature/Login  [branch-name]"));
    }
    SECTION("feature/login-2.0_b: accepted") {
        const auto pushed = sandbox.push({"origin", "HEAD:refs/heads/feature/login-2.0_b"});
        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/feature/login-2.0_b") == tip);
    }
    SECTION("a branch that existed before is only checked when created") {
        const auto pushed = sandbox.push({"origin", "HEAD:refs/heads/wip"});
        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/wip") == tip);
    }
}

TEST_CASE("branches: a push of several refs with one bad ref updates none of them",
          "[e2e][branches][atomic]") {
    git_sandbox sandbox;
    sandbox.install();
    const auto published = publish_main(sandbox, 1, days_ago(1)).back();
    sandbox.commit("feat: fast-forward of main");
    REQUIRE(sandbox.git({"branch", "feature/good"}).status == 0);
    REQUIRE(sandbox.git({"branch", "wip"}).status == 0);

    const auto pushed = sandbox.push({"origin", "main", "feature/good", "wip"});

    CHECK(pushed.status != 0);
    CHECK(sandbox.server_rev("refs/heads/main") == published);
    CHECK(sandbox.server_rev("refs/heads/feature/good").empty());
    CHECK(sandbox.server_rev("refs/heads/wip").empty());
    const auto lines = remote_lines(pushed);
    CHECK(any_line_mentions(lines, "trunkgate: push rejected: 1 problem"));
    CHECK(any_line_mentions(lines, "refs/heads/wip  [branch-name]"));
    CHECK_FALSE(any_line_mentions(lines, "refs/heads/main"));
    CHECK_FALSE(any_line_mentions(lines, "feature/good"));
    for (const auto* ref : {"main -> main", "feature/good -> feature/good", "wip -> wip"})
        CHECK_THAT(pushed.err, Contains(std::string(ref) + " (pre-receive hook declined)"));
}
