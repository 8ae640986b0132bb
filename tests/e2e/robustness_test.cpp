// End-to-end: the hook binary fed what git would never send (and some things it would): it must
// never crash (exit 0 or 1 only, never 128 + signal) and never accept what the policy forbids.
#include <catch2/catch.hpp>

#include <cctype>

#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using Catch::Contains;

namespace {

// A server with the template policy, main published and a file, tree and tag to point at.
struct hook_fixture {
    git_sandbox sandbox;
    std::string main_tip;
    std::string tree;
    std::string blob;
    std::string tag_object;

    hook_fixture() {
        sandbox.install();
        main_tip = sandbox.commit("feat: first", "readme.txt");
        REQUIRE(sandbox.git({"tag", "-a", "-m", "release", "v1.0.0"}).status == 0);
        REQUIRE(sandbox.push({"origin", "main", "v1.0.0"}).status == 0);
        tree = sandbox.server_rev("main^{tree}");
        blob = sandbox.server_rev("main:readme.txt");
        tag_object = sandbox.server_rev("refs/tags/v1.0.0");
        REQUIRE(!tree.empty());
        REQUIRE(!blob.empty());
        REQUIRE(tag_object != main_tip);
    }

    run_result hook(const std::string& input) const {
        auto result = sandbox.run_hook(input);
        INFO("hook output: " << result.all());
        REQUIRE((result.status == 0 || result.status == 1));
        return result;
    }
};

std::string line(const std::string& old_id, const std::string& new_id, const std::string& ref) {
    return old_id + " " + new_id + " " + ref + "\n";
}

} // namespace

TEST_CASE("robustness: empty input is accepted silently", "[e2e][robustness]") {
    hook_fixture fixture;
    for (const char* input : {"", "\n", "\n\n  \n"}) {
        const auto result = fixture.hook(input);
        CHECK(result.status == 0);
        CHECK(result.all().empty());
    }
}

TEST_CASE("robustness: malformed update lines reject the push and name the line",
          "[e2e][robustness][input]") {
    hook_fixture fixture;
    const auto good = line(zero_id, fixture.main_tip, "refs/heads/feature/ok");
    const std::pair<std::string, std::string> cases[] = {
        {"garbage\n", "update line 1: expected '<old-oid> <new-oid> <ref-name>'"},
        {zero_id + " " + fixture.main_tip + "\n", "update line 1: expected"},
        {line(zero_id, fixture.main_tip, ""), "update line 1: missing ref name"},
        {line("1234567", fixture.main_tip, "refs/heads/x"), "update line 1: '1234567' is not an"},
        {line(std::string(40, 'g'), fixture.main_tip, "refs/heads/x"), "update line 1: 'gggg"},
        {line(zero_id, zero_id, "refs/heads/x"), "update line 1: both object ids are zero"},
        {line(zero_id, std::string(64, 'a'), "refs/heads/x"), "differ in length"},
        {zero_id + " " + fixture.main_tip + " " + std::string("refs/heads/a\0b\n", 15),
         "contains a NUL byte"},
        {good + "\n" + line(zero_id, "xyz", "refs/heads/feature/bad"), "update line 3: 'xyz'"},
    };
    for (const auto& [input, expected] : cases) {
        // Named by the expected message, not the input: the input holds main's id, which changes
        // when the fixture's commit falls in another second, and Catch then takes every section
        // for a new one and never finishes (seen under the sanitizers, which are slower).
        DYNAMIC_SECTION("expects: " << expected) {
            const auto result = fixture.hook(input);
            CHECK(result.status == 1);
            CHECK_THAT(result.err,
                       Contains("trunkgate: push rejected: cannot read git's update lines: "));
            CHECK_THAT(result.err, Contains(expected));
        }
    }
}

