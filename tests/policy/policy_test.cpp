#include <catch2/catch.hpp>

#include "support/sandbox.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/error.hpp"

using namespace trunkgate;

namespace {

// Asserts that `text` fails to load at `line`:`column` with a message containing `problem`;
// failures are reported at the caller's file and line.
void policy_should_fail(const char* file, int caller_line, const std::string& text,
                        std::size_t line, std::size_t column, const std::string& problem) {
    INFO("called from " << file << ":" << caller_line);
    try {
        parse_policy(text, "p.toml");
        FAIL("the policy loaded, but it should not:\n" << text);
    } catch (const policy_error& e) {
        CHECK(e.file() == "p.toml");
        CHECK(e.line() == line);
        CHECK(e.column() == column);
        CHECK_THAT(e.problem(), Catch::Contains(problem));
        CHECK_THAT(std::string(e.what()), Catch::StartsWith("p.toml:" + std::to_string(line) + ":" +
                                                            std::to_string(column) + ": "));
    }
}
#define POLICY_SHOULD_FAIL(...) policy_should_fail(__FILE__, __LINE__, __VA_ARGS__)

} // namespace

TEST_CASE("policy: the shipped template loads with the documented values", "[policy]") {
    const auto loaded = load_policy(testing::source_path("templates/policy/trunk-based.toml"));
    CHECK(loaded.mode == policy_mode::enforce);
    CHECK(loaded.trunk_ref() == "refs/heads/main");
    REQUIRE(loaded.protect.size() == 1);
    CHECK(loaded.protect[0].refs ==
          std::vector<std::string>{"refs/heads/main", "refs/heads/release/*"});
    CHECK(loaded.protect[0].linear_history);
    CHECK_FALSE(loaded.protect[0].allow_force_push);
    CHECK(loaded.branches.max_behind == 50);
    CHECK(loaded.branches.max_age_days == 3);
    CHECK(loaded.branches.max_ahead == 200);
    REQUIRE(loaded.branches.name_pattern);
    CHECK(loaded.branches.name_pattern->search("refs/heads/feature/login"));
    CHECK_FALSE(loaded.branches.name_pattern->search("refs/heads/Feature/login"));
    REQUIRE(loaded.tags.name_pattern);
    CHECK(loaded.tags.name_pattern->search("refs/tags/v1.2.3-rc.1"));
    CHECK(loaded.tags.immutable);
    CHECK(loaded.level_of("branch-age", level::block) == level::warn);
    CHECK(loaded.level_of("up-to-date", level::block) == level::block);
}

TEST_CASE("policy: the promotion template loads with its three stages", "[policy]") {
    const auto loaded = load_policy(testing::source_path("templates/policy/promotion.toml"));
    REQUIRE(loaded.protect.size() == 3);
    CHECK(loaded.protect[0].required_checks == std::vector<std::string>{"build", "unit-tests"});
    CHECK(loaded.protect[1].promote_from == "refs/heads/main");
    CHECK(loaded.protect[2].promote_from == "refs/heads/staging");
    REQUIRE(loaded.protect[2].require_approval);
    CHECK(loaded.protect[2].require_approval->max_age_days == 7);
    CHECK_FALSE(loaded.protect[2].require_approval->allow_self);
    CHECK(loaded.checks.writers == std::vector<std::string>{"ci-bot"});
    CHECK(loaded.bypass_identities == std::vector<std::string>{"release-manager"});
    REQUIRE(loaded.events.endpoints.size() == 1);
    CHECK(loaded.events.endpoints[0].secret_env == "TRUNKGATE_WEBHOOK_SECRET");
}

TEST_CASE("policy: defaults of an empty policy", "[policy]") {
    const auto empty = parse_policy("", "p.toml");
    CHECK(empty.mode == policy_mode::enforce);
    CHECK(empty.trunk_branch == "main");
    CHECK(empty.protect.empty());
    CHECK_FALSE(empty.branches.max_behind);
    CHECK_FALSE(empty.branches.max_ahead);
    CHECK_FALSE(empty.branches.max_age_days);
    CHECK(empty.tags.immutable);
    CHECK(empty.identity_env.front() == "TRUNKGATE_USER");
    CHECK(empty.identity_env.size() == 5);
}

