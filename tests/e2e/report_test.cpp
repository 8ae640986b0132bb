// End-to-end: the trunk health report (docs/report.md, issue 14). A bare repository with
// trunkgate installed is given a scripted fortnight with the real git client: commits with fixed
// dates, pushes, CI statuses, approvals and merge-queue runs, each at a time set through the test
// hook TRUNKGATE_NOW. `trunkgate report` then has to print every figure exactly as the
// documentation defines it. The expected values are worked out by hand from the script below
// and docs/report.md (the arithmetic is next to each number), never read back from the product.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using Catch::Contains;
using json = nlohmann::json;

namespace {

// ---- The clock of the script ------------------------------------------------------------------

// Day 0 is Sunday 2026-11-01; day 1, Monday 2026-11-02, is the first day of the reported period.
constexpr long long day_zero = 1793491200; // 2026-11-01T00:00:00Z

// Unix time of day `n` at `hh_mm` (UTC).
long long day(int n, const std::string& hh_mm) {
    const int hours = std::stoi(hh_mm.substr(0, 2));
    const int minutes = std::stoi(hh_mm.substr(3, 2));
    return day_zero + n * 86400LL + hours * 3600LL + minutes * 60LL;
}

// `time` as the report writes times: 2026-11-02T09:30:00+00:00.
std::string iso(long long time) {
    const std::time_t seconds = static_cast<std::time_t>(time);
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S+00:00", &parts);
    return text;
}

// The date of day `n`: 2026-11-02 for day 1.
std::string date_of(int n) {
    return iso(day(n, "00:00")).substr(0, 10);
}

// What git takes in GIT_AUTHOR_DATE / GIT_COMMITTER_DATE.
std::string git_date(long long time) {
    return "@" + std::to_string(time) + " +0000";
}

// ---- Expected values --------------------------------------------------------------------------

// A distribution {"count", "median", "p90", "p95"}; percentiles null without values.
json distribution(long long count, std::optional<long long> median = std::nullopt,
                  std::optional<long long> p90 = std::nullopt,
                  std::optional<long long> p95 = std::nullopt) {
    const auto value = [](std::optional<long long> v) { return v ? json(*v) : json(nullptr); };
    return {{"count", count}, {"median", value(median)}, {"p90", value(p90)}, {"p95", value(p95)}};
}

// The six documented range counts, given their counts in order.
json ranges(const std::array<long long, 6>& counts) {
    const long long hour = 3600, one_day = 86400;
    const std::array<const char*, 6> labels{"< 1 hour",        "1 hour to 1 day",
                                            "1 day to 1 week", "1 week to 30 days",
                                            "30 to 180 days",  "180 days or more"};
    const std::array<long long, 7> edges{0, hour, one_day, 7 * one_day, 30 * one_day, 180 * one_day,
                                         -1};
    json list = json::array();
    for (std::size_t i = 0; i < 6; ++i)
        list.push_back({{"label", labels[i]},
                        {"low", edges[i]},
                        {"high", edges[i + 1] < 0 ? json(nullptr) : json(edges[i + 1])},
                        {"count", counts[i]}});
    return list;
}

// One day count per day of the reported period (days 1 to 14), from a list of counts.
json day_counts(const std::vector<long long>& counts) {
    json list = json::array();
    for (std::size_t i = 0; i < counts.size(); ++i)
        list.push_back({{"date", date_of(static_cast<int>(i) + 1)}, {"count", counts[i]}});
    return list;
}

// The two weeks of the period: Monday 2026-11-02 (days 1-7) and Monday 2026-11-09 (days 8-14).
json week_counts(long long first, long long second) {
    return json::array(
        {{{"week", "2026-11-02"}, {"count", first}}, {{"week", "2026-11-09"}, {"count", second}}});
}

// Where `actual` differs from `expected`: every key of an expected object must be in the actual
// one with an equal value (the schema may grow, so extra keys are fine), arrays must match
// element by element, and a number with a fraction matches within 1e-9. "" when they agree.
std::string mismatches(const json& actual, const json& expected, const std::string& path = "") {
    if (expected.is_object()) {
        if (!actual.is_object())
            return path + ": expected an object, got " + actual.dump() + "\n";
        std::string found;
        for (const auto& [key, value] : expected.items()) {
            if (!actual.contains(key))
                found += path + "." + key + ": missing (expected " + value.dump() + ")\n";
            else
                found += mismatches(actual[key], value, path + "." + key);
        }
        return found;
    }
    if (expected.is_array()) {
        if (!actual.is_array() || actual.size() != expected.size())
            return path + ": expected " + expected.dump() + "\n" + std::string(path.size(), ' ') +
                   "  got      " + actual.dump() + "\n";
        std::string found;
        for (std::size_t i = 0; i < expected.size(); ++i)
            found += mismatches(actual[i], expected[i], path + "[" + std::to_string(i) + "]");
        return found;
    }
    if (expected.is_number_float() && actual.is_number()) {
        if (std::fabs(actual.get<double>() - expected.get<double>()) <= 1e-9)
            return "";
    } else if (actual == expected) {
        return "";
    }
    return path + ": expected " + expected.dump() + ", got " + actual.dump() + "\n";
}

// ---- The repository ---------------------------------------------------------------------------

// The shipped promotion template cut to what the report reads: main -> staging -> production,
// main with required checks and a merge queue (direct pushes only warned about, so a team can
// use both), production with an approval and force-pushes allowed for rollbacks, small branch
// limits so that stale branches are easy to make, and the report's failure window.
const std::string report_policy = R"(
mode = "enforce"

[trunk]
branch = "main"

[[protect]]
refs = ["refs/heads/main"]
required_checks = ["build", "unit-tests"]

[[protect]]
refs = ["refs/heads/staging"]
promote_from = "refs/heads/main"
required_checks = ["build", "unit-tests"]

[[protect]]
refs = ["refs/heads/production"]
promote_from = "refs/heads/staging"
required_checks = ["build", "unit-tests", "staging/smoke"]
require_approval = { approvers = ["alice"], max_age_days = 7, allow_self = false }
allow_force_push = true

[[queue]]
target = "refs/heads/main"
method = "rebase"
max_parallel = 4
runner = "manual"

[branches]
refs = ["refs/heads/*"]
max_behind = 6
max_age_days = 3
max_ahead = 5

[enforcement]
branch-age = "warn"
queue-required = "warn"

[checks]
writers = ["ci-bot"]

[bypass]
identities = ["release-manager"]

[report]
failure_window_days = 7
)";

// The sandbox with helpers that do each step of the script at a given time.
struct scripted_repository {
    git_sandbox sandbox;
    const std::string notes_ref = "refs/notes/trunkgate/checks";

    // TRUNKGATE_USER and TRUNKGATE_NOW for one step.
    static std::map<std::string, std::string> at(const std::string& identity, long long now) {
        return {{"TRUNKGATE_USER", identity}, {"TRUNKGATE_NOW", std::to_string(now)}};
    }

    // The clone's branch `name` reset to `base` and checked out.
    void start_branch(const std::string& name, const std::string& base) {
        const auto made = sandbox.git({"checkout", "-q", "-B", name, base});
        INFO(made.all());
        REQUIRE(made.status == 0);
    }

    // A commit on the clone's current branch, authored and committed at `when`.
    std::string commit(const std::string& message, const std::string& file, long long when) {
        return sandbox.commit(message, file, when);
    }

    // `git push ARGS` by `identity` at `now`.
    run_result push(const std::string& identity, long long now,
                    const std::vector<std::string>& args) {
        return sandbox.push(args, at(identity, now));
    }

    // A push that must go through.
    void lands(const std::string& identity, long long now, const std::vector<std::string>& args) {
        const auto pushed = push(identity, now, args);
        INFO("push " << identity << " at " << iso(now) << ":\n" << pushed.all());
        REQUIRE(pushed.status == 0);
    }

    // A push that must be refused, with `rule` among the reasons.
    void refused(const std::string& identity, long long now, const std::vector<std::string>& args,
                 const std::string& rule) {
        const auto pushed = push(identity, now, args);
        INFO("push " << identity << " at " << iso(now) << ":\n" << pushed.all());
        REQUIRE(pushed.status != 0);
        CHECK_THAT(remote_text(pushed), Contains("[" + rule + "]"));
    }

    // `trunkgate ARGS` by `identity` at `now`, which must succeed; its output.
    std::string trunkgate(const std::string& identity, long long now,
                          const std::vector<std::string>& args) {
        const auto ran = sandbox.trunkgate(args, "", at(identity, now));
        INFO("trunkgate at " << iso(now) << ":\n" << ran.all());
        REQUIRE(ran.status == 0);
        return ran.out;
    }

