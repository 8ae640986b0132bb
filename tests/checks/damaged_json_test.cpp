// Damaged JSON from outside: status notes, approvals notes, status API answers and spool entries
// with numbers out of range (1e400), decimals, wrong types and absurd times. Each must be a clean
// input_error naming the field (never a nlohmann exception, never a value taken as something it
// is not), and the gates must report a damaged note as damaged.
#include <catch2/catch.hpp>

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "support/sandbox.hpp"
#include "trunkgate/checks/approvals.hpp"
#include "trunkgate/checks/notes.hpp"
#include "trunkgate/checks/status.hpp"
#include "trunkgate/events/spool.hpp"
#include "trunkgate/gate/evaluate.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/unix_time.hpp"

using namespace trunkgate;
using Catch::Contains;

namespace {

constexpr std::int64_t now = 1800000000; // 2027-01-15
constexpr std::int64_t day = 86400;

// Runs `parse` on `text` and checks it throws input_error whose message contains `fragment`. A
// nlohmann exception (or none at all) fails the test.
template <typename Parse>
void expect_damaged(const Parse& parse, const std::string& text, const std::string& fragment) {
    INFO("input: " << text);
    try {
        parse(text);
        FAIL("accepted");
    } catch (const input_error& e) {
        CHECK_THAT(e.what(), Contains(fragment));
    }
}

std::string approvals_with(const std::string& field) {
    return R"({"approvals": [{"by": "alice", "state": "approved", )" + field + "}]}";
}

std::string status_with(const std::string& field) {
    return R"({"build": {"state": "success", )" + field + "}}";
}

std::string answer_with(const std::string& status_fields) {
    return R"({"state": "success", "statuses": [{"context": "build", "state": "success", )" +
           status_fields + "}]}";
}

std::string entry_with(const std::string& fields) {
    return R"({"id": "0a1b2c3d-0000-4000-8000-000000000000", "ref": "refs/heads/main", )"
           R"("url": "http://ci.example/hook", "body": "{}", )" +
           fields + "}";
}

git_oid oid_of(const std::string& hex) {
    git_oid oid;
    REQUIRE(git_oid_fromstr(&oid, hex.c_str()) == 0);
    return oid;
}

} // namespace

TEST_CASE("damaged json: unix time bounds", "[parsers]") {
    CHECK_FALSE(unix_seconds_problem(0));
    CHECK_FALSE(unix_seconds_problem(max_unix_seconds));
    CHECK_THAT(*unix_seconds_problem(-1), Contains("negative"));
    CHECK_THAT(*unix_seconds_problem(now * 1000), Contains("milliseconds?"));
    CHECK(unix_seconds_problem(INT64_MAX));
    CHECK(unix_seconds_problem(INT64_MIN));
    CHECK_FALSE(future_time_problem(now + clock_skew_seconds, now));
    CHECK_THAT(*future_time_problem(now + clock_skew_seconds + 1, now),
               Contains("301 s in the future"));
    CHECK_FALSE(future_time_problem(0, now));
}

TEST_CASE("damaged json: status notes", "[parsers][status]") {
    const auto parse = [](const std::string& text) { return parse_status_note(text); };
    SECTION("numbers out of range are damage, not an exception of the JSON library") {
        expect_damaged(parse, R"({"build": {"state": "success", "n": 1e400}})", "out of range");
        expect_damaged(parse, R"({"build": {"state": "success", "n": -1e400}})", "out of range");
        expect_damaged(parse, R"({"build": 1e400})", "out of range");
        expect_damaged(parse, "1e400", "out of range");
    }
    SECTION("numbers, arrays and objects where strings belong") {
        expect_damaged(parse, R"({"build": {"state": 1.5}})", "'state' must be a string");
        expect_damaged(parse, status_with(R"("url": 9223372036854775807)"),
                       "status 'build': 'url' must be a string, not the number");
        expect_damaged(parse, status_with(R"("description": ["a"])"), "not an array");
        expect_damaged(parse, status_with(R"("by": {"name": "ci"})"), "not an object");
        expect_damaged(parse, status_with(R"("updated_at": 1795755056000)"),
                       "'updated_at' must be a string");
        expect_damaged(parse, R"({"build": "success"})", "must be an object, not a string");
        expect_damaged(parse, R"({"build": ["success"]})", "must be an object, not an array");
        expect_damaged(parse, R"({"": {"state": "success"}})", "empty context");
        expect_damaged(parse, R"([{"build": {"state": "success"}}])", "JSON object of contexts");
    }
    SECTION("what is well formed still parses, unknown fields included") {
        CHECK(parse_status_note(status_with(R"("url": null, "extra": 1e5)")).at("build").state ==
              "success");
    }
}