TEST_CASE("policy: protections match by glob, every matching entry applies", "[policy]") {
    const auto loaded = parse_policy(R"(
[[protect]]
refs = ["refs/heads/main", "refs/heads/release/*"]
[[protect]]
refs = ["refs/heads/release/*"]
allow_delete = true
push_allowed = ["release-*"]
)",
                                     "p.toml");
    CHECK(loaded.protections_for("refs/heads/main").size() == 1);
    CHECK(loaded.protections_for("refs/heads/release/1.2").size() == 2);
    CHECK(loaded.protections_for("refs/heads/release/1/hotfix").size() == 2);
    CHECK(loaded.protections_for("refs/heads/feature/x").empty());
    CHECK(loaded.protect[1].push_allowed == std::vector<std::string>{"release-*"});
}

TEST_CASE("policy: [report] deploy refs default to the refs with promote_from", "[policy]") {
    const auto promotion = load_policy(testing::source_path("templates/policy/promotion.toml"));
    CHECK(promotion.deploy_refs() ==
          std::vector<std::string>{"refs/heads/staging", "refs/heads/production"});
    CHECK(promotion.report.failure_window_days == 7);
    const auto chosen = parse_policy("[[protect]]\nrefs = [\"refs/heads/staging\"]\n"
                                     "promote_from = \"refs/heads/main\"\n"
                                     "[report]\ndeploy_refs = [\"refs/heads/release/*\"]\n"
                                     "failure_window_days = 3\n",
                                     "t.toml");
    CHECK(chosen.deploy_refs() == std::vector<std::string>{"refs/heads/release/*"});
    CHECK(chosen.report.failure_window_days == 3);
    CHECK(parse_policy("", "t.toml").deploy_refs().empty());
}