    // CI (ci-bot) records each `context` = `state` of `results` on `commit` at `now`, as a CI
    // outside the server does: in its clone, on the server's latest notes, then pushing the
    // notes ref. (The commit need not be on the server yet: CI passes it before it lands.)
    void statuses(const std::string& commit,
                  const std::vector<std::pair<std::string, std::string>>& results, long long now) {
        // No notes ref on the server yet before the first status: nothing to fetch then.
        sandbox.git({"fetch", "-q", "origin", "+" + notes_ref + ":" + notes_ref});
        for (const auto& [context, state] : results) {
            const auto set = sandbox.trunkgate(
                {"status", "set", "--repo", sandbox.clone(), commit, context, state}, "",
                at("ci-bot", now));
            INFO("status set at " << iso(now) << ":\n" << set.all());
            REQUIRE(set.status == 0);
        }
        lands("ci-bot", now, {"origin", notes_ref});
    }

    void status(const std::string& commit, const std::string& context, const std::string& state,
                long long now) {
        statuses(commit, {{context, state}}, now);
    }

    // CI passed main's required checks on `commit`.
    void green(const std::string& commit, long long now) {
        statuses(commit, {{"build", "success"}, {"unit-tests", "success"}}, now);
    }

    void approve(const std::string& commit, const std::string& approver, long long now) {
        trunkgate(approver, now, {"approve", "--repo", sandbox.server(), commit});
    }

    // `trunkgate queue add` of `commit` for main; the entry's id.
    std::string enqueue(const std::string& commit, const std::string& identity, long long now) {
        const auto out =
            trunkgate(identity, now,
                      {"queue", "add", "--repo", sandbox.server(), "--target", "main", commit});
        const auto at_id = out.find("(id ");
        REQUIRE(at_id != std::string::npos);
        return out.substr(at_id + 4, out.find(')', at_id) - at_id - 4);
    }

    // `trunkgate queue run` at `now`; what it did. CI's clone then fetches the speculative
    // branches it published.
    std::string queue_run(long long now) {
        const auto out = trunkgate("ci-bot", now, {"queue", "run", "--repo", sandbox.server()});
        const auto fetched = sandbox.git({"fetch", "-q", "--prune", "origin"});
        INFO(fetched.all());
        REQUIRE(fetched.status == 0);
        return out;
    }

    // The speculative commit the queue built for entry `id`.
    std::string speculative(const std::string& id) {
        const auto listed = json::parse(
            sandbox.trunkgate({"queue", "--repo", sandbox.server(), "--format", "json"}).out);
        for (const auto& entry : listed["queues"][0]["entries"])
            if (entry["id"] == id)
                return entry["speculative"].get<std::string>();
        FAIL("no entry " << id << " in " << listed.dump());
        return "";
    }

    // `trunkgate report --repo SERVER ARGS` at `now`.
    run_result report(const std::vector<std::string>& args, long long now) const {
        std::vector<std::string> argv{"report", "--repo", repository()};
        argv.insert(argv.end(), args.begin(), args.end());
        return sandbox.trunkgate(argv, "", {{"TRUNKGATE_NOW", std::to_string(now)}});
    }

    std::string repository() const { return std::filesystem::canonical(sandbox.server()).string(); }
};

// The report's period: days 1 to 14, [2026-11-02T00:00Z, 2026-11-16T00:00Z) (a bare --until
// date means the end of that day), made at noon on day 15.
const std::vector<std::string> period{"--since", "2026-11-02", "--until", "2026-11-15"};
const long long report_now = day(15, "12:00"); // 2026-11-16T12:00:00Z

} // namespace

