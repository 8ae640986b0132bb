#include <catch2/catch.hpp>

#include <filesystem>

#include "merge_scenario.hpp"
#include "support/sandbox.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/queue/tree_merge.hpp"

using namespace trunkgate;
using testing::edit;
using testing::file;
using testing::git_sandbox;
using testing::removal;

namespace {

std::vector<edit> deep_project() {
    std::vector<edit> files{file("README.md", "readme\n"), file("docs/guide.md", "guide\n")};
    for (const auto* module : {"m01", "m02", "m03"})
        for (const auto* package : {"p01", "p02", "p03"}) {
            const auto path = std::string("src/") + module + "/" + package + "/file.c";
            files.push_back(file(path, "// " + path + "\n"));
        }
    return files;
}

tree_ptr tree_at(git_repository* repo, const std::string& rev) {
    const auto commit = testing::commit_at(repo, rev);
    git_tree* raw = nullptr;
    REQUIRE(git_commit_tree(&raw, commit.get()) == 0);
    return tree_ptr(raw);
}

struct opened {
    libgit2_guard guard;
    repository_ptr repo;
    tree_ptr base, ours, theirs;

    opened(const git_sandbox& sandbox, const testing::three_commits& made)
        : repo(open_repository(sandbox.clone() + "/.git")), base(tree_at(repo.get(), made.base)),
          ours(tree_at(repo.get(), made.ours)), theirs(tree_at(repo.get(), made.theirs)) {}

    tree_merge_result merge() const {
        return merge_trees(repo.get(), base.get(), ours.get(), theirs.get());
    }

    // libgit2's git_merge_trees of the same trees: what speculate() used to get.
    testing::merge_outcome by_libgit2() const {
        const auto options = testing::libgit2_defaults();
        git_index* raw = nullptr;
        REQUIRE(git_merge_trees(&raw, repo.get(), base.get(), ours.get(), theirs.get(), &options) ==
                0);
        index_ptr index(raw);
        return testing::outcome_of(repo.get(), index.get());
    }
};

std::string hex_of(const tree_merge_result& merged) {
    REQUIRE(merged.tree);
    return to_hex(*merged.tree);
}

} // namespace

TEST_CASE("tree merge: changes in different deep subtrees are merged without reading the others",
          "[queue][tree_merge]") {
    git_sandbox sandbox;
    const auto made =
        testing::commit_three(sandbox, deep_project(), {file("src/m01/p02/file.c", "ours\n")},
                              {file("src/m01/p03/file.c", "theirs\n")});
    const auto git_merged = testing::git_merge_tree(sandbox, made.ours, made.theirs);
    REQUIRE(git_merged.conflicts.empty());
    // Subtrees that are the same on all three sides are taken whole, never read: with their
    // objects gone the merge still works, where libgit2's, which reads every entry, fails.
    for (const auto* unread : {"src/m02", "src/m03/p01", "docs", "src/m01/p01"}) {
        const auto id = sandbox.clone_rev(made.base + ":" + unread);
        REQUIRE(std::filesystem::remove(sandbox.clone() + "/.git/objects/" + id.substr(0, 2) + "/" +
                                        id.substr(2)));
    }
    opened trees(sandbox, made);
    const auto merged = trees.merge();
    CHECK(merged.route == merge_route::tree_walk);
    CHECK(hex_of(merged) == git_merged.tree);
    const auto options = testing::libgit2_defaults();
    git_index* raw = nullptr;
    CHECK(git_merge_trees(&raw, trees.repo.get(), trees.base.get(), trees.ours.get(),
                          trees.theirs.get(), &options) < 0);
    git_index_free(raw);
}

TEST_CASE("tree merge: a side that deletes a path and adds another goes to libgit2 (renames)",
          "[queue][tree_merge]") {
    git_sandbox sandbox;
    SECTION("a rename on one side, an edit of the renamed file on the other") {
        const auto made = testing::commit_three(
            sandbox, deep_project(), {file("src/m02/p01/file.c", "// src/m02/p01/file.c\n+\n")},
            {removal("src/m02/p01/file.c"), file("src/m03/moved.c", "// src/m02/p01/file.c\n")});
        const opened trees(sandbox, made);
        const auto merged = trees.merge();
        CHECK(merged.route == merge_route::libgit2);
        // libgit2 and git both follow the file to its new name.
        CHECK(hex_of(merged) == trees.by_libgit2().tree);
        CHECK(hex_of(merged) == testing::git_merge_tree(sandbox, made.ours, made.theirs).tree);
        CHECK(sandbox.git({"show", hex_of(merged) + ":src/m03/moved.c"}).out ==
              "// src/m02/p01/file.c\n+\n");
    }
    SECTION("any deletion and addition on one side, however unrelated") {
        const auto made = testing::commit_three(
            sandbox, deep_project(), {file("README.md", "ours\n")},
            {removal("src/m02/p01/file.c"), file("src/m03/p02/other.c", "unrelated\n")});
        const opened trees(sandbox, made);
        const auto merged = trees.merge();
        CHECK(merged.route == merge_route::libgit2);
        CHECK(hex_of(merged) == trees.by_libgit2().tree);
    }
    SECTION("a deletion on one side and an addition on the other stay with the walk") {
        const auto made =
            testing::commit_three(sandbox, deep_project(), {file("src/m03/p02/other.c", "added\n")},
                                  {removal("src/m02/p01/file.c")});
        const opened trees(sandbox, made);
        const auto merged = trees.merge();
        CHECK(merged.route == merge_route::tree_walk);
        CHECK(hex_of(merged) == trees.by_libgit2().tree);
        CHECK(hex_of(merged) == testing::git_merge_tree(sandbox, made.ours, made.theirs).tree);
    }
}