TEST_CASE("policy: every error names file, line, column and problem", "[policy]") {
    SECTION("[report] takes full ref names and a window of 1 to 366 days") {
        POLICY_SHOULD_FAIL("[report]\ndeploy_refs = [\"production\"]\n", 2, 15,
                           "'report.deploy_refs' holds full ref names");
        POLICY_SHOULD_FAIL("[report]\nfailure_window_days = 0\n", 2, 23,
                           "'report.failure_window_days' is a number of days");
        POLICY_SHOULD_FAIL("[report]\ndeploy_ref = []\n", 2, 1, "unknown key 'report.deploy_ref'");
    }
    SECTION("TOML syntax") {
        POLICY_SHOULD_FAIL("mode = \"enforce\"\n[trunk\n", 2, 7, "");
    }
    SECTION("unknown top-level key") {
        POLICY_SHOULD_FAIL("mode = \"enforce\"\nmod = 1\n", 2, 1, "unknown key 'mod'");
    }
    SECTION("unknown key in a table (a typo must not disable a rule)") {
        POLICY_SHOULD_FAIL("[branches]\nmax_behnd = 5\n", 2, 1, "unknown key 'branches.max_behnd'");
    }
    SECTION("unknown key in [[protect]]") {
        POLICY_SHOULD_FAIL("[[protect]]\nrefs = [\"refs/heads/main\"]\nallow_force = true\n", 3, 1,
                           "unknown key 'protect.allow_force'");
    }
    SECTION("bad mode") {
        POLICY_SHOULD_FAIL("mode = \"strict\"\n", 1, 8, "'mode' must be");
    }
    SECTION("wrong type: string for a count") {
        POLICY_SHOULD_FAIL("[branches]\nmax_behind = \"50\"\n", 2, 14,
                           "'branches.max_behind' must be a non-negative integer");
    }
    SECTION("negative count") {
        POLICY_SHOULD_FAIL("[branches]\nmax_ahead = -1\n", 2, 13, "non-negative integer");
    }
    SECTION("wrong type: string for a boolean") {
        POLICY_SHOULD_FAIL("[[protect]]\nrefs = [\"refs/heads/main\"]\nlinear_history = \"yes\"\n",
                           3, 18, "must be true or false");
    }
    SECTION("wrong type: string instead of a list") {
        POLICY_SHOULD_FAIL("[[protect]]\nrefs = \"refs/heads/main\"\n", 2, 8,
                           "must be an array of strings");
    }
    SECTION("a list with a non-string") {
        POLICY_SHOULD_FAIL("[[protect]]\nrefs = [\"refs/heads/main\", 3]\n", 2, 28, "only strings");
    }
    SECTION("[[protect]] without refs") {
        POLICY_SHOULD_FAIL("[[protect]]\nallow_delete = true\n", 1, 1, "needs 'refs'");
    }
    SECTION("empty refs") {
        POLICY_SHOULD_FAIL("[[protect]]\nrefs = []\n", 2, 8, "must not be empty");
    }
    SECTION("[protect] as a table instead of an array of tables") {
        POLICY_SHOULD_FAIL("[protect]\nrefs = [\"x\"]\n", 1, 1, "array of tables");
    }
    SECTION("[branches] as a value") {
        POLICY_SHOULD_FAIL("branches = 3\n", 1, 12, "must be a table");
    }
    SECTION("invalid RE2 pattern") {
        POLICY_SHOULD_FAIL("[branches]\nname_pattern = '^refs/heads/(feature'\n", 2, 16,
                           "'branches.name_pattern' is not a valid RE2 pattern: missing )");
    }
    SECTION("a backreference, which RE2 refuses (linear time)") {
        POLICY_SHOULD_FAIL("[tags]\nname_pattern = '(a)\\1'\n", 2, 16, "not a valid RE2 pattern");
    }
    SECTION("unknown rule id in [enforcement]") {
        POLICY_SHOULD_FAIL("[enforcement]\nbranch-ages = \"warn\"\n", 2, 1,
                           "unknown rule id 'branch-ages'");
    }
    SECTION("policy-error cannot be turned off") {
        POLICY_SHOULD_FAIL("[enforcement]\npolicy-error = \"off\"\n", 2, 1, "unknown rule id");
    }
    SECTION("bad level") {
        POLICY_SHOULD_FAIL("[enforcement]\nforce-push = \"warning\"\n", 2, 14,
                           "must be \"block\", \"warn\" or \"off\"");
    }
    SECTION("trunk branch given as a full ref") {
        POLICY_SHOULD_FAIL("[trunk]\nbranch = \"refs/heads/main\"\n", 2, 10, "branch name");
    }
    SECTION("empty identity list") {
        POLICY_SHOULD_FAIL("[identity]\nenv = []\n", 2, 7, "must not be empty");
    }
}

