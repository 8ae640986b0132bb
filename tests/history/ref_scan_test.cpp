#include <catch2/catch.hpp>

#include <map>
#include <sstream>

#include "support/sandbox.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/history/ref_scan.hpp"

using namespace trunkgate;
using testing::git_sandbox;

namespace {

// name -> "target" or "target^peeled", as scan_refs reports them.
std::map<std::string, std::string> scanned(git_repository* repo, const std::string& prefix) {
    std::map<std::string, std::string> refs;
    scan_refs(repo, prefix, [&](const scanned_ref& ref) {
        auto value = to_hex(ref.target);
        if (ref.peeled)
            value += "^" + to_hex(*ref.peeled);
        CHECK(refs.emplace(std::string(ref.name), value).second); // each name once
    });
    return refs;
}

// The same, from git: every direct ref under the prefix with its target and, for tags, what they
// peel to (scan_refs may only know that for packed tags, so only targets are compared there).
std::map<std::string, std::string> from_git(const git_sandbox& sandbox, const std::string& prefix) {
    const auto listed = sandbox.git_in(
        sandbox.server(), {"for-each-ref", "--format=%(objectname) %(refname) %(symref)", prefix});
    REQUIRE(listed.status == 0);
    std::map<std::string, std::string> refs;
    std::istringstream lines(listed.out);
    std::string target, name, symref;
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        fields >> target >> name >> symref;
        if (symref.empty())
            refs[name] = target;
        symref.clear();
    }
    return refs;
}

std::map<std::string, std::string> targets_only(std::map<std::string, std::string> refs) {
    for (auto& [name, value] : refs)
        value = value.substr(0, 40);
    return refs;
}

} // namespace

TEST_CASE("ref scan: loose and packed refs as git lists them", "[history][refs]") {
    git_sandbox sandbox;
    const auto first = sandbox.commit("first", "a.txt");
    const auto second = sandbox.commit("second", "b.txt");
    REQUIRE(sandbox.git({"tag", "-a", "-m", "release", "v1.0.0", first}).status == 0);
    REQUIRE(sandbox.git({"tag", "light", second}).status == 0);
    for (const auto& branch : {"feature/a", "feature/b", "fix/c", "featureless"})
        REQUIRE(sandbox.git({"branch", branch, first}).status == 0);
    REQUIRE(sandbox.push({"origin", "--all"}).status == 0);
    REQUIRE(sandbox.push({"origin", "--tags"}).status == 0);
    const auto server = sandbox.server();
    REQUIRE(sandbox.git_in(server, {"pack-refs", "--all"}).status == 0);
    // Loose refs over the packed file: one moved (the loose value wins), one new, one symbolic,
    // and a lock file that is no ref.
    REQUIRE(sandbox.git_in(server, {"update-ref", "refs/heads/feature/a", second}).status == 0);
    REQUIRE(sandbox.git_in(server, {"update-ref", "refs/heads/feature/new", second}).status == 0);
    REQUIRE(
        sandbox.git_in(server, {"symbolic-ref", "refs/heads/alias", "refs/heads/main"}).status ==
        0);
    testing::write_file(server + "/refs/heads/feature/b.lock", second + "\n");

    const libgit2_guard libgit2;
    const auto repo = open_repository(server);
    SECTION("every ref") {
        const auto refs = scanned(repo.get(), "refs/");
        CHECK(targets_only(refs) == from_git(sandbox, "refs/"));
        CHECK(refs.at("refs/heads/feature/a") == second);
        // The packed annotated tag carries its peeled commit.
        CHECK(refs.at("refs/tags/v1.0.0").substr(41) == first);
    }
    SECTION("a prefix reads only the refs under it") {
        CHECK(targets_only(scanned(repo.get(), "refs/heads/feature/")) ==
              from_git(sandbox, "refs/heads/feature/"));
        const auto partial = scanned(repo.get(), "refs/heads/feature");
        CHECK(partial.count("refs/heads/featureless") == 1);
        CHECK(partial.count("refs/heads/fix/c") == 0);
        CHECK(scanned(repo.get(), "refs/nothing/").empty());
    }
    SECTION("without a packed-refs file") {
        REQUIRE(std::remove((server + "/packed-refs").c_str()) == 0);
        CHECK(targets_only(scanned(repo.get(), "refs/")) == from_git(sandbox, "refs/"));
    }
}
