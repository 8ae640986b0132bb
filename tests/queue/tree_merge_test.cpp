#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <random>

#include <git2/sys/mempack.h>
#include <git2/sys/repository.h>

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

namespace {

// A tree as paths and what each holds, and random ones made from a few names chosen to meet:
// `x` is a file name and a directory name, `x.c` and `x-1` sort between `x` and `x/`.
struct leaf {
    std::string content;
    git_filemode_t mode;
};
using flat_tree = std::map<std::string, leaf>;

class random_merges {
  public:
    explicit random_merges(std::uint32_t seed) : rng_(seed) {}

    flat_tree base() {
        flat_tree tree;
        const auto count = 2 + pick(8);
        for (unsigned i = 0; i < count; ++i)
            put(tree, random_path(), random_leaf());
        return tree;
    }

    flat_tree edited(flat_tree tree) {
        const auto count = pick(4);
        for (unsigned i = 0; i < count; ++i)
            edit_once(tree);
        return tree;
    }

  private:
    unsigned pick(unsigned n) { return static_cast<unsigned>(rng_() % n); }

    std::string random_path() {
        static const char* const dirs[] = {"a", "x", "a.d"};
        static const char* const files[] = {"f", "x", "x.c", "x-1"};
        std::string path;
        for (auto depth = pick(3); depth > 0; --depth)
            path += std::string(dirs[pick(3)]) + "/";
        return path + files[pick(4)];
    }

    // Eight lines, a few of them changed: merges of two such texts are clean or conflict
    // depending on which lines each side changed.
    std::string text() {
        std::string lines;
        for (int line = 1; line <= 8; ++line)
            lines +=
                (pick(4) == 0 ? "changed " + std::to_string(pick(3)) : std::to_string(line)) + "\n";
        return lines;
    }

    leaf random_leaf() {
        switch (pick(12)) {
        case 0:
            return {"target-" + std::to_string(pick(3)), GIT_FILEMODE_LINK};
        case 1:
            return {std::string(40, "123"[pick(3)]), GIT_FILEMODE_COMMIT};
        case 2:
            return {text(), GIT_FILEMODE_BLOB_EXECUTABLE};
        case 3:
            return {std::string("bin\0ary", 7) + std::to_string(pick(2)), GIT_FILEMODE_BLOB};
        default:
            return {text(), GIT_FILEMODE_BLOB};
        }
    }

    // Sets `path`, removing what would make it a file and a directory at once.
    static void put(flat_tree& tree, const std::string& path, const leaf& value) {
        for (auto slash = path.find('/'); slash != std::string::npos;
             slash = path.find('/', slash + 1))
            tree.erase(path.substr(0, slash));
        remove_under(tree, path);
        tree[path] = value;
    }

    static void remove_under(flat_tree& tree, const std::string& path) {
        for (auto it = tree.lower_bound(path + "/");
             it != tree.end() && it->first.compare(0, path.size() + 1, path + "/") == 0;)
            it = tree.erase(it);
    }

    std::string existing(const flat_tree& tree) {
        auto it = tree.begin();
        std::advance(it, pick(static_cast<unsigned>(tree.size())));
        return it->first;
    }

    void edit_once(flat_tree& tree) {
        if (tree.empty())
            return put(tree, random_path(), random_leaf());
        const auto path = existing(tree);
        auto& value = tree[path];
        switch (pick(8)) {
        case 0: // a line or two changed
            if (value.mode == GIT_FILEMODE_BLOB || value.mode == GIT_FILEMODE_BLOB_EXECUTABLE) {
                auto lines = value.content;
                const auto at = lines.find(std::to_string(1 + pick(8)) + "\n");
                if (at != std::string::npos)
                    lines.replace(at, 1, "edit " + std::to_string(pick(2)));
                else
                    lines += "appended\n";
                value.content = lines;
            }
            return;
        case 1: // chmod
            if (value.mode == GIT_FILEMODE_BLOB || value.mode == GIT_FILEMODE_BLOB_EXECUTABLE)
                value.mode = value.mode == GIT_FILEMODE_BLOB ? GIT_FILEMODE_BLOB_EXECUTABLE
                                                             : GIT_FILEMODE_BLOB;
            return;
        case 2:
            tree.erase(path);
            return;
        case 3: { // a whole directory removed
            const auto slash = path.find('/');
            if (slash == std::string::npos)
                tree.erase(path);
            else
                remove_under(tree, path.substr(0, slash));
            return;
        }
        case 4: { // the file becomes a directory
            const auto moved = value;
            put(tree, path + "/f", moved);
            return;
        }
        case 5:
            value = random_leaf();
            return;
        default:
            put(tree, random_path(), random_leaf());
            return;
        }
    }