TEST_CASE("tree merge: a file merge with another merge driver goes to libgit2",
          "[queue][tree_merge]") {
    git_sandbox sandbox;
    const auto made =
        testing::commit_three(sandbox, deep_project(), {file("docs/guide.md", "guide\nours\n")},
                              {file("docs/guide.md", "guide\ntheirs\n")});
    SECTION("the built-in text merge: a conflict, found by the walk") {
        const opened trees(sandbox, made);
        const auto merged = trees.merge();
        CHECK(merged.route == merge_route::tree_walk);
        CHECK(merged.conflicts == std::vector<std::string>{"docs/guide.md"});
        CHECK(merged.conflicts == trees.by_libgit2().conflicts);
    }
    SECTION("merge=union in info/attributes: libgit2's union merge") {
        testing::write_file(sandbox.clone() + "/.git/info/attributes", "*.md merge=union\n");
        const opened trees(sandbox, made);
        const auto merged = trees.merge();
        CHECK(merged.route == merge_route::libgit2);
        CHECK(merged.conflicts.empty());
        CHECK(hex_of(merged) == trees.by_libgit2().tree);
        CHECK(sandbox.git({"show", hex_of(merged) + ":docs/guide.md"}).out ==
              "guide\nours\ntheirs\n");
    }
    SECTION("merge.default set: libgit2") {
        REQUIRE(sandbox.git({"config", "merge.default", "union"}).status == 0);
        const opened trees(sandbox, made);
        const auto merged = trees.merge();
        CHECK(merged.route == merge_route::libgit2);
        CHECK(merged.conflicts == trees.by_libgit2().conflicts);
        CHECK(merged.tree.has_value() == !trees.by_libgit2().tree.empty());
    }
}

TEST_CASE("tree merge: a directory/file conflict libgit2 may see otherwise goes to libgit2",
          "[queue][tree_merge]") {
    git_sandbox sandbox;
    // `tool.c` sorts between `tool` and `tool/`, so libgit2 no longer sees the file `tool`
    // right before the directory's paths when `tool.c` changed too.
    const auto made = testing::commit_three(
        sandbox, {file("src/tool.c", "tool\n"), file("README.md", "readme\n")},
        {file("src/tool", "a file\n"), file("src/tool.c", "ours\n")},
        {file("src/tool/main.c", "a directory\n")});
    const opened trees(sandbox, made);
    const auto before = trees.by_libgit2();
    const auto merged = trees.merge();
    CHECK(merged.route == merge_route::libgit2);
    CHECK(merged.conflicts == before.conflicts);
    CHECK((merged.tree ? to_hex(*merged.tree) : "") == before.tree);
}

TEST_CASE("tree merge: no ancestor, and a merge that leaves nothing", "[queue][tree_merge]") {
    git_sandbox sandbox;
    const auto made =
        testing::commit_three(sandbox, {file("a/x.txt", "x\n"), file("b/y.txt", "y\n")},
                              {removal("a/x.txt"), removal("b/y.txt")}, {removal("a/x.txt")});
    opened trees(sandbox, made);
    SECTION("everything deleted: the empty tree") {
        const auto merged = trees.merge();
        CHECK(merged.route == merge_route::tree_walk);
        CHECK(hex_of(merged) == trees.by_libgit2().tree);
        CHECK(hex_of(merged) == "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
    }
    SECTION("no ancestor: everything is an addition") {
        trees.base.reset();
        trees.ours = tree_at(trees.repo.get(), made.base);
        const auto merged = trees.merge();
        CHECK(merged.route == merge_route::tree_walk);
        CHECK(hex_of(merged) == trees.by_libgit2().tree);
    }
}