TEST_CASE("damaged json: combined-status answers", "[parsers][status]") {
    const auto parse = [](const std::string& text) { return parse_combined_status(text); };
    expect_damaged(parse, R"({"state": "success", "total_count": 1e400, "statuses": []})",
                   "out of range");
    expect_damaged(parse, answer_with(R"("id": -1e400)"), "out of range");
    expect_damaged(parse, answer_with(R"("target_url": 7)"), "'target_url' must be a string");
    expect_damaged(parse, answer_with(R"("description": {"text": "ok"})"),
                   "statuses[0]: 'description' must be a string, not an object");
    expect_damaged(parse, R"({"statuses": [{"context": ["build"], "state": "success"}]})",
                   "'context' must be a string, not an array");
    expect_damaged(parse, R"({"statuses": [{"context": "build", "state": 0}]})",
                   "'state' must be a string");
    expect_damaged(parse, R"({"statuses": {"context": "build"}})", "expected");
    expect_damaged(parse, R"({"statuses": [1e5]})", "must be an object, not the decimal number");
    // Large integers the APIs do send (ids) are fine where nobody reads them.
    CHECK(parse_combined_status(answer_with(R"("id": 18446744073709551615)")).count("build"));
}

TEST_CASE("damaged json: approvals notes", "[parsers][approval]") {
    const auto parse = [](const std::string& text) { return parse_approvals(text); };
    SECTION("'at' must be Unix seconds: an integer, not negative, not milliseconds") {
        expect_damaged(parse, approvals_with(R"("at": 1e400)"), "out of range");
        expect_damaged(parse, approvals_with(R"("at": -1e400)"), "out of range");
        expect_damaged(parse, approvals_with(R"("at": -9223372036854775808)"), "negative");
        expect_damaged(parse, approvals_with(R"("at": 9223372036854775807)"),
                       "'at' must be Unix seconds");
        expect_damaged(parse, approvals_with(R"("at": 18446744073709551615)"),
                       "'at' must be Unix seconds");
        expect_damaged(parse, approvals_with(R"("at": 1795755056000)"), "milliseconds?");
        expect_damaged(parse, approvals_with(R"("at": 1795755056.5)"),
                       "approvals[0]: 'at' must be Unix seconds (an integer), not the decimal");
        expect_damaged(parse, approvals_with(R"("at": 1e9)"), "not the decimal number");
        expect_damaged(parse, approvals_with(R"("at": "1795755056")"), "not a string");
        expect_damaged(parse, approvals_with(R"("at": null)"), "not null");
        expect_damaged(parse, approvals_with(R"("comment": "no time")"), "'at' is missing");
    }
    SECTION("strings where strings belong") {
        expect_damaged(parse, R"({"approvals": [{"by": ["alice"], "state": "approved", "at": 1}]})",
                       "'by' must be a string, not an array");
        expect_damaged(parse, R"({"approvals": [{"by": "alice", "state": {}, "at": 1}]})",
                       "'state' must be a string, not an object");
        expect_damaged(parse, approvals_with(R"("at": 1, "comment": 5)"),
                       "'comment' must be a string");
        expect_damaged(parse, R"({"approvals": [{"by": "", "state": "approved", "at": 1}]})",
                       "'by' is empty");
        expect_damaged(parse, R"({"approvals": {"by": "alice"}})", "must be an array");
        expect_damaged(parse, R"(["approvals"])", "expected {\"approvals\"");
        expect_damaged(parse, R"({"approvals": ["alice"]})", "must be an object, not a string");
        expect_damaged(parse, R"({})", "'approvals' is missing");
    }
    SECTION("a good note, with the largest time allowed, parses") {
        const auto decisions = parse_approvals(approvals_with(
            R"("at": )" + std::to_string(max_unix_seconds) + R"(, "comment": null)"));
        CHECK(decisions.at(0).at == max_unix_seconds);
        CHECK(decisions.at(0).comment.empty());
    }
}