TEST_CASE("report: every figure of a scripted fortnight, as docs/report.md defines it",
          "[e2e][report]") {
    scripted_repository repo;
    auto& sandbox = repo.sandbox;

    // ---- Day 0, Sunday 2026-11-01, before the period --------------------------------------
    // I0: main, staging and production all start there, before trunkgate is installed (so the
    // log has no record of it: it is what was already on trunk and already deployed).
    const auto i0 = repo.commit("initial", "README", day(0, "08:00"));
    REQUIRE(sandbox.push({"origin", "main", "main:staging", "main:production"}).status == 0);
    sandbox.install(report_policy);
    repo.statuses(i0,
                  {{"build", "success"}, {"unit-tests", "success"}, {"staging/smoke", "success"}},
                  day(0, "08:10"));
    // feature/ancient (carol): created before the period, never rebased, never landed.
    repo.start_branch("feature/ancient", i0);
    const auto a1 = repo.commit("feat: ancient idea", "ancient.txt", day(0, "09:00"));
    repo.lands("carol", day(0, "09:05"), {"origin", "feature/ancient"});

    // ---- Day 1, Monday 2026-11-02 -----------------------------------------------------------
    // Landing 1: alice, 1 commit (M1).
    repo.start_branch("main", i0);
    const auto m1 = repo.commit("feat: m1", "m1.txt", day(1, "09:00"));
    repo.green(m1, day(1, "09:10"));
    repo.lands("alice", day(1, "09:30"), {"origin", "HEAD:refs/heads/main"});
    // feature/login (bob), created at 10:45 with L1, L2 on M1.
    repo.start_branch("feature/login", m1);
    repo.commit("feat: login form", "login.txt", day(1, "10:00"));
    repo.commit("feat: login check", "login.txt", day(1, "10:30"));
    repo.lands("bob", day(1, "10:45"), {"origin", "feature/login"});
    // Landing 2: alice, 2 commits (M2, M3).
    repo.start_branch("main", m1);
    const auto m2 = repo.commit("feat: m2", "m2.txt", day(1, "14:00"));
    const auto m3 = repo.commit("feat: m3", "m3.txt", day(1, "14:05"));
    repo.green(m3, day(1, "14:10"));
    repo.lands("alice", day(1, "14:30"), {"origin", "HEAD:refs/heads/main"});
    // Staging S1: I0 -> M3.
    repo.lands("ci-bot", day(1, "15:00"), {"origin", m3 + ":refs/heads/staging"});
    repo.status(m3, "staging/smoke", "success", day(1, "15:30"));

    // ---- Day 2, Tuesday 2026-11-03 ----------------------------------------------------------
    // bob rebases feature/login on main (L1', L2': authored day 1, committed day 2 09:00),
    // force-pushes the branch, then lands it: landing 3, bob, 2 commits; feature/login's life
    // ends "merged" (its latest pushed commit reached trunk).
    repo.start_branch("feature/login", "feature/login");
    {
        const auto rebased = sandbox.git({"rebase", "-q", "origin/main"},
                                         {{"GIT_COMMITTER_DATE", git_date(day(2, "09:00"))}});
        INFO(rebased.all());
        REQUIRE(rebased.status == 0);
    }
    const auto l2 = sandbox.clone_rev("HEAD");
    const auto l1 = sandbox.clone_rev("HEAD~1");
    REQUIRE(sandbox.clone_rev("HEAD~2") == m3);
    repo.lands("bob", day(2, "09:10"), {"--force", "origin", "feature/login"});
    repo.green(l2, day(2, "09:20"));
    repo.lands("bob", day(2, "09:30"), {"origin", "feature/login:refs/heads/main"});
    // feature/typo (carol), created at 11:05, deleted on day 3.
    repo.start_branch("feature/typo", l2);
    repo.commit("fix: typo", "typo.txt", day(2, "11:00"));
    repo.lands("carol", day(2, "11:05"), {"origin", "feature/typo"});
    // Landing 4: carol, 1 commit (C1).
    repo.start_branch("main", l2);
    const auto c1 = repo.commit("feat: c1", "c1.txt", day(2, "13:00"));
    repo.green(c1, day(2, "13:10"));
    repo.lands("carol", day(2, "13:20"), {"origin", "HEAD:refs/heads/main"});
    // Production P1: I0 -> M3, approved by alice.
    repo.approve(m3, "alice", day(2, "14:50"));
    repo.lands("release-rita", day(2, "15:00"), {"origin", m3 + ":refs/heads/production"});

    // ---- Day 3, Wednesday 2026-11-04 --------------------------------------------------------
    repo.lands("carol", day(3, "10:05"), {"--delete", "origin", "feature/typo"});
    // B, the change that will be rolled back and reverted. Rejection 1: bob pushes it while
    // unit-tests is still pending (required-checks).
    repo.start_branch("main", c1);
    const auto b = repo.commit("feat: cache results", "cache.txt", day(3, "11:00"));
    repo.statuses(b, {{"build", "success"}, {"unit-tests", "pending"}}, day(3, "11:10"));
    repo.refused("bob", day(3, "11:20"), {"origin", "HEAD:refs/heads/main"}, "required-checks");
    // Landing 5: bob, 1 commit (B), once unit-tests passed.
    repo.status(b, "unit-tests", "success", day(3, "11:40"));
    repo.lands("bob", day(3, "11:45"), {"origin", "HEAD:refs/heads/main"});
    // Staging S2: M3 -> B.
    repo.lands("ci-bot", day(3, "12:00"), {"origin", b + ":refs/heads/staging"});
    repo.status(b, "staging/smoke", "success", day(3, "13:00"));

    // ---- Day 4, Thursday 2026-11-05 ---------------------------------------------------------
    // Production P2: M3 -> B; two hours later the rollback P3: B -> M3 (a force-push, allowed on
    // production).
    repo.approve(b, "alice", day(4, "10:50"));
    repo.lands("release-rita", day(4, "11:00"), {"origin", b + ":refs/heads/production"});
    repo.lands("release-rita", day(4, "13:00"),
               {"--force", "origin", m3 + ":refs/heads/production"});
    // Landing 6: alice reverts B with `git revert` (V), 1 commit.
    {
        const auto reverted = sandbox.git({"revert", "--no-edit", b},
                                          {{"GIT_AUTHOR_DATE", git_date(day(4, "14:00"))},
                                           {"GIT_COMMITTER_DATE", git_date(day(4, "14:00"))}});
        INFO(reverted.all());
        REQUIRE(reverted.status == 0);
    }
    const auto v = sandbox.clone_rev("HEAD");
    REQUIRE_THAT(sandbox.git({"log", "-1", "--format=%B", v}).out,
                 Contains("This reverts commit " + b + "."));
    repo.green(v, day(4, "14:10"));
    repo.lands("alice", day(4, "14:20"), {"origin", "HEAD:refs/heads/main"});

    // ---- Day 5, Friday 2026-11-06: the merge queue ------------------------------------------
    // dave queues two changes; the first lands (landing 7, queued, 1 commit), the second fails
    // its build and is ejected. Both branches are deleted afterwards (rebased work ends at
    // deletion).
    repo.start_branch("feature/queue-a", v);
    const auto q1 = repo.commit("feat: queued a", "qa.txt", day(5, "09:00"));
    repo.lands("dave", day(5, "09:05"), {"origin", "feature/queue-a"});
    repo.start_branch("feature/queue-b", v);
    const auto q2 = repo.commit("feat: queued b", "qb.txt", day(5, "09:10"));
    repo.lands("dave", day(5, "09:15"), {"origin", "feature/queue-b"});
    const auto entry_a = repo.enqueue(q1, "dave", day(5, "09:20"));
    const auto entry_b = repo.enqueue(q2, "dave", day(5, "09:25"));
    repo.queue_run(day(5, "09:30"));
    const auto sq1 = repo.speculative(entry_a);
    const auto sq2 = repo.speculative(entry_b);
    REQUIRE(sandbox.server_rev(sq1 + "^") == v);
    repo.green(sq1, day(5, "10:00"));
    repo.statuses(sq2, {{"build", "failure"}, {"unit-tests", "success"}}, day(5, "10:00"));
    const auto ran = repo.queue_run(day(5, "10:30"));
    CHECK_THAT(ran, Contains(entry_a + ": landed"));
    CHECK_THAT(ran, Contains(entry_b + ": ejected"));
    REQUIRE(sandbox.server_rev("refs/heads/main") == sq1);
    repo.lands("dave", day(5, "11:00"), {"--delete", "origin", "feature/queue-a"});
    repo.lands("dave", day(5, "11:05"), {"--delete", "origin", "feature/queue-b"});
    REQUIRE(sandbox.git({"fetch", "-q", "origin"}).status == 0);
    // Staging S3: B -> SQ1 (brings V, the revert of B, to staging).
    repo.lands("ci-bot", day(5, "15:00"), {"origin", sq1 + ":refs/heads/staging"});

    // ---- Day 8, Monday 2026-11-09 -----------------------------------------------------------
    // Rejection 2: carol adds to feature/ancient, now 9 commits behind main (limit 6).
    repo.start_branch("feature/ancient", a1);
    repo.commit("feat: ancient idea, more", "ancient.txt", day(8, "09:00"));
    repo.refused("carol", day(8, "09:10"), {"origin", "feature/ancient"}, "up-to-date");
    // Rejection 3: bob's feature/big has 7 commits (limit 5); release-manager pushes it anyway
    // (bypass 1).
    repo.start_branch("feature/big", sq1);
    for (int i = 0; i < 7; ++i)
        repo.commit("feat: big " + std::to_string(i + 1), "big.txt", day(8, "10:00") + i * 60);
    repo.refused("bob", day(8, "10:15"), {"origin", "feature/big"}, "branch-size");
    repo.lands(
        "release-manager", day(8, "10:30"),
        {"-o", "trunkgate.bypass=spike for INC-7, split before merging", "origin", "feature/big"});
    // Landing 8: R, red (unit-tests failed), pushed by release-manager with a bypass (bypass 2):
    // trunk is red from 11:30 ...
    repo.start_branch("main", sq1);
    const auto r = repo.commit("feat: new parser", "parser.txt", day(8, "11:00"));
    repo.statuses(r, {{"build", "success"}, {"unit-tests", "failure"}}, day(8, "11:10"));
    repo.lands("release-manager", day(8, "11:30"),
               {"-o", "trunkgate.bypass=INC-12 hotfix, unit-tests flaky", "origin",
                "HEAD:refs/heads/main"});
    // ... until landing 9 at 15:30: carol's fix F, 1 commit.
    const auto f = repo.commit("fix: parser", "parser.txt", day(8, "15:00"));
    repo.green(f, day(8, "15:10"));
    repo.lands("carol", day(8, "15:30"), {"origin", "HEAD:refs/heads/main"});

    // ---- Day 9, Tuesday 2026-11-10 ----------------------------------------------------------
    // Rejection 4: carol force-pushes a rewrite of main on R (force-push; its checks are
    // missing too: required-checks).
    repo.start_branch("rewrite", r);
    repo.commit("fix: parser, my way", "parser.txt", day(9, "09:00"));
    repo.refused("carol", day(9, "09:10"), {"--force", "origin", "rewrite:refs/heads/main"},
                 "force-push");
    // Staging S4: SQ1 -> F; production P4: M3 -> F. After it, the smoke test fails on F.
    repo.lands("ci-bot", day(9, "10:00"), {"origin", f + ":refs/heads/staging"});
    repo.status(f, "staging/smoke", "success", day(9, "10:30"));
    repo.approve(f, "alice", day(9, "10:50"));
    repo.lands("release-rita", day(9, "11:00"), {"origin", f + ":refs/heads/production"});
    repo.status(f, "staging/smoke", "failure", day(9, "16:00"));

    // ---- Day 10, Wednesday 2026-11-11 -------------------------------------------------------
    // Landing 10: bob, 3 commits (H1-H3); staging S5 and production P5 to H3.
    repo.start_branch("main", f);
    repo.commit("feat: h1", "h1.txt", day(10, "09:00"));
    repo.commit("feat: h2", "h2.txt", day(10, "09:05"));
    const auto h3 = repo.commit("feat: h3", "h3.txt", day(10, "09:10"));
    repo.green(h3, day(10, "09:20"));
    repo.lands("bob", day(10, "09:30"), {"origin", "HEAD:refs/heads/main"});
    repo.lands("ci-bot", day(10, "10:00"), {"origin", h3 + ":refs/heads/staging"});
    repo.status(h3, "staging/smoke", "success", day(10, "10:30"));
    repo.approve(h3, "alice", day(10, "10:50"));
    repo.lands("release-rita", day(10, "11:00"), {"origin", h3 + ":refs/heads/production"});

    // ---- Day 12, Friday 2026-11-13 ----------------------------------------------------------
    // Landing 11: alice, 1 commit (K); staging S6 to K. At noon unit-tests fails on K after all
    // (a re-run): trunk is red from K's landing to the end, and S6 failed.
    const auto k = repo.commit("feat: k", "k.txt", day(12, "09:00"));
    repo.green(k, day(12, "09:10"));
    repo.lands("alice", day(12, "09:30"), {"origin", "HEAD:refs/heads/main"});
    repo.lands("ci-bot", day(12, "10:00"), {"origin", k + ":refs/heads/staging"});
    repo.status(k, "unit-tests", "failure", day(12, "12:00"));

    // ---- Day 14, Sunday 2026-11-15 ----------------------------------------------------------
    // feature/fresh (carol): a young branch within every limit.
    repo.start_branch("feature/fresh", k);
    repo.commit("feat: fresh", "fresh.txt", day(14, "10:00"));
    repo.lands("carol", day(14, "10:05"), {"origin", "feature/fresh"});

    // ---- Day 15, Monday 2026-11-16, after the period --------------------------------------
    // Production P6 rolls back to M3 in the morning: it is not in the report, but it makes P5
    // a failed deployment (its next deployment, whenever it came, left H3 out).
    repo.approve(m3, "alice", day(15, "08:50"));
    repo.lands("release-rita", day(15, "09:00"),
               {"--force", "origin", m3 + ":refs/heads/production"});

    // ---- The report ------------------------------------------------------------------------
    std::vector<std::string> args = period;
    args.insert(args.end(), {"--format", "json"});
    const auto made = repo.report(args, report_now);
    INFO(made.all());
    REQUIRE(made.status == 0);
    const auto report = json::parse(made.out);

    { // the period
        CHECK(report["schema"] == 1);
        CHECK(report["repository"] == repo.repository());
        CHECK(report["generated_at"] == "2026-11-16T12:00:00+00:00");
        CHECK(report["since"] == "2026-11-02T00:00:00+00:00");
        CHECK(report["until"] == "2026-11-16T00:00:00+00:00"); // a bare --until: end of the day
        CHECK(report["days"].get<double>() == Approx(14.0));
        CHECK(report["bands_source"] == "Accelerate State of DevOps Report 2023 (DORA)");
        CHECK(report["notes"] == json::array());
    }

    { // integration
        // Landings (day: who, commits new to trunk):
        //   1 d1 09:30 alice 1 (M1)       2 d1 14:30 alice 2 (M2 M3)   3 d2 09:30 bob 2 (L1' L2')
        //   4 d2 13:20 carol 1 (C1)       5 d3 11:45 bob 1 (B)         6 d4 14:20 alice 1 (V)
        //   7 d5 10:30 queue for dave 1   8 d8 11:30 release-manager 1 (R)
        //   9 d8 15:30 carol 1 (F)       10 d10 09:30 bob 3 (H1-H3)   11 d12 09:30 alice 1 (K)
        // Sizes sorted: 1 1 1 1 1 1 1 1 2 2 3 (n = 11): median the ceil(5.5) = 6th = 1,
        // p90 the ceil(9.9) = 10th = 2, p95 the ceil(10.45) = 11th = 3.
        // Active days: d1 d2 d3 d4 d5 d8 d10 d12 = 8.
        const json expected = {
            {"trunk", "refs/heads/main"},
            {"landings", 11},
            {"direct", 10},
            {"queued", 1},
            {"active_pushers", 5}, // alice bob carol dave release-manager
            {"active_days", 8},
            {"per_day", 11.0 / 14.0},            // 11 landings / 14 days = 0.7857
            {"per_pusher_per_day", 11.0 / 70.0}, // (11 / 14) / 5 = 0.1571
            {"size", distribution(11, 1, 2, 3)},
            //                d1 d2 d3 d4 d5 d6 d7 d8 d9 d10 d11 d12 d13 d14
            {"days", day_counts({2, 2, 1, 1, 1, 0, 0, 2, 0, 1, 0, 1, 0, 0})},
            {"pushers",
             {
                 // landings 1 2 6 11 on d1 d1 d4 d12: 3 days of 8
                 {{"identity", "alice"},
                  {"landings", 4},
                  {"days_landed", 3},
                  {"share_of_days", 0.375}},
                 // landings 3 5 10 on d2 d3 d10
                 {{"identity", "bob"},
                  {"landings", 3},
                  {"days_landed", 3},
                  {"share_of_days", 0.375}},
                 // landings 4 9 on d2 d8
                 {{"identity", "carol"},
                  {"landings", 2},
                  {"days_landed", 2},
                  {"share_of_days", 0.25}},
                 // landing 7, through the queue (the journal's pusher of q-0001)
                 {{"identity", "dave"},
                  {"landings", 1},
                  {"days_landed", 1},
                  {"share_of_days", 0.125}},
                 // landing 8, the bypass
                 {{"identity", "release-manager"},
                  {"landings", 1},
                  {"days_landed", 1},
                  {"share_of_days", 0.125}},
             }},
        };
        CHECK(mismatches(report["integration"], expected, "integration") == "");
    }

    { // branches
        // Now is d15 12:00; trunk's tip is K. Trunk commits after I0, oldest first:
        // M1 M2 M3 L1' L2' C1 B V SQ1 R F H1 H2 H3 K (15).
        const json live = {
            // A1 on I0: age d15 12:00 - d0 09:00 = 15 d 3 h = 1306800; behind all 15; over
            // max_age_days 3 and max_behind 6. Its day-8 push was refused: last push day 0.
            {{"ref", "refs/heads/feature/ancient"},
             {"oldest_commit_time", iso(day(0, "09:00"))},
             {"age_seconds", 15 * 86400 + 3 * 3600},
             {"behind", 15},
             {"ahead", 1},
             {"last_push", iso(day(0, "09:05"))},
             {"last_pusher", "carol"},
             {"over_limits", {"branch-age", "up-to-date"}}},
            // G1-G7 on SQ1: age d15 12:00 - d8 10:00 = 7 d 2 h = 612000; behind R F H1 H2 H3 K
            // = 6 (at max_behind, not over it); ahead 7 > 5.
            {{"ref", "refs/heads/feature/big"},
             {"oldest_commit_time", iso(day(8, "10:00"))},
             {"age_seconds", 7 * 86400 + 2 * 3600},
             {"behind", 6},
             {"ahead", 7},
             {"last_push", iso(day(8, "10:30"))},
             {"last_pusher", "release-manager"},
             {"over_limits", {"branch-age", "branch-size"}}},
            // Merged but not deleted: L2' is on trunk, so no commit off trunk (age 0); behind
            // C1 B V SQ1 R F H1 H2 H3 K = 10 > 6. Last push: bob's force-push of day 2.
            {{"ref", "refs/heads/feature/login"},
             {"oldest_commit_time", nullptr},
             {"age_seconds", 0},
             {"behind", 10},
             {"ahead", 0},
             {"last_push", iso(day(2, "09:10"))},
             {"last_pusher", "bob"},
             {"over_limits", {"up-to-date"}}},
            // N on K: age d15 12:00 - d14 10:00 = 26 h = 93600; within every limit.
            {{"ref", "refs/heads/feature/fresh"},
             {"oldest_commit_time", iso(day(14, "10:00"))},
             {"age_seconds", 26 * 3600},
             {"behind", 0},
             {"ahead", 1},
             {"last_push", iso(day(14, "10:05"))},
             {"last_pusher", "carol"},
             {"over_limits", json::array()}},
        };
        CHECK(mismatches(report["branches"]["live"], live, "live") == "");

        const json ended = {
            // created d1 10:45, merged by landing 3 at d2 09:30: 22 h 45 min = 81900
            {{"ref", "refs/heads/feature/login"},
             {"created", iso(day(1, "10:45"))},
             {"ended", iso(day(2, "09:30"))},
             {"how", "merged"},
             {"lifetime_seconds", 81900}},
            // created d2 11:05, deleted d3 10:05: 23 h = 82800
            {{"ref", "refs/heads/feature/typo"},
             {"created", iso(day(2, "11:05"))},
             {"ended", iso(day(3, "10:05"))},
             {"how", "deleted"},
             {"lifetime_seconds", 82800}},
            // created d5 09:05, deleted 11:00 (its change landed rebased): 1 h 55 min = 6900
            {{"ref", "refs/heads/feature/queue-a"},
             {"created", iso(day(5, "09:05"))},
             {"ended", iso(day(5, "11:00"))},
             {"how", "deleted"},
             {"lifetime_seconds", 6900}},
            // created d5 09:15, deleted 11:05: 1 h 50 min = 6600
            {{"ref", "refs/heads/feature/queue-b"},
             {"created", iso(day(5, "09:15"))},
             {"ended", iso(day(5, "11:05"))},
             {"how", "deleted"},
             {"lifetime_seconds", 6600}},
        };
        CHECK(mismatches(report["branches"]["ended"], ended, "ended") == "");
        // Sorted 6600 6900 81900 82800: median the 2nd, p90 the ceil(3.6) = 4th, p95 the 4th.
        CHECK(mismatches(report["branches"]["lifetime"], distribution(4, 6900, 82800, 82800)) ==
              "");
        // All four between 1 hour and 1 day.
        CHECK(mismatches(report["branches"]["lifetime_ranges"], ranges({0, 4, 0, 0, 0, 0})) == "");
    }

    REQUIRE(report["deployments"].size() == 2); // the [[protect]] refs with promote_from, in order

    { // deployments to staging
        // S1 d1 15:00 I0->M3   first deployed M1 M2 M3: lead 15:00 - 09:00 = 21600,
        //                      15:00 - 14:00 = 3600, 15:00 - 14:05 = 3300
        // S2 d3 12:00 M3->B    L1' (authored d1 10:00): 50 h = 180000, L2' (d1 10:30): 49.5 h =
        //                      178200, C1 (d2 13:00): 23 h = 82800, B (d3 11:00): 3600
        // S3 d5 15:00 B->SQ1   V (d4 14:00): 25 h = 90000, SQ1 (Q1 authored d5 09:00): 6 h = 21600
        // S4 d9 10:00 SQ1->F   R (d8 11:00): 23 h = 82800, F (d8 15:00): 19 h = 68400
        // S5 d10 10:00 F->H3   H1 09:00: 3600, H2 09:05: 3300, H3 09:10: 3000
        // S6 d12 10:00 H3->K   K 09:00: 3600
        // 15 lead times sorted: 3000 3300 3300 3600 3600 3600 3600 21600 21600 68400 82800 82800
        // 90000 178200 180000: median the ceil(7.5) = 8th = 21600, p90 the ceil(13.5) = 14th =
        // 178200, p95 the ceil(14.25) = 15th = 180000. Ranges: < 1 h 3 (3000 3300 3300),
        // 1 h to 1 d 9, 1 d to 1 w 3 (90000 178200 180000).
        // Failed: S2 (V, the revert of B, reached staging with S3 2 d 3 h later, within 7 days),
        // restored by S3: d5 15:00 - d3 12:00 = 51 h = 183600. S6 (unit-tests failure on K),
        // no later deployment: unrestored. 2 of 6 failed.
        // Bands: 6/14 = 0.43 a day >= 1 a week: high; median lead 6 h < 1 day: elite; 33 % >
        // 15 %: low; restore 51 h <= 1 week: medium.
        const json expected = {
            {"ref", "refs/heads/staging"},
            {"count", 6},
            {"per_day", 6.0 / 14.0},
            {"per_week", 3.0}, // 6 / (14 / 7)
            //                d1 d2 d3 d4 d5 d6 d7 d8 d9 d10 d11 d12 d13 d14
            {"days", day_counts({1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0})},
            {"weeks", week_counts(3, 3)},
            {"lead_time", distribution(15, 21600, 178200, 180000)},
            {"lead_time_ranges", ranges({3, 9, 3, 0, 0, 0})},
            {"failed", 2},
            {"change_failure_rate", 2.0 / 6.0},
            {"time_to_restore", distribution(1, 183600, 183600, 183600)},
            {"unrestored", 1},
            {"bands",
             {{"deployment_frequency", "high"},
              {"lead_time", "elite"},
              {"change_failure_rate", "low"},
              {"time_to_restore", "medium"}}},
            {"list",
             {
                 {{"time", iso(day(1, "15:00"))},
                  {"identity", "ci-bot"},
                  {"old", i0},
                  {"new", m3},
                  {"commits", 3},
                  {"failed_by", json::array()},
                  {"restored_after_seconds", nullptr}},
                 {{"time", iso(day(3, "12:00"))},
                  {"identity", "ci-bot"},
                  {"old", m3},
                  {"new", b},
                  {"commits", 4},
                  {"failed_by", {"revert"}},
                  {"restored_after_seconds", 183600}},
                 {{"time", iso(day(5, "15:00"))},
                  {"identity", "ci-bot"},
                  {"old", b},
                  {"new", sq1},
                  {"commits", 2},
                  {"failed_by", json::array()},
                  {"restored_after_seconds", nullptr}},
                 {{"time", iso(day(9, "10:00"))},
                  {"identity", "ci-bot"},
                  {"old", sq1},
                  {"new", f},
                  {"commits", 2},
                  {"failed_by", json::array()},
                  {"restored_after_seconds", nullptr}},
                 {{"time", iso(day(10, "10:00"))},
                  {"identity", "ci-bot"},
                  {"old", f},
                  {"new", h3},
                  {"commits", 3},
                  {"failed_by", json::array()},
                  {"restored_after_seconds", nullptr}},
                 {{"time", iso(day(12, "10:00"))},
                  {"identity", "ci-bot"},
                  {"old", h3},
                  {"new", k},
                  {"commits", 1},
                  {"failed_by", {"check"}},
                  {"restored_after_seconds", nullptr}},
             }},
        };
        CHECK(mismatches(report["deployments"][0], expected, "staging") == "");
    }

    { // deployments to production
        // P1 d2 15:00 I0->M3   M1 (d1 09:00): 30 h = 108000, M2 (d1 14:00): 25 h = 90000,
        //                      M3 (d1 14:05): 24 h 55 min = 89700
        // P2 d4 11:00 M3->B    L1' (d1 10:00): 73 h = 262800, L2' (d1 10:30): 72.5 h = 261000,
        //                      C1 (d2 13:00): 46 h = 165600, B (d3 11:00): 24 h = 86400
        // P3 d4 13:00 B->M3    the rollback: nothing deployed for the first time
        // P4 d9 11:00 M3->F    V (d4 14:00): 117 h = 421200, SQ1 (d5 09:00): 98 h = 352800,
        //                      R (d8 11:00): 24 h = 86400, F (d8 15:00): 20 h = 72000
        // P5 d10 11:00 F->H3   H1: 2 h = 7200, H2: 6900, H3: 6600
        // 14 lead times sorted: 6600 6900 7200 72000 86400 86400 89700 90000 108000 165600
        // 261000 262800 352800 421200: median the 7th = 89700, p90 the ceil(12.6) = 13th =
        // 352800, p95 the ceil(13.3) = 14th = 421200. Ranges: 1 h to 1 d 4, 1 d to 1 w 10.
        // Failed: P2 by rollback (P3 moved production to M3, without B) and by revert (V reached
        // production with P4, 5 days after P2), restored by P3: 2 h = 7200. P4 by check
        // (staging/smoke failed on F after it). P5 by rollback (P6, after the period, moved
        // production to M3, without H3), restored by P6: d15 09:00 - d10 11:00 = 4 d 22 h =
        // 424800. P5 failed, so P4 too was restored only by P6: d15 09:00 - d9 11:00 =
        // 5 d 22 h = 511200. 3 of 5 failed.
        // Restore times sorted 7200 424800 511200: median the ceil(1.5) = 2nd = 424800, p90 and
        // p95 the 3rd = 511200.
        // Bands: 5/14 = 0.36 a day: high; median lead 24 h 55 min <= 1 week: high; 60 %: low;
        // median restore 4 d 22 h <= 1 week: medium.
        const json expected = {
            {"ref", "refs/heads/production"},
            {"count", 5},
            {"per_day", 5.0 / 14.0},
            {"per_week", 2.5}, // 5 / 2
            //                d1 d2 d3 d4 d5 d6 d7 d8 d9 d10 d11 d12 d13 d14
            {"days", day_counts({0, 1, 0, 2, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0})},
            {"weeks", week_counts(3, 2)},
            {"lead_time", distribution(14, 89700, 352800, 421200)},
            {"lead_time_ranges", ranges({0, 4, 10, 0, 0, 0})},
            {"failed", 3},
            {"change_failure_rate", 0.6},
            {"time_to_restore", distribution(3, 424800, 511200, 511200)},
            {"unrestored", 0},
            {"bands",
             {{"deployment_frequency", "high"},
              {"lead_time", "high"},
              {"change_failure_rate", "low"},
              {"time_to_restore", "medium"}}},
            {"list",
             {
                 {{"time", iso(day(2, "15:00"))},
                  {"identity", "release-rita"},
                  {"old", i0},
                  {"new", m3},
                  {"commits", 3},
                  {"failed_by", json::array()},
                  {"restored_after_seconds", nullptr}},
                 {{"time", iso(day(4, "11:00"))},
                  {"identity", "release-rita"},
                  {"old", m3},
                  {"new", b},
                  {"commits", 4},
                  {"failed_by", {"rollback", "revert"}},
                  {"restored_after_seconds", 7200}},
                 {{"time", iso(day(4, "13:00"))},
                  {"identity", "release-rita"},
                  {"old", b},
                  {"new", m3},
                  {"commits", 0},
                  {"failed_by", json::array()},
                  {"restored_after_seconds", nullptr}},
                 {{"time", iso(day(9, "11:00"))},
                  {"identity", "release-rita"},
                  {"old", m3},
                  {"new", f},
                  {"commits", 4},
                  {"failed_by", {"check"}},
                  {"restored_after_seconds", 511200}},
                 {{"time", iso(day(10, "11:00"))},
                  {"identity", "release-rita"},
                  {"old", f},
                  {"new", h3},
                  {"commits", 3},
                  {"failed_by", {"rollback"}},
                  {"restored_after_seconds", 424800}},
             }},
        };
        CHECK(mismatches(report["deployments"][1], expected, "production") == "");
    }

    { // trunk health
        // Trunk's tip at the start of the period: I0, the old value of the first trunk record
        // (none before it), so all 14 days = 1209600 s are observed (until, d15 00:00, is before
        // now). Red: R from landing 8 (d8 11:30) to landing 9 (d8 15:30) = 4 h = 14400; K from
        // landing 11 (d12 09:30) to the end of the period (d15 00:00) = 2 d 14 h 30 min = 225000.
        // 14400 + 225000 = 239400 red seconds; 239400 / 1209600 = 0.19792.
        const json expected = {
            {"required_checks", {"build", "unit-tests"}},
            {"observed_seconds", 14 * 86400},
            {"red_seconds", 239400},
            {"red_share", 239400.0 / 1209600.0},
            {"red",
             {
                 {{"from", iso(day(8, "11:30"))},
                  {"to", iso(day(8, "15:30"))},
                  {"commit", r},
                  {"unmet", {{{"context", "unit-tests"}, {"state", "failure"}}}}},
                 {{"from", iso(day(12, "09:30"))},
                  {"to", iso(day(15, "00:00"))},
                  {"commit", k},
                  {"unmet", {{{"context", "unit-tests"}, {"state", "failure"}}}}},
             }},
        };
        CHECK(mismatches(report["trunk_health"], expected, "trunk_health") == "");
    }

    { // bypasses, rejections and the queue
        const json bypasses = {
            {{"time", iso(day(8, "10:30"))},
             {"identity", "release-manager"},
             {"refs", {"refs/heads/feature/big"}},
             {"reason", "spike for INC-7, split before merging"}},
            {{"time", iso(day(8, "11:30"))},
             {"identity", "release-manager"},
             {"refs", {"refs/heads/main"}},
             {"reason", "INC-12 hotfix, unit-tests flaky"}},
        };
        CHECK(mismatches(report["bypasses"], bypasses, "bypasses") == "");
        // Rejected: d3 bob main (required-checks: unit-tests pending), d8 carol feature/ancient
        // (up-to-date; branch-age only warns), d8 bob feature/big (branch-size), d9 carol's
        // force-push of main (force-push, and required-checks for its 2 missing checks: one
        // push). Most first, then by rule id.
        const json rejections = {
            {"pushes", 4},
            {"by_rule",
             {{{"rule", "required-checks"}, {"pushes", 2}},
              {{"rule", "branch-size"}, {"pushes", 1}},
              {{"rule", "force-push"}, {"pushes", 1}},
              {{"rule", "up-to-date"}, {"pushes", 1}}}},
        };
        CHECK(mismatches(report["rejections"], rejections, "rejections") == "");
        // Entries that ended in the period: q-0001 landed (queued d5 09:20, landed 10:30:
        // 70 min = 4200), q-0002 ejected (its build failed). One speculative build each: 2 builds
        // for 1 landed.
        const json queue = {
            {"landed", 1},
            {"ejected", 1},
            {"cancelled", 0},
            {"time_to_land", distribution(1, 4200, 4200, 4200)},
            {"ejections", {{{"reason", "check-failed"}, {"count", 1}}}},
            {"builds", 2},
            {"builds_per_landed", 2.0},
        };
        CHECK(mismatches(report["queue"], queue, "queue") == "");
    }

    { // the text summary names the key figures and the bands
        std::vector<std::string> text_args = period;
        text_args.insert(text_args.end(), {"--format", "text"});
        const auto text = repo.report(text_args, report_now);
        INFO(text.all());
        REQUIRE(text.status == 0);
        // The header and the landings line as docs/cli.md shows them: 11 / 14 = 0.79 a day,
        // 0.7857 / 5 = 0.16 per active pusher a day.
        CHECK_THAT(text.out, Contains("trunkgate report: " + repo.repository() +
                                      ", 2026-11-02T00:00:00+00:00 to "
                                      "2026-11-16T00:00:00+00:00 (14.0 days)"));
        CHECK_THAT(text.out, Contains("Integration (refs/heads/main)"));
        CHECK_THAT(text.out, Contains("landings: 11 (0.79 a day; 0.16 per active pusher a day), "
                                      "10 direct, 1 queued"));
        // Each deploy ref with its bands, the stale branches, the bypass reasons, the rules.
        for (const char* figure :
             {"refs/heads/staging", "refs/heads/production", "elite", "high", "medium", "low",
              "refs/heads/feature/ancient", "refs/heads/feature/big", "refs/heads/feature/login",
              "INC-12 hotfix, unit-tests flaky", "spike for INC-7, split before merging",
              "required-checks", "branch-size", "force-push", "up-to-date"})
            CHECK_THAT(text.out, Contains(figure));
    }

    { // the HTML page is written whole to --output
        const auto page = sandbox.dir() + "/report.html";
        write_file(page, std::string(1 << 20, 'x')); // an older, longer file: replaced whole
        std::vector<std::string> html_args = period;
        html_args.insert(html_args.end(), {"--format", "html", "--output", page});
        const auto html = repo.report(html_args, report_now);
        INFO(html.all());
        REQUIRE(html.status == 0);
        CHECK(html.out.empty());
        const auto written = read_file(page);
        CHECK(written.rfind("<!DOCTYPE html>", 0) == 0);
        CHECK(written.find("xxxxxxxx") == std::string::npos);
        CHECK_THAT(written, Contains("refs/heads/production"));
        CHECK_THAT(written, Contains("<svg"));
        CHECK_THAT(written, !Contains("<script"));
    }
}