TEST_CASE("policy: loading and locating files", "[policy]") {
    testing::temp_dir dir;
    SECTION("a missing file is a policy error without a position") {
        try {
            load_policy(dir / "absent.toml");
            FAIL("loaded a missing file");
        } catch (const policy_error& e) {
            CHECK(e.line() == 0);
            CHECK_THAT(e.problem(), Catch::Contains("cannot read"));
        }
    }
    SECTION("lookup order: explicit, git config, $GIT_DIR/trunkgate.toml, the server-wide policy") {
        const auto git_dir = dir.path() + "/repo.git/";
        const auto server_wide = dir / "etc-policy.toml";
        const auto found = [&](const std::optional<std::string>& explicit_path,
                               const std::optional<std::string>& configured) {
            const auto location = find_policy(explicit_path, configured, git_dir, server_wide);
            return location.path + " " + describe(location.origin);
        };
        testing::write_file(server_wide, "");
        CHECK(found(std::string("/etc/p.toml"), std::string("cfg.toml")) ==
              "/etc/p.toml TRUNKGATE_POLICY or --policy");
        CHECK(found(std::string(""), std::string("cfg.toml")) ==
              git_dir + "cfg.toml git config trunkgate.policy");
        CHECK(found(std::nullopt, std::string("/abs.toml")) ==
              "/abs.toml git config trunkgate.policy");
        // Nothing of the repository's own: the server-wide policy.
        CHECK(found(std::nullopt, std::string("")) == server_wide + " the server-wide policy");
        // The repository's own file wins over the server-wide one.
        testing::write_file(git_dir + "trunkgate.toml", "");
        CHECK(found(std::nullopt, std::nullopt) ==
              git_dir + "trunkgate.toml $GIT_DIR/trunkgate.toml");
        CHECK(locate_policy(std::nullopt, std::nullopt, git_dir) == git_dir + "trunkgate.toml");
    }
    SECTION("no policy anywhere: missing_policy_error, naming the server-wide file looked at") {
        const auto git_dir = dir.path() + "/";
        try {
            find_policy(std::nullopt, std::nullopt, git_dir, dir / "absent.toml");
            FAIL("found a policy where there is none");
        } catch (const missing_policy_error& e) {
            CHECK(e.file() == git_dir + "trunkgate.toml");
            CHECK_THAT(e.problem(), Catch::Contains("no policy found") &&
                                        Catch::Contains("the server-wide " + dir / "absent.toml"));
        }
        CHECK_THROWS_AS(find_policy(std::nullopt, std::nullopt, git_dir, ""), missing_policy_error);
        CHECK_THROWS_WITH(find_policy(std::nullopt, std::nullopt, git_dir, ""),
                          Catch::Contains("which TRUNKGATE_SYSTEM_POLICY turns off"));
    }
    SECTION(
        "the server-wide policy's path: TRUNKGATE_SYSTEM_POLICY, '' for none, else the default") {
        CHECK(server_policy_path(std::nullopt) == default_server_policy());
        CHECK(server_policy_path(std::string("/srv/policy.toml")) == "/srv/policy.toml");
        CHECK(server_policy_path(std::string("")).empty());
    }
}

TEST_CASE("policy: endpoint and status API URLs are validated, credentials stay out of URLs",
          "[policy][events]") {
    POLICY_SHOULD_FAIL("[[events.endpoint]]\nurl = \"http://\"\n", 2, 7, "is not usable");
    POLICY_SHOULD_FAIL("[[events.endpoint]]\nurl = \"https://ci.example/a b\"\n", 2, 7,
                       "white space");
    POLICY_SHOULD_FAIL("[[events.endpoint]]\nurl = \"ftp://ci.example/x\"\n", 2, 7,
                       "not an http:// or https:// URL");
    POLICY_SHOULD_FAIL("[[events.endpoint]]\nurl = \"https://ci.example:99999/x\"\n", 2, 7,
                       "is not usable");
    POLICY_SHOULD_FAIL("[[events.endpoint]]\nurl = \"https://deploy:pw@ci.example/x\"\n", 2, 7,
                       "holds credentials (user:password@), which would be written to disk; put "
                       "\"user:password\" in 'auth_env' or 'auth_file' instead");
    // The refused URL is named without the password.
    try {
        parse_policy("[[events.endpoint]]\nurl = \"https://deploy:pw-1x@ci.example/x\"\n", "p");
        FAIL("loaded");
    } catch (const policy_error& e) {
        CHECK(std::string(e.what()).find("pw-1x") == std::string::npos);
        CHECK_THAT(e.what(), Catch::Contains("https://***@ci.example/x"));
    }
    POLICY_SHOULD_FAIL("[[events.endpoint]]\nurl = \"https://ci.example/x\"\nauth_env = \"A\"\n"
                       "auth_file = \"/f\"\n",
                       4, 13, "give either 'auth_env' or 'auth_file', not both");
    POLICY_SHOULD_FAIL("[checks.http]\nurl = \"https://git.example:port/{owner}/{repo}/{sha}\"\n",
                       2, 7, "'checks.http.url'");
    POLICY_SHOULD_FAIL("[checks.http]\ncheck_runs_url = \"https://git.example/{sha} runs\"\n", 2,
                       18,
                       "'checks.http.check_runs_url' https://git.example/{sha} runs is not "
                       "usable: it contains white space");
    POLICY_SHOULD_FAIL("[checks]\nsource = \"http\"\n[checks.http]\ntoken_env = \"T\"\n", 1, 1,
                       "source = \"http\" needs [checks.http] url or check_runs_url");
    const auto runs_only =
        parse_policy("[checks]\nsource = \"http\"\n[checks.http]\ncheck_runs_url = "
                     "\"https://api.github.com/repos/{owner}/{repo}/commits/{sha}/check-runs\"\n",
                     "p.toml");
    CHECK(runs_only.checks.http_url.empty());
    CHECK(runs_only.checks.http_check_runs_url ==
          "https://api.github.com/repos/{owner}/{repo}/commits/{sha}/check-runs");

    const auto loaded = parse_policy(
        "[checks.http]\nurl = \"https://git.example/api/v3/repos/{owner}/{repo}/commits/{sha}/"
        "status\"\n\n[[events.endpoint]]\nurl = \"https://ci.example:8443/hook?token=x\"\n"
        "auth_file = \"/etc/trunkgate/ci-auth\"\n",
        "p.toml");
    REQUIRE(loaded.events.endpoints.size() == 1);
    CHECK(loaded.events.endpoints[0].auth_file == "/etc/trunkgate/ci-auth");
    CHECK(loaded.events.endpoints[0].auth_env.empty());
}