TEST_CASE("damaged json: an approval from the future is not fresh, age never overflows",
          "[parsers][approval]") {
    const approval_rule rule{{"alice"}, 7, false};
    const std::vector<std::string> author{"Dev", "dev@example.com", "dev"};
    CHECK(judge_approvals({{"alice", true, now + clock_skew_seconds, ""}}, rule, author, now)
              .approved);
    const auto future = judge_approvals({{"alice", true, now + 30 * day, ""}}, rule, author, now);
    CHECK_FALSE(future.approved);
    CHECK_THAT(future.problem, Contains("the approval by alice is dated 2592000 s in the future"));
    // Judged later, the same approval counts once it is not ahead of the clock any more.
    CHECK(judge_approvals({{"alice", true, now + 30 * day, ""}}, rule, author, now + 30 * day)
              .approved);
    // A future-dated rejection still blocks.
    CHECK_FALSE(judge_approvals({{"alice", true, now, ""}, {"bob", false, max_unix_seconds, ""}},
                                rule, author, now)
                    .approved);
    // The policy's max_age_days is any non-negative integer: no overflow, no expiry.
    const approval_rule forever{{"alice"}, INT64_MAX, false};
    CHECK(judge_approvals({{"alice", true, 0, ""}}, forever, author, now).approved);
    const approval_rule same_day{{"alice"}, 0, false};
    CHECK_FALSE(judge_approvals({{"alice", true, now - 1, ""}}, same_day, author, now).approved);
}

TEST_CASE("damaged json: spool entries", "[parsers][spool]") {
    const auto parse = [](const std::string& text) { return parse_entry(text, now); };
    const auto created = R"("created_at": )" + std::to_string(now);
    SECTION("a good entry parses; an old one without order sorts by creation") {
        const auto entry = parse_entry(entry_with(created), now);
        CHECK(entry.created_at == now);
        CHECK(entry.order == now * 1000000000);
        CHECK(entry.timeout_ms == 5000);
        spool_entry written = entry;
        written.attempts = 3;
        written.last_status = 503;
        written.next_try = now + 900;
        CHECK(parse_entry(entry_json(written), now).next_try == now + 900);
    }
    SECTION("created_at: an integer of Unix seconds, not in the future") {
        expect_damaged(parse, entry_with(R"("created_at": 1e400)"), "out of range");
        expect_damaged(parse, entry_with(R"("created_at": -1e400)"), "out of range");
        expect_damaged(parse, entry_with(R"("created_at": -9223372036854775808)"), "negative");
        expect_damaged(parse, entry_with(R"("created_at": 9223372036854775807)"),
                       "'created_at' must be Unix seconds: 9223372036854775807 is later than "
                       "year 9999");
        expect_damaged(parse, entry_with(R"("created_at": 1800000000000)"), "milliseconds?");
        expect_damaged(parse, entry_with(R"("created_at": 1800000000.5)"), "(an integer)");
        expect_damaged(parse, entry_with(R"("created_at": "1800000000")"), "not a string");
        expect_damaged(parse, entry_with(R"("created_at": )" + std::to_string(now + day)),
                       "'created_at' is dated 86400 s in the future");
        expect_damaged(parse, entry_with(R"("ref": "x")"), "'created_at' is missing");
    }
    SECTION("the other numbers: integers in range") {
        const std::string base = created + ", ";
        expect_damaged(parse, entry_with(base + R"("order": -1)"), "'order' must be between 0");
        expect_damaged(parse, entry_with(base + R"("order": 1.5e18)"),
                       "'order' must be an integer");
        expect_damaged(parse, entry_with(base + R"("order": 18446744073709551615)"), "'order'");
        expect_damaged(parse, entry_with(base + R"("next_try": 1e400)"), "out of range");
        expect_damaged(parse, entry_with(base + R"("next_try": )" + std::to_string(now * 1000)),
                       "milliseconds?");
        expect_damaged(parse, entry_with(base + R"("next_try": )" + std::to_string(now + 9 * day)),
                       "'next_try' is more than a day ahead");
        expect_damaged(parse, entry_with(base + R"("attempts": -1)"), "'attempts' must be between");
        expect_damaged(parse, entry_with(base + R"("attempts": 2.0)"), "must be an integer");
        expect_damaged(parse, entry_with(base + R"("timeout_ms": 0)"), "'timeout_ms'");
        expect_damaged(parse, entry_with(base + R"("timeout_ms": 1e400)"), "out of range");
        expect_damaged(parse, entry_with(base + R"("timeout_ms": 9223372036854775807)"),
                       "'timeout_ms' must be between 1 and 600000");
        expect_damaged(parse, entry_with(base + R"("last_status": 70000)"), "'last_status'");
        expect_damaged(parse, entry_with(base + R"("last_status": "503")"), "not a string");
        expect_damaged(parse, entry_with(base + R"("delivered_at": -5)"), "negative");
        expect_damaged(parse, entry_with(base + R"("delivered_at": )" + std::to_string(now + day)),
                       "'delivered_at' is dated");
    }
    SECTION("strings where strings belong") {
        const std::string base = created + ", ";
        expect_damaged(parse, entry_with(base + R"("secret_env": ["A"])"),
                       "'secret_env' must be a string, not an array");
        expect_damaged(parse, entry_with(base + R"("state": {"s": 1})"),
                       "'state' must be a string");
        expect_damaged(parse, entry_with(base + R"("last_error": 404)"), "'last_error'");
        expect_damaged(parse, R"({"id": 7, "ref": "r", "url": "u", "body": "", "created_at": 1})",
                       "'id' must be a string");
        expect_damaged(parse, "[1e400]", "out of range");
        expect_damaged(parse, "[]", "must be a JSON object");
    }
}

