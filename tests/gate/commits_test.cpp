// The commit rules ([commits]): each allowed and blocked, over commits a push adds.
#include <catch2/catch.hpp>

#include <unistd.h>

#include "support/sandbox.hpp"
#include "trunkgate/gate/commits.hpp"
#include "trunkgate/gate/evaluate.hpp"
#include "trunkgate/gate/feedback.hpp"
#include "trunkgate/gate/rules.hpp"
#include "trunkgate/history/git.hpp"

using namespace trunkgate;

namespace {

const std::string zero(40, '0');

// A repository with one published commit on main; new commits are made on a detached HEAD, so
// no ref holds them yet, exactly like pushed commits sitting in git's quarantine.
struct commit_fixture {
    libgit2_guard libgit2;
    testing::git_sandbox sandbox;
    std::string base;
    commit_fixture() {
        base = sandbox.commit("chore: base", "README");
        sandbox.git({"checkout", "-q", "--detach"});
    }
    std::string commit_file(const std::string& message, const std::string& path,
                            const std::string& content,
                            const std::map<std::string, std::string>& env = {}) {
        testing::write_file(sandbox.clone() + "/" + path, content);
        REQUIRE(sandbox.git({"add", "--", path}).status == 0);
        testing::write_file(sandbox.dir() + "/message", message); // may exceed the argv limit
        REQUIRE(
            sandbox
                .git({"commit", "-q", "--allow-empty-message", "-F", sandbox.dir() + "/message"},
                     env)
                .status == 0);
        return sandbox.clone_rev("HEAD");
    }
    // Sets each updated ref to its old value first, as the server has it before the push.
    verdict judge(const std::string& commits_table, const std::vector<ref_update>& updates) {
        for (const auto& update : updates)
            if (update.old_hex != zero)
                REQUIRE(sandbox.git({"update-ref", update.ref, update.old_hex}).status == 0);
        const auto rules_policy = parse_policy("[commits]\n" + commits_table, "p.toml");
        const auto repo = open_repository(sandbox.clone());
        return evaluate(repo.get(), rules_policy, updates, push_context{"dev", {}, 0});
    }
    verdict judge_tip(const std::string& commits_table, const std::string& tip) {
        return judge(commits_table, {{base, tip, "refs/heads/feature/x"}});
    }
};

std::vector<std::string> rule_ids(const verdict& result) {
    std::vector<std::string> ids;
    for (const auto& item : result.found)
        ids.push_back(item.rule);
    return ids;
}

} // namespace

TEST_CASE("commits: path globs are gitignore-style", "[commits]") {
    const auto globs = compile_path_patterns(
        {"*.pem", "**/id_rsa", "secrets/**", "build/", "doc/*.txt", "[ab].cfg"});
    CHECK(globs.match("key.pem") == "*.pem");
    CHECK(globs.match("deep/dir/key.pem") == "*.pem");
    CHECK_FALSE(globs.match("key.pem.txt"));
    CHECK(globs.match("id_rsa") == "**/id_rsa");
    CHECK(globs.match("home/u/.ssh/id_rsa") == "**/id_rsa");
    CHECK_FALSE(globs.match("id_rsa.pub"));
    CHECK(globs.match("secrets/prod/db.yml") == "secrets/**");
    CHECK_FALSE(globs.match("app/secrets/db.yml"));
    CHECK(globs.match("build/out.o") == "build/");
    CHECK(globs.match("sub/build/out.o") == "build/");
    CHECK(globs.match("doc/a.txt") == "doc/*.txt");
    CHECK_FALSE(globs.match("doc/sub/a.txt"));
    CHECK(globs.match("a.cfg") == "[ab].cfg");
    CHECK_FALSE(compile_path_patterns({"c[!a]b.txt"}).match("c/b.txt"));
    CHECK(compile_path_patterns({"c[!a]b.txt"}).match("cxb.txt"));
    CHECK(compile_path_patterns(secret_file_globs()).match("deploy/.aws/credentials"));
    CHECK_FALSE(globs.match("c.cfg"));
    CHECK_FALSE(compile_path_patterns({}).match("anything"));
    const auto secrets = compile_path_patterns(secret_file_globs());
    CHECK(secrets.match("config/.env"));
    CHECK(secrets.match("ops/terraform.tfstate"));
    CHECK(secrets.match("certs/server.key"));
    CHECK_FALSE(secrets.match("src/keyboard.c"));
}