TEST_CASE("robustness: refs set to unknown objects or to non-commits are rejected by ref-target",
          "[e2e][robustness][ref-target]") {
    hook_fixture fixture;
    const std::string unknown = "1234567890abcdef1234567890abcdef12345678";

    SECTION("a new branch at an unknown object") {
        const auto result = fixture.hook(line(zero_id, unknown, "refs/heads/feature/x"));
        CHECK(result.status == 1);
        CHECK_THAT(result.err, Contains("refs/heads/feature/x  [ref-target] new value 1234567 is "
                                        "not an object in this repository"));
    }
    SECTION("main moved to an unknown object") {
        const auto result = fixture.hook(line(fixture.main_tip, unknown, "refs/heads/main"));
        CHECK(result.status == 1);
        CHECK_THAT(result.err, Contains("refs/heads/main  [ref-target] new value 1234567"));
    }
    SECTION("a branch at a tree") {
        const auto result = fixture.hook(line(zero_id, fixture.tree, "refs/heads/feature/x"));
        CHECK(result.status == 1);
        CHECK_THAT(result.err,
                   Contains("refs/heads/feature/x  [ref-target] a branch must point at a commit, "
                            "not a tree (" +
                            fixture.tree.substr(0, 7) + ")"));
    }
    SECTION("a branch at a blob") {
        const auto result = fixture.hook(line(zero_id, fixture.blob, "refs/heads/feature/x"));
        CHECK(result.status == 1);
        CHECK_THAT(result.err,
                   Contains("[ref-target] a branch must point at a commit, not a blob"));
    }
    SECTION("main moved to an annotated tag object") {
        const auto result =
            fixture.hook(line(fixture.main_tip, fixture.tag_object, "refs/heads/main"));
        CHECK(result.status == 1);
        CHECK_THAT(result.err,
                   Contains("refs/heads/main  [ref-target] a branch must point at a commit, not "
                            "a tag"));
    }
    SECTION("a tag may point at a blob") {
        const auto result = fixture.hook(line(zero_id, fixture.blob, "refs/tags/v9.9.9"));
        CHECK(result.status == 0);
        CHECK(result.all().empty());
    }
    SECTION("SHA-256 object ids") {
        const auto result =
            fixture.hook(line(std::string(64, '0'), std::string(64, 'a'), "refs/heads/feature/x"));
        CHECK(result.status == 1);
        CHECK_THAT(result.err,
                   Contains("refs/heads/feature/x  [ref-target] SHA-256 object ids are not "
                            "supported"));
    }
}

TEST_CASE("robustness: a 2,000-byte ref name is judged like any other",
          "[e2e][robustness][long-ref]") {
    hook_fixture fixture;
    const std::string long_name(2000, 'x');

    SECTION("outside the name pattern: rejected, the whole name shown") {
        const auto ref = "refs/heads/" + long_name;
        const auto result = fixture.hook(line(zero_id, fixture.main_tip, ref));
        CHECK(result.status == 1);
        CHECK_THAT(result.err, Contains(ref + "  [branch-name]"));
    }
    SECTION("a tag outside the pattern: rejected") {
        const auto result =
            fixture.hook(line(zero_id, fixture.main_tip, "refs/tags/v1.0.0-" + long_name + "!"));
        CHECK(result.status == 1);
        CHECK_THAT(result.err, Contains("[tag-name]"));
    }
    SECTION("inside the name pattern: accepted") {
        const auto result =
            fixture.hook(line(zero_id, fixture.main_tip, "refs/heads/feature/" + long_name));
        CHECK(result.status == 0);
    }
    SECTION("deleting main, with a 2,000-byte ref next to it: still rejected") {
        const auto result =
            fixture.hook(line(zero_id, fixture.main_tip, "refs/heads/feature/" + long_name) +
                         line(fixture.main_tip, zero_id, "refs/heads/main"));
        CHECK(result.status == 1);
        CHECK_THAT(result.err, Contains("refs/heads/main  [protected-delete]"));
    }
}