TEST_CASE("damaged json: a damaged note is reported by the gates and replaced by its writers",
          "[parsers][gates]") {
    libgit2_guard libgit2;
    testing::git_sandbox sandbox;
    const auto base = sandbox.commit("feat: base");
    const auto tip = sandbox.commit("feat: tip");
    sandbox.git({"update-ref", "refs/heads/main", base});
    const auto judge = [&](const std::string& policy_text) {
        const auto rules_policy = parse_policy(policy_text, "p.toml");
        const auto repo = open_repository(sandbox.clone());
        const push_context context{"dev", {}, static_cast<std::int64_t>(std::time(nullptr))};
        return evaluate(repo.get(), rules_policy, {{base, tip, "refs/heads/main"}}, context);
    };
    const auto write_note = [&](const std::string& ref, const std::string& text) {
        REQUIRE(sandbox.git({"notes", "--ref", ref, "add", "-f", "-m", text, tip}).status == 0);
    };

    SECTION("a damaged status note blocks as damaged, even with on_error = allow") {
        write_note("trunkgate/checks", R"({"build": {"state": "success", "n": 1e400}})");
        const std::string policy_text = R"(
[[protect]]
refs = ["refs/heads/main"]
required_checks = ["build"]
[checks.http]
on_error = "allow"
)";
        const auto result = judge(policy_text);
        REQUIRE(result.found.size() == 1);
        CHECK(result.found[0].rule == "required-checks");
        CHECK(result.found[0].severity == level::block);
        CHECK_THAT(result.found[0].message,
                   Contains("the status note of " + tip.substr(0, 7) +
                            " on refs/notes/trunkgate/checks is damaged: a number out of range"));
        CHECK_THAT(result.found[0].hint, Contains("trunkgate status set " + tip.substr(0, 7)));

        const auto repo = open_repository(sandbox.clone());
        const auto replaced =
            record_status(repo.get(), "refs/notes/trunkgate/checks", oid_of(tip), "build",
                          {"success", "", "", "2027-01-15T08:00:00+00:00", "ci-bot"});
        REQUIRE(replaced);
        CHECK_THAT(*replaced, Contains("out of range"));
        CHECK(judge(policy_text).found.empty());
        CHECK_FALSE(record_status(repo.get(), "refs/notes/trunkgate/checks", oid_of(tip), "lint",
                                  {"success", "", "", "", "ci-bot"}));
    }

    SECTION("a damaged approvals note approves nothing, says so, and an approval replaces it") {
        write_note("trunkgate/approvals",
                   approvals_with(R"("at": )" + std::to_string(std::time(nullptr) * 1000)));
        const std::string policy_text = R"(
[[protect]]
refs = ["refs/heads/main"]
require_approval = { approvers = ["alice"] }
)";
        const auto result = judge(policy_text);
        REQUIRE(result.found.size() == 1);
        CHECK(result.found[0].rule == "approval");
        CHECK_THAT(result.found[0].message,
                   Contains("the approvals note of " + tip.substr(0, 7) +
                            " on refs/notes/trunkgate/approvals is damaged: approvals[0]: 'at' "
                            "must be Unix seconds"));
        CHECK_THAT(result.found[0].hint, Contains("replaces the damaged note"));

        const auto repo = open_repository(sandbox.clone());
        const auto replaced = record_approval(repo.get(), oid_of(tip),
                                              {"alice", true, std::time(nullptr), "looked again"});
        REQUIRE(replaced);
        CHECK_THAT(*replaced, Contains("milliseconds?"));
        CHECK(judge(policy_text).found.empty());
    }
}