TEST_CASE("commits: sizes parse with binary and decimal units", "[commits]") {
    CHECK(parse_size("5 MiB") == 5 * 1024 * 1024);
    CHECK(parse_size("5MiB") == 5 * 1024 * 1024);
    CHECK(parse_size("100") == 100);
    CHECK(parse_size("2 KB") == 2000);
    CHECK(parse_size("1 GiB") == 1LL << 30);
    CHECK(parse_size("12 B") == 12);
    CHECK_FALSE(parse_size("5 mb"));
    CHECK_FALSE(parse_size(""));
    CHECK_FALSE(parse_size("MiB"));
    CHECK_FALSE(parse_size("-1"));
    CHECK_FALSE(parse_size("99999999999999999999"));
    CHECK_FALSE(parse_size("9999999999 GiB"));
}

TEST_CASE("commits: [commits] keys are validated", "[commits][policy]") {
    CHECK_THROWS_WITH(parse_policy("[commits]\nmax_file_size = \"5 Mb\"\n", "p.toml"),
                      Catch::Contains("p.toml:2:17: 'commits.max_file_size' must be a size"));
    CHECK_THROWS_WITH(parse_policy("[commits]\nmessage_pattern = '('\n", "p.toml"),
                      Catch::Contains("not a valid RE2 pattern"));
    CHECK_THROWS_WITH(parse_policy("[commits]\nforbidden_paths = \"*.pem\"\n", "p.toml"),
                      Catch::Contains("must be an array of strings"));
    CHECK_THROWS_WITH(parse_policy("[commits]\nmax_changed = 3\n", "p.toml"),
                      Catch::Contains("unknown key 'commits.max_changed'"));
    const auto loaded =
        parse_policy("[commits]\nmax_file_size = 1024\nsecret_files = true\n", "p.toml");
    REQUIRE(loaded.commits);
    CHECK(loaded.commits->max_file_size == 1024);
    CHECK(loaded.commits->any());
    CHECK_FALSE(parse_policy("[commits]\n", "p.toml").commits->any());
}

TEST_CASE("commits: commit-message", "[commits]") {
    commit_fixture fixture;
    const std::string conventional = "message_pattern = '^(feat|fix)(\\([a-z-]+\\))?: .+'\n"
                                     "message_forbidden_pattern = '(?i)\\b(wip|fixup!)'\n"
                                     "max_subject_length = 20\n";
    SECTION("a good message passes") {
        const auto tip = fixture.commit_file("feat(ui): add menu", "a.txt", "a");
        CHECK(rule_ids(fixture.judge_tip(conventional, tip)).empty());
    }
    SECTION("$ anchors at the end of what was written, not after git's final newline") {
        const auto tip = fixture.commit_file("feat: one line", "a.txt", "a");
        CHECK(fixture.judge_tip("message_pattern = '^feat: .+$'\n", tip).found.empty());
    }
    SECTION("a message outside the pattern") {
        const auto tip = fixture.commit_file("added stuff", "a.txt", "a");
        const auto result = fixture.judge_tip(conventional, tip);
        REQUIRE(rule_ids(result) == std::vector<std::string>{"commit-message"});
        CHECK(result.found[0].commit == tip);
        CHECK(result.found[0].ref == "refs/heads/feature/x");
        CHECK_THAT(result.found[0].message,
                   Catch::Contains("commit " + tip.substr(0, 7) +
                                   " \"added stuff\": message does not match"));
    }
    SECTION("a forbidden word, named in the message") {
        const auto tip = fixture.commit_file("fix: WIP login", "a.txt", "a");
        const auto result = fixture.judge_tip(conventional, tip);
        REQUIRE(rule_ids(result) == std::vector<std::string>{"commit-message"});
        CHECK_THAT(result.found[0].message, Catch::Contains("message contains \"WIP\""));
    }
    SECTION("subject length counts characters, not bytes") {
        const auto fits =
            fixture.commit_file("fix: \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                "\xc3\xa9\xc3\xa9\xc3\xa9",
                                "a.txt", "a");
        CHECK(rule_ids(fixture.judge_tip(conventional, fits)).empty());
        const auto tip = fixture.commit_file("fix: a subject that is long\n\nbody", "b.txt", "b");
        const auto result = fixture.judge_tip(conventional, tip);
        REQUIRE(rule_ids(result) == std::vector<std::string>{"commit-message"});
        CHECK(result.found[0].value == 27);
        CHECK(result.found[0].limit == 20);
    }
    SECTION("messages that are not UTF-8, or huge, are judged without harm") {
        const auto odd =
            fixture.commit_file("fix: caf\xe9 \x01", "a.txt", "a", {{"GIT_AUTHOR_NAME", "x"}});
        const auto result = fixture.judge_tip(conventional, odd);
        CHECK(result.found.empty());
        const std::string huge = "feat: big\n\n" + std::string(10 << 20, 'x');
        const auto big = fixture.commit_file(huge, "b.txt", "b");
        CHECK(rule_ids(fixture.judge_tip(conventional, big)).empty());
    }
}