TEST_CASE("report: a batch counts for each pusher in it, lives restart, a revert outside the "
          "window, a missing check, pending, and author times after the deployment",
          "[e2e][report]") {
    // Production alone is reported (deploy_refs), with a one-day failure window; the queue
    // lands batches of three.
    const std::string policy = R"(
[trunk]
branch = "main"

[[protect]]
refs = ["refs/heads/main"]
required_checks = ["build"]

[[protect]]
refs = ["refs/heads/production"]
promote_from = "refs/heads/main"
required_checks = ["build"]

[[queue]]
target = "refs/heads/main"
method = "rebase"
batch_size = 3
runner = "manual"

[enforcement]
queue-required = "warn"

[checks]
writers = ["ci-bot"]

[bypass]
identities = ["release-manager"]

[report]
deploy_refs = ["refs/heads/production"]
failure_window_days = 1
)";
    scripted_repository repo;
    auto& sandbox = repo.sandbox;

    // Day 0: I0 on main and production, and feature/old, all before trunkgate is installed.
    const auto i0 = repo.commit("initial", "README", day(0, "08:00"));
    repo.start_branch("feature/old", i0);
    repo.commit("feat: old", "old.txt", day(0, "08:30"));
    REQUIRE(sandbox.push({"origin", "main", "main:production", "feature/old"}).status == 0);
    sandbox.install(policy);
    repo.status(i0, "build", "success", day(0, "08:10"));

    // Day 1. feature/old, older than the log, is deleted: a life the report cannot know.
    repo.lands("carol", day(1, "08:00"), {"--delete", "origin", "feature/old"});
    // Three changes enter the queue through refs/for: dave's d1 (authored 09:00), erin's e1
    // (09:01), dave's d2 (09:02), queued at 09:10, 09:11 and 09:12; built as one batch at 09:20,
    // green at 09:40, landed at 10:00 as 3 commits (landing 1, queued).
    const std::vector<std::tuple<std::string, std::string, std::string>> changes{
        {"dave", "d1", "09:00"}, {"erin", "e1", "09:01"}, {"dave", "d2", "09:02"}};
    int minute = 10;
    for (const auto& [pusher, topic, authored] : changes) {
        repo.start_branch("change/" + topic, i0);
        repo.commit("feat: " + topic, topic + ".txt", day(1, authored));
        const auto queued = repo.push(pusher, day(1, "09:" + std::to_string(minute++)),
                                      {"origin", "HEAD:refs/for/main/" + topic});
        INFO(queued.all());
        REQUIRE(queued.status == 0);
        CHECK_THAT(remote_text(queued), Contains("queued for main"));
    }
    repo.queue_run(day(1, "09:20"));
    const auto batch = repo.speculative("q-0003");
    REQUIRE(repo.speculative("q-0001") == batch);
    repo.status(batch, "build", "success", day(1, "09:40"));
    CHECK_THAT(repo.queue_run(day(1, "10:00")), Contains("landed"));
    REQUIRE(sandbox.server_rev("refs/heads/main") == batch);
    REQUIRE(sandbox.git({"rev-list", "--count", i0 + ".." + batch}).out == "3\n");
    const auto d1_landed = sandbox.clone_rev(batch + "~2");
    // Production PA: I0 -> the batch.
    repo.lands("release-rita", day(1, "12:00"), {"origin", batch + ":refs/heads/production"});

    // Day 2. C without any status, pushed with a bypass: trunk is red (build missing) from 10:00
    // to carol's C2 at 12:00.
    repo.start_branch("main", batch);
    const auto c = repo.commit("feat: c", "c.txt", day(2, "09:00"));
    repo.lands("release-manager", day(2, "10:00"),
               {"-o", "trunkgate.bypass=INC-20 CI is down", "origin", "HEAD:refs/heads/main"});
    const auto c2 = repo.commit("feat: c2", "c2.txt", day(2, "11:30"));
    repo.status(c2, "build", "success", day(2, "11:40"));
    repo.lands("carol", day(2, "12:00"), {"origin", "HEAD:refs/heads/main"});
    // feature/again, first life: 13:00 to 14:00.
    repo.start_branch("feature/again", c2);
    repo.commit("feat: again", "again.txt", day(2, "12:50"));
    repo.lands("carol", day(2, "13:00"), {"origin", "feature/again"});
    repo.lands("carol", day(2, "14:00"), {"--delete", "origin", "feature/again"});

    // Day 3. carol reverts d1 (V, committed 08:00 by a machine whose clock says the author
    // wrote it at 09:30) and lands it at 08:30; production PB deploys it at 09:00, 45 hours
    // after PA: outside the one-day failure window.
    repo.start_branch("main", c2);
    {
        const auto reverted = sandbox.git({"revert", "--no-edit", d1_landed},
                                          {{"GIT_AUTHOR_DATE", git_date(day(3, "09:30"))},
                                           {"GIT_COMMITTER_DATE", git_date(day(3, "08:00"))}});
        INFO(reverted.all());
        REQUIRE(reverted.status == 0);
    }
    const auto v = sandbox.clone_rev("HEAD");
    repo.status(v, "build", "success", day(3, "08:10"));
    repo.lands("carol", day(3, "08:30"), {"origin", "HEAD:refs/heads/main"});
    repo.lands("release-rita", day(3, "09:00"), {"origin", v + ":refs/heads/production"});
    // feature/again, second life: 09:15 to 12:15.
    repo.start_branch("feature/again", v);
    repo.commit("feat: again, again", "again.txt", day(3, "09:10"));
    repo.lands("carol", day(3, "09:15"), {"origin", "feature/again"});
    repo.lands("carol", day(3, "12:15"), {"--delete", "origin", "feature/again"});
    // P, pushed with a bypass while its build is pending: trunk's tip to the end, not red.
    repo.start_branch("main", v);
    const auto p = repo.commit("feat: p", "p.txt", day(3, "09:45"));
    repo.status(p, "build", "pending", day(3, "09:50"));
    repo.lands("release-manager", day(3, "10:00"),
               {"-o", "trunkgate.bypass=INC-21 release train", "origin", "HEAD:refs/heads/main"});

    // A line torn by something else: skipped, and named in the notes.
    const auto audit_log = sandbox.server() + "/trunkgate/audit.log";
    const auto records = read_file(audit_log);
    const auto damaged_line = std::count(records.begin(), records.end(), '\n') + 1;
    write_file(audit_log, records + "{\"kind\":\"landed\",\"time\":\"2026-11-04T1\n");

    // The period [2026-11-02T00:00Z, 2026-11-05T00:00Z): 3 days, --since in Unix seconds,
    // --until in full (an exact time, not the end of a day); now 2026-11-05T12:00Z.
    const auto made = sandbox.trunkgate({"report", "--repo", sandbox.server(), "--since",
                                         std::to_string(day(1, "00:00")), "--until",
                                         "2026-11-05T00:00:00Z", "--format", "json"},
                                        "", {{"TRUNKGATE_NOW", "2026-11-05T12:00:00Z"}});
    INFO(made.all());
    REQUIRE(made.status == 0);
    const auto report = json::parse(made.out);

    REQUIRE(report["notes"].size() == 1);
    CHECK_THAT(report["notes"][0].get<std::string>(), Contains(std::to_string(damaged_line)));

    // Landings: d1 10:00 the batch (3 commits: dave, erin, dave), d2 10:00 release-manager C,
    // d2 12:00 carol C2, d3 08:30 carol V, d3 10:00 release-manager P. The batch counts once for
    // dave and once for erin. Sizes sorted 1 1 1 1 3: median the 3rd = 1, p90 and p95 the
    // ceil(4.5) = 5th = 3.
    const json integration = {
        {"landings", 5},
        {"direct", 4},
        {"queued", 1},
        {"active_pushers", 4},
        {"active_days", 3},
        {"per_day", 5.0 / 3.0},
        {"per_pusher_per_day", 5.0 / 12.0}, // (5 / 3) / 4
        {"size", distribution(5, 1, 3, 3)},
        {"days", json::array({{{"date", "2026-11-02"}, {"count", 1}},
                              {{"date", "2026-11-03"}, {"count", 2}},
                              {{"date", "2026-11-04"}, {"count", 2}}})},
        {"pushers",
         {{{"identity", "carol"},
           {"landings", 2},
           {"days_landed", 2},
           {"share_of_days", 2.0 / 3.0}},
          {{"identity", "release-manager"},
           {"landings", 2},
           {"days_landed", 2},
           {"share_of_days", 2.0 / 3.0}},
          {{"identity", "dave"}, {"landings", 1}, {"days_landed", 1}, {"share_of_days", 1.0 / 3.0}},
          {{"identity", "erin"},
           {"landings", 1},
           {"days_landed", 1},
           {"share_of_days", 1.0 / 3.0}}}},
    };
    CHECK(mismatches(report["integration"], integration, "integration") == "");

    // Two lives of feature/again, 3600 (exactly 1 hour: the "1 hour to 1 day" range) and 10800;
    // none for feature/old. Sorted 3600 10800: median the 1st, p90 and p95 the 2nd.
    const json branches = {
        {"live", json::array()},
        {"ended",
         {{{"ref", "refs/heads/feature/again"},
           {"created", iso(day(2, "13:00"))},
           {"ended", iso(day(2, "14:00"))},
           {"how", "deleted"},
           {"lifetime_seconds", 3600}},
          {{"ref", "refs/heads/feature/again"},
           {"created", iso(day(3, "09:15"))},
           {"ended", iso(day(3, "12:15"))},
           {"how", "deleted"},
           {"lifetime_seconds", 10800}}}},
        {"lifetime", distribution(2, 3600, 10800, 10800)},
        {"lifetime_ranges", ranges({0, 2, 0, 0, 0, 0})},
    };
    CHECK(mismatches(report["branches"], branches, "branches") == "");

    // PA d1 12:00: d1' e1' d2' authored 09:00 09:01 09:02: 10800 10740 10680.
    // PB d3 09:00: C (d2 09:00) 86400, C2 (d2 11:30) 77400, V (authored d3 09:30, after PB) 0.
    // Sorted 0 10680 10740 10800 77400 86400: median the 3rd = 10740, p90 and p95 the
    // ceil(5.4) = 6th = 86400. V reverts d1', which PA deployed first, but reached production
    // 45 h after PA, outside failure_window_days = 1: nothing failed.
    // Bands: 2 / 3 days = 0.67 a day, >= 1 a week: high; 10740 < 1 day: elite; 0 %: elite; no
    // failed deployment: no restore time, no band.
    const json production = {
        {"ref", "refs/heads/production"},
        {"count", 2},
        {"per_day", 2.0 / 3.0},
        {"per_week", 14.0 / 3.0}, // 2 / (3 / 7)
        {"days", json::array({{{"date", "2026-11-02"}, {"count", 1}},
                              {{"date", "2026-11-03"}, {"count", 0}},
                              {{"date", "2026-11-04"}, {"count", 1}}})},
        {"weeks", json::array({{{"week", "2026-11-02"}, {"count", 2}}})},
        {"lead_time", distribution(6, 10740, 86400, 86400)},
        {"lead_time_ranges", ranges({1, 4, 1, 0, 0, 0})},
        {"failed", 0},
        {"change_failure_rate", 0.0},
        {"time_to_restore", distribution(0)},
        {"unrestored", 0},
        {"bands",
         {{"deployment_frequency", "high"},
          {"lead_time", "elite"},
          {"change_failure_rate", "elite"},
          {"time_to_restore", nullptr}}},
        {"list",
         {{{"time", iso(day(1, "12:00"))},
           {"identity", "release-rita"},
           {"old", i0},
           {"new", batch},
           {"commits", 3},
           {"failed_by", json::array()},
           {"restored_after_seconds", nullptr}},
          {{"time", iso(day(3, "09:00"))},
           {"identity", "release-rita"},
           {"old", batch},
           {"new", v},
           {"commits", 3},
           {"failed_by", json::array()},
           {"restored_after_seconds", nullptr}}}},
    };
    REQUIRE(report["deployments"].size() == 1);
    CHECK(mismatches(report["deployments"][0], production, "production") == "");

    // Observed: all 3 days (259200 s; until is before now). Red: C, build missing, d2 10:00 to
    // 12:00 = 7200. P (build pending) is not red. 7200 / 259200 = 0.02778.
    const json trunk_health = {
        {"required_checks", {"build"}},
        {"observed_seconds", 3 * 86400},
        {"red_seconds", 7200},
        {"red_share", 7200.0 / 259200.0},
        {"red",
         {{{"from", iso(day(2, "10:00"))},
           {"to", iso(day(2, "12:00"))},
           {"commit", c},
           {"unmet", {{{"context", "build"}, {"state", "missing"}}}}}}},
    };
    CHECK(mismatches(report["trunk_health"], trunk_health, "trunk_health") == "");

    CHECK(mismatches(report["bypasses"], {{{"time", iso(day(2, "10:00"))},
                                           {"identity", "release-manager"},
                                           {"refs", {"refs/heads/main"}},
                                           {"reason", "INC-20 CI is down"}},
                                          {{"time", iso(day(3, "10:00"))},
                                           {"identity", "release-manager"},
                                           {"refs", {"refs/heads/main"}},
                                           {"reason", "INC-21 release train"}}}) == "");
    CHECK(mismatches(report["rejections"], {{"pushes", 0}, {"by_rule", json::array()}}) == "");

    // Queued 09:10 09:11 09:12, landed 10:00: 3000 2940 2880; sorted, median the 2nd = 2940,
    // p90 and p95 the 3rd = 3000. One speculative build (one commit CI built) for 3 landed
    // changes.
    const json queue = {
        {"landed", 3},
        {"ejected", 0},
        {"cancelled", 0},
        {"time_to_land", distribution(3, 2940, 3000, 3000)},
        {"ejections", json::array()},
        {"builds", 1},
        {"builds_per_landed", 1.0 / 3.0},
    };
    CHECK(mismatches(report["queue"], queue, "queue") == "");
}