TEST_CASE("robustness: unusual characters in ref names are escaped and still judged",
          "[e2e][robustness][escaping]") {
    hook_fixture fixture;

    SECTION("an escape sequence cannot reach the terminal") {
        const auto result =
            fixture.hook(line(zero_id, fixture.main_tip, "refs/heads/feature/\x1b[31mred"));
        CHECK(result.status == 1);
        CHECK_THAT(result.err, Contains("refs/heads/feature/\\x1b[31mred  [branch-name]"));
        CHECK(result.err.find('\x1b') == std::string::npos);
    }
    SECTION("bytes that are not UTF-8 are escaped") {
        const auto result = fixture.hook(line(zero_id, fixture.main_tip, "refs/heads/\xff\xfe"));
        CHECK(result.status == 1);
        CHECK_THAT(result.err, Contains("refs/heads/\\xff\\xfe  [branch-name]"));
    }
    SECTION("UTF-8 is shown as it is") {
        const auto result =
            fixture.hook(line(zero_id, fixture.main_tip, "refs/heads/feature/caf\xc3\xa9"));
        CHECK(result.status == 1);
        CHECK_THAT(result.err, Contains("refs/heads/feature/caf\xc3\xa9  [branch-name]"));
    }
    SECTION("spaces and quotes: the hint quotes the name for the shell") {
        const auto result =
            fixture.hook(line(zero_id, fixture.main_tip, "refs/heads/feature/it's a b"));
        CHECK(result.status == 1);
        CHECK_THAT(result.err, Contains("refs/heads/feature/it's a b  [branch-name]"));
        CHECK_THAT(result.err, Contains("git branch -m 'feature/it'\\''s a b' feature/<topic>"));
    }
    SECTION("a CRLF line ending does not hide main") {
        const auto result = fixture.hook(fixture.main_tip + " " + zero_id + " refs/heads/main\r\n");
        CHECK(result.status == 1);
        CHECK_THAT(result.err, Contains("refs/heads/main  [protected-delete]"));
    }
    SECTION("upper-case object ids are the same objects") {
        std::string upper = fixture.main_tip;
        for (auto& c : upper)
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        const auto result = fixture.hook(line(upper, zero_id, "refs/heads/main"));
        CHECK(result.status == 1);
        CHECK_THAT(result.err, Contains("refs/heads/main  [protected-delete]"));
    }
}

TEST_CASE("robustness: the hook fails closed", "[e2e][robustness][fail-closed]") {
    hook_fixture fixture;
    auto& sandbox = fixture.sandbox;
    const auto input = line(zero_id, fixture.main_tip, "refs/heads/feature/ok");

    SECTION("GIT_DIR is not a repository: internal error, rejected") {
        const auto result = sandbox.run_hook(input, {{"GIT_DIR", sandbox.dir() + "/nowhere"}});
        CHECK(result.status == 1);
        CHECK_THAT(result.err, Contains("trunkgate: internal error, push rejected to be safe: "));
    }
    SECTION("unknown arguments: usage error") {
        const auto result =
            run({bin_path("trunkgate-pre-receive"), "--bogus"}, sandbox.server(), {}, input);
        CHECK(result.status == 2);
        CHECK_THAT(result.err, Contains("usage: trunkgate-pre-receive"));
    }
    SECTION("many refs, one bad among them: rejected, only the bad one named") {
        std::string many;
        for (int i = 0; i < 300; ++i)
            many += line(zero_id, fixture.main_tip, "refs/heads/feature/n" + std::to_string(i));
        many += line(zero_id, fixture.main_tip, "refs/heads/scratch");
        const auto result = fixture.hook(many);
        CHECK(result.status == 1);
        CHECK_THAT(result.err, Contains("push rejected: 1 problem"));
        CHECK_THAT(result.err, Contains("refs/heads/scratch  [branch-name]"));
        CHECK_THAT(result.err, !Contains("feature/n"));
    }
}