TEST_CASE("commits: author-email and committer-email", "[commits]") {
    commit_fixture fixture;
    const std::string emails = "author_email_pattern = '@example\\.com$'\n"
                               "committer_email_pattern = '@(example|ci)\\.com$'\n";
    const auto good = fixture.commit_file("a", "a.txt", "a");
    CHECK(rule_ids(fixture.judge_tip(emails, good)).empty());
    const auto bad = fixture.commit_file(
        "b", "b.txt", "b",
        {{"GIT_AUTHOR_EMAIL", "me@home.org"}, {"GIT_COMMITTER_EMAIL", "me@home.org"}});
    const auto result = fixture.judge_tip(emails, bad);
    CHECK(rule_ids(result) == std::vector<std::string>{"author-email", "committer-email"});
    CHECK_THAT(result.found[0].message,
               Catch::Contains("author email <me@home.org> does not match @example\\.com$"));
}

TEST_CASE("commits: file-size reads sizes, not contents", "[commits]") {
    commit_fixture fixture;
    fixture.commit_file("small", "small.bin", std::string(100, 'a'));
    const auto tip = fixture.commit_file("big", "assets/big.bin", std::string(3000, 'b'));
    const auto result = fixture.judge_tip("max_file_size = \"2 KiB\"\n", tip);
    REQUIRE(rule_ids(result) == std::vector<std::string>{"file-size"});
    CHECK(result.found[0].value == 3000);
    CHECK(result.found[0].limit == 2048);
    CHECK_THAT(result.found[0].message,
               Catch::Contains("adds assets/big.bin (2.9 KiB, limit 2.0 KiB)"));
    CHECK_THAT(result.found[0].hint, Catch::Contains("git rm --cached -- assets/big.bin"));
    SECTION("deleting the big file later does not excuse the commit that added it") {
        REQUIRE(fixture.sandbox.git({"rm", "-q", "assets/big.bin"}).status == 0);
        REQUIRE(fixture.sandbox.git({"commit", "-q", "-m", "drop"}).status == 0);
        const auto later =
            fixture.judge_tip("max_file_size = \"2 KiB\"\n", fixture.sandbox.clone_rev("HEAD"));
        CHECK(rule_ids(later) == std::vector<std::string>{"file-size"});
    }
    SECTION("symlinks are not sized") {
        REQUIRE(fixture.sandbox.git({"rm", "-q", "assets/big.bin"}).status == 0);
        REQUIRE(::symlink(std::string(3000, 'l').c_str(),
                          (fixture.sandbox.clone() + "/link").c_str()) == 0);
        REQUIRE(fixture.sandbox.git({"add", "link"}).status == 0);
        REQUIRE(fixture.sandbox.git({"commit", "-q", "-m", "link"}).status == 0);
        const auto only_link =
            fixture.judge("max_file_size = \"2 KiB\"\n",
                          {{tip, fixture.sandbox.clone_rev("HEAD"), "refs/heads/feature/x"}});
        CHECK(only_link.found.empty());
    }
}

TEST_CASE("commits: forbidden-path and the secret-file list", "[commits]") {
    commit_fixture fixture;
    const auto tip = fixture.commit_file("keys", "deploy/server.pem", "-----BEGIN-----");
    const auto result = fixture.judge_tip("forbidden_paths = [\"*.pem\", \"secrets/**\"]\n", tip);
    REQUIRE(rule_ids(result) == std::vector<std::string>{"forbidden-path"});
    CHECK_THAT(result.found[0].message,
               Catch::Contains("adds deploy/server.pem, which matches forbidden path '*.pem'"));
    const auto ssh = fixture.commit_file("oops", "home/.ssh/id_ed25519", "key");
    const auto secret = fixture.judge_tip("secret_files = true\n", ssh);
    REQUIRE(rule_ids(secret) == std::vector<std::string>{"forbidden-path"});
    CHECK_THAT(secret.found[0].message, Catch::Contains("well-known secret file 'id_ed25519'"));
    CHECK(fixture.judge_tip("secret_files = false\n", ssh).found.empty());
    SECTION("paths with newlines or invalid UTF-8 are reported escaped") {
        const auto odd = fixture.commit_file("odd", "we\nird\xff.pem", "x");
        const auto text = render_text(fixture.judge_tip("forbidden_paths = [\"*.pem\"]\n", odd));
        CHECK_THAT(text, Catch::Contains("adds we\\nird\\xff.pem"));
    }
}

