#include <catch2/catch.hpp>

#include "support/sandbox.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/queue/speculate.hpp"

using namespace trunkgate;
using testing::git_sandbox;
using testing::write_file;

namespace {

git_oid oid(const std::string& hex) {
    git_oid id;
    REQUIRE(git_oid_fromstr(&id, hex.c_str()) == 0);
    return id;
}

// A commit in the clone that sets `file` to `content`.
std::string commit_file(git_sandbox& sandbox, const std::string& file, const std::string& content,
                        const std::string& message) {
    write_file(sandbox.clone() + "/" + file, content);
    REQUIRE(sandbox.git({"add", file}).status == 0);
    REQUIRE(sandbox.git({"commit", "-q", "-m", message}).status == 0);
    return sandbox.clone_rev("HEAD");
}

// What the real git says: the tree of `rev`.
std::string tree_of(git_sandbox& sandbox, const std::string& rev) {
    return sandbox.clone_rev(rev + "^{tree}");
}

struct fixture {
    git_sandbox sandbox;
    std::string base, target, change;
    libgit2_guard libgit2;
    repository_ptr repo;
    signature_ptr committer;

    // main: base -- target (edits b.txt); feature: base -- change1 -- change2 (edit a.txt, c.txt)
    fixture() {
        base = commit_file(sandbox, "a.txt", "one\ntwo\nthree\n", "base");
        commit_file(sandbox, "b.txt", "b\n", "add b");
        base = sandbox.clone_rev("HEAD");
        REQUIRE(sandbox.git({"checkout", "-q", "-b", "feature"}).status == 0);
        commit_file(sandbox, "a.txt", "one\nTWO\nthree\n", "change a");
        change = commit_file(sandbox, "c.txt", "c\n", "add c");
        REQUIRE(sandbox.git({"checkout", "-q", "main"}).status == 0);
        target = commit_file(sandbox, "b.txt", "b2\n", "change b");
        repo = open_repository(sandbox.clone() + "/.git");
        git_signature* raw = nullptr;
        REQUIRE(git_signature_new(&raw, "trunkgate", "trunkgate@localhost", 1700000000, 0) == 0);
        committer.reset(raw);
    }

    speculation apply(const std::string& onto, const std::string& tip, queue_method method) {
        return speculate(repo.get(), oid(onto), {oid(tip), "q-0001", "Merge q-0001"}, method,
                         committer.get());
    }
};

} // namespace

TEST_CASE("speculate: rebase gives git's rebase result", "[queue][speculate]") {
    fixture f;
    const auto made = f.apply(f.target, f.change, queue_method::rebase);
    REQUIRE(made.commit);
    CHECK(made.problem.empty());
    const auto speculative = to_hex(*made.commit);
    REQUIRE(f.sandbox.git({"checkout", "-q", "-b", "rebased", "feature"}).status == 0);
    REQUIRE(f.sandbox.git({"rebase", "-q", "main"}).status == 0);
    CHECK(tree_of(f.sandbox, speculative) == tree_of(f.sandbox, "rebased"));
    // Two commits on the target, authors and messages kept.
    CHECK(f.sandbox.clone_rev(speculative + "~2") == f.target);
    const auto author = f.sandbox.git({"log", "-1", "--format=%an", f.change}).out;
    CHECK(f.sandbox.git({"log", "-1", "--format=%an|%cn|%s", speculative}).out ==
          author.substr(0, author.size() - 1) + "|trunkgate|add c\n");
    SECTION("a change already on the target gives the target") {
        const auto again = f.apply(speculative, f.change, queue_method::rebase);
        REQUIRE(again.commit);
        CHECK(to_hex(*again.commit) == speculative);
    }
}

TEST_CASE("speculate: a conflict names its paths and makes no commit", "[queue][speculate]") {
    fixture f;
    const auto conflicting = commit_file(f.sandbox, "a.txt", "one\n2\nthree\n", "also change a");
    for (const auto method : {queue_method::rebase, queue_method::merge}) {
        const auto made = f.apply(conflicting, f.change, method);
        CHECK_FALSE(made.commit);
        CHECK(made.conflicts == std::vector<std::string>{"a.txt"});
        CHECK_THAT(made.problem, Catch::Matchers::Contains("q-0001"));
    }
}

TEST_CASE("speculate: merge makes git's merge, or a fast-forward", "[queue][speculate]") {
    fixture f;
    const auto made = f.apply(f.target, f.change, queue_method::merge);
    REQUIRE(made.commit);
    const auto speculative = to_hex(*made.commit);
    CHECK(f.sandbox.clone_rev(speculative + "^1") == f.target);
    CHECK(f.sandbox.clone_rev(speculative + "^2") == f.change);
    const auto merged_tree = f.sandbox.git({"merge-tree", "--write-tree", f.target, f.change}).out;
    CHECK(tree_of(f.sandbox, speculative) + "\n" == merged_tree);
    CHECK(f.sandbox.git({"log", "-1", "--format=%s", speculative}).out == "Merge q-0001\n");
    SECTION("onto an ancestor of the change: the change itself") {
        const auto forward = f.apply(f.base, f.change, queue_method::merge);
        REQUIRE(forward.commit);
        CHECK(to_hex(*forward.commit) == f.change);
    }
}

TEST_CASE("speculate: fast-forward-only takes the change or refuses", "[queue][speculate]") {
    fixture f;
    const auto forward = f.apply(f.base, f.change, queue_method::fast_forward_only);
    REQUIRE(forward.commit);
    CHECK(to_hex(*forward.commit) == f.change);
    const auto refused = f.apply(f.target, f.change, queue_method::fast_forward_only);
    CHECK_FALSE(refused.commit);
    CHECK_THAT(refused.problem, Catch::Matchers::Contains("not a fast-forward"));
}