TEST_CASE("report: a trunk without required checks is never red, and the notes say why",
          "[e2e][report]") {
    scripted_repository repo;
    auto& sandbox = repo.sandbox;
    const auto initial = repo.commit("initial", "README", day(0, "08:00"));
    // feature/pre exists before the log begins: live, with no last push.
    repo.start_branch("feature/pre", initial);
    repo.commit("feat: pre", "pre.txt", day(0, "08:30"));
    REQUIRE(sandbox.push({"origin", "main", "feature/pre"}).status == 0);
    sandbox.install("[trunk]\nbranch = \"main\"\n");
    repo.start_branch("main", initial);
    repo.commit("feat: unchecked", "a.txt", day(1, "09:00"));
    repo.lands("alice", day(1, "10:00"), {"origin", "main"});
    const auto made = repo.report(
        {"--since", "2026-11-02", "--until", "2026-11-02", "--format", "json"}, day(2, "12:00"));
    INFO(made.all());
    REQUIRE(made.status == 0);
    const auto report = json::parse(made.out);
    CHECK(report["integration"]["landings"] == 1);
    // Age: d2 12:00 - d0 08:30 = 2 d 3 h 30 min = 185400; behind: the unchecked commit.
    CHECK(mismatches(report["branches"]["live"], {{{"ref", "refs/heads/feature/pre"},
                                                   {"oldest_commit_time", iso(day(0, "08:30"))},
                                                   {"age_seconds", 185400},
                                                   {"behind", 1},
                                                   {"ahead", 1},
                                                   {"last_push", nullptr},
                                                   {"last_pusher", nullptr},
                                                   {"over_limits", json::array()}}}) == "");
    CHECK(mismatches(report["trunk_health"], {{"required_checks", json::array()},
                                              {"red_seconds", 0},
                                              {"red_share", nullptr},
                                              {"red", json::array()}}) == "");
    // The log begins with alice's landing, after the period's start; and no trunk checks.
    CHECK(report["notes"] ==
          json::array({"the audit log begins at " + iso(day(1, "10:00")) +
                           ", after the period's start: rates per day and week count days "
                           "trunkgate did not see (--since " +
                           iso(day(1, "10:00")) + " reports only what it saw)",
                       "trunk has no required checks, so it is never red"}));
    CHECK(report["deployments"] == json::array()); // no ref with promote_from
    CHECK(report["queue"] == nullptr);             // no [[queue]], no journal
}