TEST_CASE("commits: changed-files counts additions, changes and deletions", "[commits]") {
    commit_fixture fixture;
    for (int i = 0; i < 4; ++i)
        testing::write_file(fixture.sandbox.clone() + "/many/f" + std::to_string(i), "x");
    REQUIRE(fixture.sandbox.git({"add", "many"}).status == 0);
    REQUIRE(fixture.sandbox.git({"commit", "-q", "-m", "four"}).status == 0);
    const auto four = fixture.sandbox.clone_rev("HEAD");
    CHECK(rule_ids(fixture.judge_tip("max_changed_files = 4\n", four)).empty());
    const auto result = fixture.judge_tip("max_changed_files = 3\n", four);
    REQUIRE(rule_ids(result) == std::vector<std::string>{"changed-files"});
    CHECK(result.found[0].value == 4);
    REQUIRE(fixture.sandbox.git({"rm", "-q", "-r", "many"}).status == 0);
    REQUIRE(fixture.sandbox.git({"commit", "-q", "-m", "drop four"}).status == 0);
    const auto dropped =
        fixture.judge("max_changed_files = 3\n",
                      {{four, fixture.sandbox.clone_rev("HEAD"), "refs/heads/feature/x"}});
    CHECK(dropped.found.size() == 1);
    CHECK(dropped.found[0].value == 4);
}

TEST_CASE("commits: each new commit is read once, and only new ones", "[commits]") {
    commit_fixture fixture;
    const auto first = fixture.commit_file("bad one", "a.txt", "a");
    const auto second = fixture.commit_file("bad two", "b.txt", "b");
    const std::string rule = "message_pattern = '^ok'\n";
    SECTION("a commit sent to two refs is reported once, for the first ref") {
        const auto result = fixture.judge(
            rule, {{zero, second, "refs/heads/feature/a"}, {zero, second, "refs/heads/feature/b"}});
        REQUIRE(result.found.size() == 2);
        CHECK(result.found[0].ref == "refs/heads/feature/a");
        CHECK(result.found[1].ref == "refs/heads/feature/a");
        CHECK(result.found[0].commit == first); // oldest first
    }
    SECTION("a commit already reachable from an existing ref is not checked again") {
        fixture.sandbox.git({"update-ref", "refs/heads/published", first});
        const auto result = fixture.judge(rule, {{zero, second, "refs/heads/feature/a"}});
        REQUIRE(result.found.size() == 1);
        CHECK(result.found[0].commit == second);
    }
    SECTION(
        "a commit that came in through an uncovered ref is judged when it reaches a covered one") {
        fixture.sandbox.git({"update-ref", "refs/heads/scratch", second});
        const auto result = fixture.judge("refs = ['refs/heads/main']\n" + rule,
                                          {{fixture.base, second, "refs/heads/main"}});
        CHECK(result.found.size() == 2);
        // Under the default refs, scratch is covered: its commits count as already judged.
        CHECK(fixture.judge(rule, {{fixture.base, second, "refs/heads/main"}}).found.empty());
    }
    SECTION("refs outside [commits].refs are not read") {
        CHECK(fixture.judge(rule, {{zero, second, "refs/tags/v1"}}).found.empty());
        // With only tags covered, main's commit has never been judged either: all three are read.
        CHECK(fixture.judge("refs = ['refs/tags/*']\n" + rule, {{zero, second, "refs/tags/v1"}})
                  .found.size() == 3);
    }
}

TEST_CASE("commits: at most 20 findings per rule are listed, the rest counted", "[commits]") {
    commit_fixture fixture;
    std::string tip;
    for (int i = 0; i < 25; ++i)
        tip = fixture.commit_file("bad " + std::to_string(i), "f" + std::to_string(i), "x");
    const auto result = fixture.judge_tip("message_pattern = '^ok'\n", tip);
    REQUIRE(result.found.size() == 21);
    CHECK(result.rejected());
    CHECK(result.found.back().value == 25);
    CHECK(result.found.back().message ==
          "and 5 more findings of [commit-message] not listed (25 in all)");
}
