#pragma once
// Three commits to merge, made with the real git client in a sandbox's clone: a base on main,
// "ours" on main after it and "theirs" on a branch from it, each from a list of edits; and
// what libgit2's own merges (what speculate() used before it had its own tree merge) and git
// make of them.

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "support/sandbox.hpp"
#include "trunkgate/history/git.hpp"

namespace trunkgate::testing {

/// One change to the clone's work tree: what was at `path` goes (a file, a link, a whole
/// directory), then a file, an executable file or a symlink (to `content`) takes its place.
struct edit {
    enum class kind { file, executable, link, removal };
    std::string path;
    std::string content;
    kind as = kind::file;
};

inline edit file(const std::string& path, const std::string& content) {
    return {path, content, edit::kind::file};
}
inline edit executable(const std::string& path, const std::string& content) {
    return {path, content, edit::kind::executable};
}
inline edit symlink(const std::string& path, const std::string& target) {
    return {path, target, edit::kind::link};
}
inline edit removal(const std::string& path) {
    return {path, "", edit::kind::removal};
}

/// Applies `edits` in the clone and commits them (an empty commit when there are none).
inline std::string commit_edits(git_sandbox& sandbox, const std::vector<edit>& edits,
                                const std::string& message) {
    namespace fs = std::filesystem;
    for (const auto& change : edits) {
        const fs::path path = sandbox.clone() + "/" + change.path;
        REQUIRE(sandbox.git({"rm", "-r", "-q", "--ignore-unmatch", "--", change.path}).status == 0);
        fs::remove_all(path);
        if (change.as == edit::kind::removal)
            continue;
        fs::create_directories(path.parent_path());
        if (change.as == edit::kind::link) {
            fs::create_symlink(change.content, path);
        } else {
            write_file(path.string(), change.content);
            if (change.as == edit::kind::executable)
                fs::permissions(path, fs::perms::owner_exec | fs::perms::group_exec,
                                fs::perm_options::add);
        }
        REQUIRE(sandbox.git({"add", "--", change.path}).status == 0);
    }
    REQUIRE(sandbox.git({"commit", "-q", "--allow-empty", "-m", message}).status == 0);
    return sandbox.clone_rev("HEAD");
}

struct three_commits {
    std::string base, ours, theirs;
};

/// base (on main), theirs (branch `theirs` from base), ours (main after base); main is
/// checked out at the end.
inline three_commits commit_three(git_sandbox& sandbox, const std::vector<edit>& base,
                                  const std::vector<edit>& ours, const std::vector<edit>& theirs) {
    three_commits made;
    made.base = commit_edits(sandbox, base, "base");
    REQUIRE(sandbox.git({"checkout", "-q", "-b", "theirs"}).status == 0);
    made.theirs = commit_edits(sandbox, theirs, "theirs");
    REQUIRE(sandbox.git({"checkout", "-q", "main"}).status == 0);
    made.ours = commit_edits(sandbox, ours, "ours");
    return made;
}

/// A merge's outcome: the tree's hex id when clean, else the conflicting paths (sorted, once).
struct merge_outcome {
    std::string tree;
    std::vector<std::string> conflicts;
};

/// What a merged libgit2 index holds, read here with libgit2's API alone.
inline merge_outcome outcome_of(git_repository* repo, git_index* index) {
    merge_outcome outcome;
    if (!git_index_has_conflicts(index)) {
        git_oid tree;
        REQUIRE(git_index_write_tree_to(&tree, index, repo) == 0);
        outcome.tree = to_hex(tree);
        return outcome;
    }
    // A conflict is named by its path on our side, else theirs, else the ancestor's, as
    // speculate() always named them.
    git_index_conflict_iterator* raw = nullptr;
    REQUIRE(git_index_conflict_iterator_new(&raw, index) == 0);
    index_conflicts_ptr conflicts(raw);
    const git_index_entry *ancestor = nullptr, *ours = nullptr, *theirs = nullptr;
    while (git_index_conflict_next(&ancestor, &ours, &theirs, conflicts.get()) == 0)
        outcome.conflicts.emplace_back((ours ? ours : theirs ? theirs : ancestor)->path);
    std::sort(outcome.conflicts.begin(), outcome.conflicts.end());
    outcome.conflicts.erase(std::unique(outcome.conflicts.begin(), outcome.conflicts.end()),
                            outcome.conflicts.end());
    return outcome;
}

inline commit_ptr commit_at(git_repository* repo, const std::string& hex) {
    git_oid id;
    REQUIRE(git_oid_fromstr(&id, hex.c_str()) == 0);
    git_commit* raw = nullptr;
    REQUIRE(git_commit_lookup(&raw, repo, &id) == 0);
    return commit_ptr(raw);
}

inline git_merge_options libgit2_defaults() {
    git_merge_options options;
    REQUIRE(git_merge_options_init(&options, GIT_MERGE_OPTIONS_VERSION) == 0);
    return options;
}

/// libgit2's git_cherrypick_commit of `pick` onto `onto`, with its default options.
inline merge_outcome libgit2_cherrypick(git_repository* repo, const std::string& onto,
                                        const std::string& pick) {
    const auto options = libgit2_defaults();
    git_index* raw = nullptr;
    REQUIRE(git_cherrypick_commit(&raw, repo, commit_at(repo, pick).get(),
                                  commit_at(repo, onto).get(), 0, &options) == 0);
    index_ptr index(raw);
    return outcome_of(repo, index.get());
}

/// libgit2's git_merge_commits of `ours` and `theirs`, with its default options.
inline merge_outcome libgit2_merge(git_repository* repo, const std::string& ours,
                                   const std::string& theirs) {
    const auto options = libgit2_defaults();
    git_index* raw = nullptr;
    REQUIRE(git_merge_commits(&raw, repo, commit_at(repo, ours).get(),
                              commit_at(repo, theirs).get(), &options) == 0);
    index_ptr index(raw);
    return outcome_of(repo, index.get());
}

/// `git merge-tree --write-tree`: the tree git's merge-ort makes of `ours` and `theirs` (with
/// conflict markers when they conflict) and the conflicted paths it names.
inline merge_outcome git_merge_tree(const git_sandbox& sandbox, const std::string& ours,
                                    const std::string& theirs) {
    const auto merged =
        sandbox.git({"merge-tree", "--write-tree", "--name-only", "--no-messages", ours, theirs});
    REQUIRE((merged.status == 0 || merged.status == 1));
    merge_outcome outcome;
    std::size_t start = 0;
    for (auto end = merged.out.find('\n'); end != std::string::npos;
         start = end + 1, end = merged.out.find('\n', start)) {
        const auto line = merged.out.substr(start, end - start);
        if (outcome.tree.empty())
            outcome.tree = line;
        else if (!line.empty())
            outcome.conflicts.push_back(line);
    }
    std::sort(outcome.conflicts.begin(), outcome.conflicts.end());
    outcome.conflicts.erase(std::unique(outcome.conflicts.begin(), outcome.conflicts.end()),
                            outcome.conflicts.end());
    CHECK((merged.status == 1) == !outcome.conflicts.empty());
    return outcome;
}

} // namespace trunkgate::testing