TEST_CASE("report: trunk is observed from the log's first record, not from before trunkgate "
          "was installed",
          "[e2e][report]") {
    scripted_repository repo;
    auto& sandbox = repo.sandbox;
    // I0 reaches main on day 0, before trunkgate is installed: no record of it, and no build.
    const auto initial = repo.commit("initial", "README", day(0, "08:00"));
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    sandbox.install("[trunk]\nbranch = \"main\"\n\n[[protect]]\nrefs = [\"refs/heads/main\"]\n"
                    "required_checks = [\"build\"]\n\n[checks]\nwriters = [\"ci-bot\"]\n");
    // The log's first record, d3 09:00, is an accepted push of a branch, not of trunk.
    repo.start_branch("feature/x", initial);
    repo.commit("feat: x", "x.txt", day(3, "08:30"));
    repo.lands("bob", day(3, "09:00"), {"origin", "feature/x"});
    // A, built green, lands on main at d3 12:00.
    repo.start_branch("main", initial);
    const auto a = repo.commit("feat: a", "a.txt", day(3, "11:00"));
    repo.status(a, "build", "success", day(3, "12:00"));
    repo.lands("alice", day(3, "12:00"), {"origin", "main"});

    // The period is days 1 to 4, [d1 00:00, d5 00:00), made at d5 12:00.
    const auto made = repo.report(
        {"--since", "2026-11-02", "--until", "2026-11-05", "--format", "json"}, day(5, "12:00"));
    INFO(made.all());
    REQUIRE(made.status == 0);
    const auto report = json::parse(made.out);
    // Observed from the first record (d3 09:00) to the period's end (d5 00:00): 39 h = 140400,
    // not the 4 days before it. Red: I0, build missing, d3 09:00 to 12:00 = 10800.
    CHECK(mismatches(report["trunk_health"],
                     {{"required_checks", {"build"}},
                      {"observed_seconds", 140400},
                      {"red_seconds", 10800},
                      {"red_share", 10800.0 / 140400.0},
                      {"red",
                       {{{"from", iso(day(3, "09:00"))},
                         {"to", iso(day(3, "12:00"))},
                         {"commit", initial},
                         {"unmet", {{{"context", "build"}, {"state", "missing"}}}}}}}}) == "");

    REQUIRE(report["notes"].size() == 1);
    CHECK_THAT(report["notes"][0].get<std::string>(),
               Contains("the audit log begins at " + iso(day(3, "09:00"))));

    // Made in the same second as alice's landing, with the default period: the landing is in it
    // (the log's times are whole seconds; the period ends with now's second).
    const auto same_second = repo.report({"--format", "json"}, day(3, "12:00"));
    INFO(same_second.all());
    REQUIRE(same_second.status == 0);
    CHECK(json::parse(same_second.out)["integration"]["landings"] == 1);
}

