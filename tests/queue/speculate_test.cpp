#include <catch2/catch.hpp>

#include "merge_scenario.hpp"
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

namespace {

using testing::edit;
using testing::executable;
using testing::file;
using testing::removal;
using testing::symlink;

// A tree laid out like a real project: files three directories deep and some at the top.
std::vector<edit> project() {
    std::vector<edit> files{file("README.md", "readme\n"), file("docs/guide", "guide\n"),
                            executable("bin/tool.sh", "#!/bin/sh\necho tool\n"),
                            file("bin/run.sh", "#!/bin/sh\necho run\n"),
                            symlink("current", "releases/v1")};
    for (const auto* module : {"m01", "m02", "m03"})
        for (const auto* package : {"p01", "p02", "p03"})
            for (const auto* name : {"file01.c", "file02.c", "file03.c"}) {
                const auto path = std::string("src/") + module + "/" + package + "/" + name;
                files.push_back(file(path, "// " + path + "\nint value = 1;\n"));
            }
    files.push_back(file("src/m04/a.c", "a\n"));
    files.push_back(file("src/m04/b/only.c", "only\n"));
    files.push_back(file("src/m01/p01/lines.txt",
                         "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n"));
    return files;
}

std::string lines_with(const std::string& line_two, const std::string& line_nine) {
    return "one\n" + line_two + "\nthree\nfour\nfive\nsix\nseven\neight\n" + line_nine + "\nten\n";
}

struct merge_case {
    std::string name;
    std::vector<edit> ours, theirs;     // on top of project()
    std::vector<std::string> conflicts; // none: a clean merge
    merge_route route = merge_route::tree_walk;
};

std::vector<merge_case> merge_cases() {
    const auto route_libgit2 = merge_route::libgit2;
    return {
        {"changes in different deep subdirectories",
         {file("src/m01/p01/file01.c", "ours\n")},
         {file("src/m02/p03/file02.c", "theirs\n"), file("src/m03/p02/new.c", "new\n")},
         {}},
        {"one file changed in different hunks on both sides",
         {file("src/m01/p01/lines.txt", lines_with("TWO", "nine"))},
         {file("src/m01/p01/lines.txt", lines_with("two", "NINE"))},
         {}},
        {"one hunk changed on both sides",
         {file("src/m01/p01/lines.txt", lines_with("2", "nine"))},
         {file("src/m01/p01/lines.txt", lines_with("zwei", "nine"))},
         {"src/m01/p01/lines.txt"}},
        {"the same file added on both sides",
         {file("src/m02/p01/added.c", "same\n"), file("src/m01/p02/file01.c", "ours\n")},
         {file("src/m02/p01/added.c", "same\n")},
         {}},
        {"different files added at one path",
         {file("src/m02/p01/added.c", "ours\n")},
         {file("src/m02/p01/added.c", "theirs\n")},
         {"src/m02/p01/added.c"}},
        {"a file deleted on one side",
         {file("src/m02/p01/file01.c", "ours\n")},
         {removal("src/m02/p03/file02.c")},
         {}},
        {"a directory emptied on one side, its neighbour changed on the other",
         {file("src/m04/a.c", "ours\n")},
         {removal("src/m04/b/only.c")},
         {}},
        {"a file changed on one side, deleted on the other",
         {file("src/m03/p03/file03.c", "ours\n")},
         {removal("src/m03/p03/file03.c")},
         {"src/m03/p03/file03.c"}},
        {"a directory deleted on one side, a file in it changed on the other",
         {removal("src/m02")},
         {file("src/m02/p03/file01.c", "theirs\n")},
         {"src/m02/p03/file01.c"}},
        {"a file added on one side where the other added a directory",
         {file("src/m05/tool", "a file\n")},
         {file("src/m05/tool/main.c", "a directory\n")},
         {"src/m05/tool"}},
        {"a mode changed on one side, the content on the other",
         {executable("bin/run.sh", "#!/bin/sh\necho run\n"),
          file("src/m01/p01/file02.c", "ours\n")},
         {file("bin/run.sh", "#!/bin/sh\necho run\necho more\n")},
         {}},
        {"a mode changed on one side only",
         {file("src/m01/p01/file02.c", "ours\n")},
         {file("bin/tool.sh", "#!/bin/sh\necho tool\n")},
         {}},
        {"a symlink changed on both sides",
         {symlink("current", "releases/v2")},
         {symlink("current", "releases/v3")},
         {"current"}},
        // A side that deletes a path and adds another may have renamed it: libgit2 decides.
        {"a file renamed on one side, changed on the other",
         {file("src/m01/p01/lines.txt", lines_with("TWO", "nine"))},
         {removal("src/m01/p01/lines.txt"),
          file("src/m01/p02/moved.txt", lines_with("two", "NINE"))},
         {},
         route_libgit2},
        {"a file that became a directory on one side",
         {file("src/m01/p01/file01.c", "ours\n")},
         {removal("docs/guide"), file("docs/guide/intro.md", "guide\n")},
         {},
         route_libgit2},
    };
}

// The speculation's tree, as a hex id.
std::string speculative_tree(git_sandbox& sandbox, const speculation& made) {
    REQUIRE(made.commit);
    return tree_of(sandbox, to_hex(*made.commit));
}

// What git's cherry-pick of `pick` onto `onto` gives, in a scratch branch of the clone.
std::string git_cherry_pick(git_sandbox& sandbox, const std::string& onto,
                            const std::string& pick) {
    REQUIRE(sandbox.git({"checkout", "-q", "-B", "scratch", onto}).status == 0);
    const auto picked = sandbox.git({"cherry-pick", "--keep-redundant-commits", pick});
    INFO(picked.all());
    REQUIRE(picked.status == 0);
    const auto tree = tree_of(sandbox, "HEAD");
    REQUIRE(sandbox.git({"checkout", "-q", "main"}).status == 0);
    return tree;
}

} // namespace

