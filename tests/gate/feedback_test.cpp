#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "trunkgate/gate/evaluate.hpp"
#include "trunkgate/gate/feedback.hpp"

using namespace trunkgate;

namespace {

finding make(std::string rule, level severity, std::string ref, std::string message,
             std::string hint = "") {
    finding item;
    item.rule = std::move(rule);
    item.severity = severity;
    item.ref = std::move(ref);
    item.message = std::move(message);
    item.hint = std::move(hint);
    return item;
}

} // namespace

TEST_CASE("feedback: text groups findings by ref under one header", "[feedback]") {
    verdict result;
    result.policy_name = "trunkgate.toml";
    result.found.push_back(make("force-push", level::block, "refs/heads/main", "not a fast-forward",
                                "git pull --rebase origin main && git push origin main"));
    result.found.push_back(make("branch-age", level::warn, "refs/heads/feature/x", "old"));
    result.found.push_back(
        make("linear-history", level::block, "refs/heads/main", "merge commit abc"));
    CHECK(render_text(result) ==
          "trunkgate: push rejected: 2 problems, 1 warning (policy trunkgate.toml)\n"
          "  refs/heads/main  [force-push] not a fast-forward\n"
          "      hint: git pull --rebase origin main && git push origin main\n"
          "  refs/heads/main  [linear-history] merge commit abc\n"
          "  refs/heads/feature/x  [branch-age] warning: old\n");
}

TEST_CASE("feedback: warnings only, contact, and no findings", "[feedback]") {
    verdict result;
    result.policy_name = "p.toml";
    CHECK(render_text(result).empty());
    result.found.push_back(make("branch-age", level::warn, "refs/heads/f", "old", "merge it"));
    result.contact = "#git-admins";
    CHECK(render_text(result) == "trunkgate: push accepted with 1 warning (policy p.toml)\n"
                                 "  refs/heads/f  [branch-age] warning: old\n"
                                 "      hint: merge it\n");
    result.found.push_back(make("force-push", level::block, "refs/heads/main", "no"));
    CHECK_THAT(render_text(result), Catch::EndsWith("  questions: #git-admins\n"));
}

TEST_CASE("feedback: hostile ref names and messages cannot forge lines", "[feedback]") {
    verdict result;
    result.found.push_back(make("branch-name", level::block,
                                "refs/heads/x\nremote: all good\x1b[0m", "subject \"a\nb\""));
    const auto text = render_text(result);
    CHECK(text.find("\nremote: all good") == std::string::npos);
    CHECK_THAT(text, Catch::Contains("refs/heads/x\\nremote: all good\\x1b[0m"));
    CHECK_THAT(text, Catch::Contains("subject \"a\\nb\""));
}

TEST_CASE("feedback: JSON carries every field with nulls where nothing was measured",
          "[feedback]") {
    verdict result;
    auto measured = make("up-to-date", level::block, "refs/heads/f", "57 behind", "rebase");
    measured.value = 57;
    measured.limit = 50;
    measured.commit = std::string(40, 'a');
    result.found.push_back(measured);
    result.found.push_back(make("tag-name", level::warn, "refs/tags/\xff", "bad"));
    const auto document = nlohmann::json::parse(render_json(result));
    CHECK(document["decision"] == "reject");
    CHECK(document["mode"] == "enforce");
    REQUIRE(document["findings"].size() == 2);
    const auto& first = document["findings"][0];
    CHECK(first["rule"] == "up-to-date");
    CHECK(first["level"] == "block");
    CHECK(first["ref"] == "refs/heads/f");
    CHECK(first["commit"] == std::string(40, 'a'));
    CHECK(first["value"] == 57);
    CHECK(first["limit"] == 50);
    CHECK(first["message"] == "57 behind");
    CHECK(first["hint"] == "rebase");
    const auto& second = document["findings"][1];
    CHECK(second["commit"].is_null());
    CHECK(second["value"].is_null());
    CHECK(second["limit"].is_null());
    CHECK(second["level"] == "warn");
    CHECK(second["ref"] == "refs/tags/\xef\xbf\xbd"); // invalid UTF-8 replaced, never a throw
}

TEST_CASE("feedback: a policy failure and an internal error reject in one line", "[feedback]") {
    const auto failed =
        policy_failure(policy_error("/srv/git/p.git/trunkgate.toml", 3, 7, "unknown key 'x'"));
    CHECK(failed.rejected());
    const auto text = render_text(failed);
    CHECK_THAT(text,
               Catch::StartsWith(
                   "trunkgate: push rejected: 1 problem (policy /srv/git/p.git/trunkgate.toml)\n"
                   "  [policy-error] /srv/git/p.git/trunkgate.toml:3:7: unknown key 'x'\n"));
    CHECK(render_internal_error("read commit: object not found", "#git-admins") ==
          "trunkgate: internal error, push rejected to be safe: read commit: object not found (ask "
          "#git-admins)\n");
}