TEST_CASE("report: a command line or a clock that does not say what it means is exit 2",
          "[e2e][report]") {
    git_sandbox sandbox;
    sandbox.install(report_policy);
    const auto report = [&](const std::vector<std::string>& args,
                            const std::map<std::string, std::string>& env = {
                                {"TRUNKGATE_NOW", "2026-11-16T12:00:00Z"}}) {
        std::vector<std::string> argv{"report", "--repo", sandbox.server()};
        argv.insert(argv.end(), args.begin(), args.end());
        return sandbox.trunkgate(argv, "", env);
    };

    SECTION("--since that is not a date") {
        const auto made = report({"--since", "last tuesday"});
        CHECK(made.status == 2);
        CHECK(made.out.empty());
        CHECK_THAT(made.err, Contains("--since"));
    }
    SECTION("--until that is not a date") {
        const auto made = report({"--until", "2026-11-15T25:00:00Z"});
        CHECK(made.status == 2);
        CHECK(made.out.empty());
        CHECK_THAT(made.err, Contains("--until"));
    }
    SECTION("--since after --until") {
        const auto made = report({"--since", "2026-11-10", "--until", "2026-11-02"});
        CHECK(made.status == 2);
        CHECK(made.out.empty());
        CHECK_THAT(made.err, Contains("since"));
    }
    SECTION("TRUNKGATE_NOW that is not a time") {
        const auto made = report({"--format", "json"}, {{"TRUNKGATE_NOW", "tomorrow"}});
        CHECK(made.status == 2);
        CHECK(made.out.empty());
        CHECK_THAT(made.err, Contains("TRUNKGATE_NOW"));
    }
}