TEST_CASE("speculate: tree merges give git's trees and libgit2's conflicts", "[queue][speculate]") {
    for (const auto& each : merge_cases()) {
        DYNAMIC_SECTION(each.name) {
            git_sandbox sandbox;
            const auto made = testing::commit_three(sandbox, project(), each.ours, each.theirs);
            libgit2_guard libgit2;
            const auto repo = open_repository(sandbox.clone() + "/.git");
            git_signature* raw = nullptr;
            REQUIRE(git_signature_new(&raw, "trunkgate", "trunkgate@localhost", 1700000000, 0) ==
                    0);
            signature_ptr committer(raw);
            const auto git_merged = testing::git_merge_tree(sandbox, made.ours, made.theirs);
            // What speculate() made before it merged trees itself: libgit2 throughout.
            const auto before_rebase =
                testing::libgit2_cherrypick(repo.get(), made.ours, made.theirs);
            const auto before_merge = testing::libgit2_merge(repo.get(), made.ours, made.theirs);
            for (const auto method : {queue_method::rebase, queue_method::merge}) {
                INFO((method == queue_method::rebase ? "rebase" : "merge"));
                const auto speculated = speculate(repo.get(), oid(made.ours),
                                                  {oid(made.theirs), "q-0007", "Merge q-0007"},
                                                  method, committer.get());
                CHECK(speculated.merges == std::vector<merge_route>{each.route});
                CHECK(speculated.conflicts == each.conflicts);
                const auto& before = method == queue_method::rebase ? before_rebase : before_merge;
                CHECK(speculated.conflicts == before.conflicts);
                if (each.conflicts.empty()) {
                    const auto tree = speculative_tree(sandbox, speculated);
                    CHECK(tree == before.tree);
                    CHECK(tree == git_merged.tree);
                    if (method == queue_method::rebase)
                        CHECK(tree == git_cherry_pick(sandbox, made.ours, made.theirs));
                } else {
                    CHECK_FALSE(speculated.commit);
                    CHECK_THAT(speculated.problem, Catch::Matchers::Contains("q-0007"));
                    CHECK_FALSE(git_merged.conflicts.empty());
                }
            }
        }
    }
}