    std::mt19937 rng_;
};

// Writes `tree` (paths under `prefix`) with libgit2; nullptr when it is empty.
tree_ptr write_tree(git_repository* repo, const flat_tree& tree, const std::string& prefix = "") {
    git_treebuilder* raw = nullptr;
    REQUIRE(git_treebuilder_new(&raw, repo, nullptr) == 0);
    treebuilder_ptr builder(raw);
    for (auto it = tree.lower_bound(prefix);
         it != tree.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
        const auto rest = it->first.substr(prefix.size());
        const auto slash = rest.find('/');
        git_oid id;
        if (slash == std::string::npos) {
            if (it->second.mode == GIT_FILEMODE_COMMIT)
                REQUIRE(git_oid_fromstr(&id, it->second.content.c_str()) == 0);
            else
                REQUIRE(git_blob_create_from_buffer(&id, repo, it->second.content.data(),
                                                    it->second.content.size()) == 0);
            REQUIRE(git_treebuilder_insert(nullptr, builder.get(), rest.c_str(), &id,
                                           it->second.mode) == 0);
            ++it;
            continue;
        }
        const auto dir = prefix + rest.substr(0, slash + 1);
        const auto subtree = write_tree(repo, tree, dir);
        REQUIRE(subtree);
        REQUIRE(git_treebuilder_insert(nullptr, builder.get(), rest.substr(0, slash).c_str(),
                                       git_tree_id(subtree.get()), GIT_FILEMODE_TREE) == 0);
        while (it != tree.end() && it->first.compare(0, dir.size(), dir) == 0)
            ++it;
    }
    if (git_treebuilder_entrycount(builder.get()) == 0)
        return nullptr;
    git_oid id;
    REQUIRE(git_treebuilder_write(&id, builder.get()) == 0);
    git_tree* written = nullptr;
    REQUIRE(git_tree_lookup(&written, repo, &id) == 0);
    return tree_ptr(written);
}

} // namespace

TEST_CASE("tree merge: random merges give libgit2's result", "[queue][tree_merge]") {
    testing::temp_dir dir;
    libgit2_guard guard;
    git_repository* raw = nullptr;
    REQUIRE(git_repository_init(&raw, (dir / "repo.git").c_str(), 1) == 0);
    repository_ptr repo(raw);
    // Objects in memory: thousands of merges write tens of thousands of small objects.
    git_odb* odb_raw = nullptr;
    REQUIRE(git_odb_new(&odb_raw) == 0);
    odb_ptr odb(odb_raw);
    git_odb_backend* mempack = nullptr;
    REQUIRE(git_mempack_new(&mempack) == 0);
    REQUIRE(git_odb_add_backend(odb.get(), mempack, 1) == 0);
    git_repository_set_odb(repo.get(), odb.get());

    random_merges random(20251201);
    const int merges = 4000;
    std::map<merge_route, int> routes;
    int clean = 0;
    for (int i = 0; i < merges; ++i) {
        const auto base = random.base();
        const auto ancestor = write_tree(repo.get(), base);
        const auto ours = write_tree(repo.get(), random.edited(base));
        const auto theirs = write_tree(repo.get(), random.edited(base));
        INFO("merge " << i << ": ancestor "
                      << (ancestor ? to_hex(*git_tree_id(ancestor.get())) : "-") << ", ours "
                      << (ours ? to_hex(*git_tree_id(ours.get())) : "-") << ", theirs "
                      << (theirs ? to_hex(*git_tree_id(theirs.get())) : "-"));
        const auto options = testing::libgit2_defaults();
        git_index* index_raw = nullptr;
        REQUIRE(git_merge_trees(&index_raw, repo.get(), ancestor.get(), ours.get(), theirs.get(),
                                &options) == 0);
        index_ptr index(index_raw);
        const auto before = testing::outcome_of(repo.get(), index.get());
        const auto merged = merge_trees(repo.get(), ancestor.get(), ours.get(), theirs.get());
        ++routes[merged.route];
        clean += merged.tree.has_value();
        CHECK(merged.conflicts == before.conflicts);
        CHECK((merged.tree ? to_hex(*merged.tree) : "") == before.tree);
    }
    // Both routes, clean merges and conflicts all taken many times.
    CHECK(routes[merge_route::tree_walk] > merges / 3);
    CHECK(routes[merge_route::libgit2] > merges / 10);
    CHECK(clean > merges / 2);
    CHECK(clean < merges - merges / 20);
}
