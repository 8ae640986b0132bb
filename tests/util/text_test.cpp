#include <catch2/catch.hpp>

#include "trunkgate/policy/glob.hpp"
#include "trunkgate/util/identity.hpp"
#include "trunkgate/util/text.hpp"

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

TEST_CASE("text: printable escapes C1 and bidi controls, non-characters and malformed UTF-8",
          "[text]") {
    SECTION("C1 controls: a UTF-8 CSI or OSC is escaped, not passed to the terminal") {
        CHECK(printable("a\xc2\x9b"
                        "31mred") == "a\\u{009b}31mred");
        CHECK(printable("\xc2\x9d"
                        "0;title\x07") == "\\u{009d}0;title\\x07");
        CHECK(printable("\xc2\x80\xc2\x9f\xc2\xa0") == "\\u{0080}\\u{009f}\xc2\xa0");
    }
    SECTION("bidi embeddings, overrides and isolates") {
        CHECK(printable("refs/heads/\xe2\x80\xaegnp.exe") == "refs/heads/\\u{202e}gnp.exe");
        CHECK(printable("\xe2\x80\xaa\xe2\x81\xa6\xe2\x81\xa9") == "\\u{202a}\\u{2066}\\u{2069}");
        CHECK(printable("\xe2\x80\xa9") == "\xe2\x80\xa9"); // U+2029 is not a bidi control
    }
    SECTION("overlong forms, surrogates and code points past U+10FFFF, byte by byte") {
        CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");
        CHECK(printable("\xe0\x80\xaf") == "\\xe0\\x80\\xaf");
        CHECK(printable("\xf0\x80\x80\xaf") == "\\xf0\\x80\\x80\\xaf");
        CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");
        CHECK(printable("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");
    }
    SECTION("non-characters") {
        CHECK(printable("\xef\xb7\x90") == "\\u{fdd0}");
        CHECK(printable("\xef\xbf\xbe\xef\xbf\xbf") == "\\u{fffe}\\u{ffff}");
        CHECK(printable("\xf4\x8f\xbf\xbf") == "\\u{10ffff}");
    }
    SECTION("the largest characters that are fine pass unchanged") {
        CHECK(printable("\xef\xbf\xbd") == "\xef\xbf\xbd");         // U+FFFD
        CHECK(printable("\xf0\x9f\x98\x80") == "\xf0\x9f\x98\x80"); // an emoji
        CHECK(printable("\xe4\xb8\xad\xe6\x96\x87") == "\xe4\xb8\xad\xe6\x96\x87");
    }
}

TEST_CASE("text: shell_quote gives one safe word", "[text]") {
    CHECK(shell_quote("main") == "main");
    CHECK(shell_quote("feature/x-1.2") == "feature/x-1.2");
    CHECK(shell_quote("a b") == "'a b'");
    CHECK(shell_quote("it's") == "'it'\\''s'");
    CHECK(shell_quote("$(rm -rf /)") == "'$(rm -rf /)'");
    CHECK(shell_quote("") == "''");
}

TEST_CASE("identity: first non-empty variable wins, push options are read", "[identity]") {
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