TEST_CASE("report: a repository without an audit log gives zeros and nulls, not an error",
          "[e2e][report]") {
    git_sandbox sandbox;
    sandbox.install(report_policy);
    REQUIRE_FALSE(std::filesystem::exists(sandbox.server() + "/trunkgate/audit.log"));
    const auto made = sandbox.trunkgate({"report", "--repo", sandbox.server(), "--format", "json"},
                                        "", {{"TRUNKGATE_NOW", "2026-11-16T12:00:00Z"}});
    INFO(made.all());
    REQUIRE(made.status == 0);
    const auto report = json::parse(made.out);
    // The default period: the 28 days up to the end of now's second, [2026-10-19T12:00:01Z,
    // 2026-11-16T12:00:01Z): 29 UTC days from 2026-10-19 to 2026-11-16 (the day of its last
    // second).
    json days = json::array();
    for (int n = -13; n <= 15; ++n)
        days.push_back({{"date", date_of(n)}, {"count", 0}});
    const json expected = {
        {"schema", 1},
        {"generated_at", "2026-11-16T12:00:00+00:00"},
        {"since", "2026-10-19T12:00:01+00:00"},
        {"until", "2026-11-16T12:00:01+00:00"},
        {"days", 28.0},
        {"integration",
         {{"trunk", "refs/heads/main"},
          {"landings", 0},
          {"direct", 0},
          {"queued", 0},
          {"active_pushers", 0},
          {"active_days", 0},
          {"per_day", 0.0},
          {"per_pusher_per_day", 0.0},
          {"size", distribution(0)},
          {"days", days},
          {"pushers", json::array()}}},
        {"branches",
         {{"live", json::array()},
          {"ended", json::array()},
          {"lifetime", distribution(0)},
          {"lifetime_ranges", ranges({0, 0, 0, 0, 0, 0})}}},
        {"deployments", json::array()}, // the log records no deploy ref
        {"trunk_health",
         {{"required_checks", {"build", "unit-tests"}},
          {"observed_seconds", 0},
          {"red_seconds", 0},
          {"red_share", nullptr},
          {"red", json::array()}}},
        {"bypasses", json::array()},
        {"rejections", {{"pushes", 0}, {"by_rule", json::array()}}},
        // The policy has a [[queue]]: present, with nothing ended.
        {"queue",
         {{"landed", 0},
          {"ejected", 0},
          {"cancelled", 0},
          {"time_to_land", distribution(0)},
          {"ejections", json::array()},
          {"builds", 0},
          {"builds_per_landed", nullptr}}},
    };
    CHECK(mismatches(report, expected) == "");
}