TEST_CASE("policy: size and value-count limits keep a hostile policy from taking the server",
          "[policy][limits]") {
    std::string huge = "# " + std::string(max_policy_bytes, 'x') + "\n";
    POLICY_SHOULD_FAIL(huge, 0, 0, "at most 1048576 (1 MiB) are read");

    std::string many = "[commits]\nforbidden_paths = [";
    for (std::size_t i = 0; i <= max_policy_values; ++i)
        many += "\"p" + std::to_string(i) + "\",";
    many += "]\n";
    POLICY_SHOULD_FAIL(many, 2, 19, "more than 10000 values in its arrays");

    SECTION("the file is not read past the limit") {
        testing::temp_dir dir;
        testing::write_file(dir / "big.toml", huge);
        CHECK_THROWS_WITH(load_policy(dir / "big.toml"),
                          Catch::Contains("the policy is 1048579 bytes; at most"));
    }
}

TEST_CASE("policy: [events] limits have defaults and are validated", "[policy]") {
    const auto defaults = parse_policy("", "p.toml");
    CHECK(defaults.events.max_message_bytes == 65536);
    CHECK(defaults.events.max_payload_bytes == 26214400);
    const auto set = parse_policy(
        "[events]\nmax_message_bytes = \"4 KiB\"\nmax_payload_bytes = 100000\n", "p.toml");
    CHECK(set.events.max_message_bytes == 4096);
    CHECK(set.events.max_payload_bytes == 100000);
    POLICY_SHOULD_FAIL("[events]\nmax_payload_bytes = 100\n", 2, 21, "at least 4096");
    POLICY_SHOULD_FAIL("[events]\nmax_message_bytes = 0\n", 2, 21, "between 1 and");
    POLICY_SHOULD_FAIL("[events]\nmax_payload_bytes = 5000\nmax_message_bytes = 6000\n", 3, 21,
                       "between 1 and 'events.max_payload_bytes' (5000)");
    POLICY_SHOULD_FAIL("[events]\nmax_message_bytes = \"lots\"\n", 2, 21, "must be a size");
    POLICY_SHOULD_FAIL("[events]\nmax_age_hours = 9223372036854775807\n", 2, 17,
                       "at most 87600 (ten years)");
}
