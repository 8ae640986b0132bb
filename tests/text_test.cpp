#include <catch2/catch.hpp>

#include "trunkgate/glob.hpp"
#include "trunkgate/identity.hpp"
#include "trunkgate/text.hpp"

#include <map>

using namespace trunkgate;

TEST_CASE("glob: git refspec semantics", "[glob]") {
    CHECK(glob_match("refs/heads/main", "refs/heads/main"));
    CHECK_FALSE(glob_match("refs/heads/main", "refs/heads/mainline"));
    CHECK(glob_match("refs/heads/*", "refs/heads/feature/x"));
    CHECK(glob_match("refs/heads/release/*", "refs/heads/release/1.2"));
    CHECK_FALSE(glob_match("refs/heads/release/*", "refs/heads/releases"));
    CHECK(glob_match("release-*", "release-bot"));
    CHECK(glob_match("*", ""));
    CHECK(glob_match("a?c", "abc"));
    CHECK_FALSE(glob_match("a?c", "ac"));
    CHECK(glob_match("a\\*c", "a*c"));
    CHECK_FALSE(glob_match("a\\*c", "abc"));
    CHECK(glob_match("*a*b*c*", "xxaxxbxxcxx"));
    CHECK_FALSE(glob_match("*a*b*c*", "xxaxxcxxbxx"));
    CHECK(glob_match_any({"x", "refs/tags/*"}, "refs/tags/v1"));
    CHECK_FALSE(glob_match_any({}, "anything"));
}

TEST_CASE("glob: a hostile pattern stays fast", "[glob]") {
    const std::string text(5000, 'a');
    CHECK_FALSE(glob_match("*a*a*a*a*a*a*a*a*b", text));
}

TEST_CASE("text: printable escapes what could fool a terminal", "[text]") {
    CHECK(printable("refs/heads/ok") == "refs/heads/ok");
    CHECK(printable("a\nremote: fake") == "a\\nremote: fake");
    CHECK(printable("\x1b[31mred") == "\\x1b[31mred");
    CHECK(printable("caf\xc3\xa9") == "caf\xc3\xa9");
    CHECK(printable("bad\xff byte") == "bad\\xff byte");
    CHECK(printable("cut \xc3") == "cut \\xc3");
    CHECK(printable("pattern \\.") == "pattern \\.");
}

TEST_CASE("text: shell_quote gives one safe word", "[text]") {
    CHECK(shell_quote("main") == "main");
    CHECK(shell_quote("feature/x-1.2") == "feature/x-1.2");
    CHECK(shell_quote("a b") == "'a b'");
    CHECK(shell_quote("it's") == "'it'\\''s'");
    CHECK(shell_quote("$(rm -rf /)") == "'$(rm -rf /)'");
    CHECK(shell_quote("") == "''");
}

TEST_CASE("identity: first non-empty variable wins; push options are read", "[identity]") {
    std::map<std::string, std::string> vars{{"GL_USER", "alice"},
                                            {"TRUNKGATE_USER", ""},
                                            {"USER", "git"},
                                            {"GIT_PUSH_OPTION_COUNT", "2"},
                                            {"GIT_PUSH_OPTION_0", "ci.skip"},
                                            {"GIT_PUSH_OPTION_1", "trunkgate.bypass=hotfix"}};
    const env_lookup env = [&](const std::string& name) -> std::optional<std::string> {
        const auto found = vars.find(name);
        if (found == vars.end())
            return std::nullopt;
        return found->second;
    };
    CHECK(resolve_identity({"TRUNKGATE_USER", "GL_USER", "USER"}, env) == "alice");
    CHECK(resolve_identity({"USER"}, env) == "git");
    CHECK(resolve_identity({"REMOTE_USER"}, env).empty());
    CHECK(read_push_options(env) == std::vector<std::string>{"ci.skip", "trunkgate.bypass=hotfix"});
    vars["GIT_PUSH_OPTION_COUNT"] = "x";
    CHECK(read_push_options(env).empty());
    vars.erase("GIT_PUSH_OPTION_COUNT");
    CHECK(read_push_options(env).empty());
}

TEST_CASE("text: replace_all replaces every occurrence once", "[text]") {
    CHECK(replace_all("{sha}/x/{sha}", "{sha}", "abc") == "abc/x/abc");
    CHECK(replace_all("{a}", "{a}", "{a}{a}") == "{a}{a}"); // replacements are not rescanned
    CHECK(replace_all("plain", "", "x") == "plain");
}
