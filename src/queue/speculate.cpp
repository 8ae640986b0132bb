#include "trunkgate/queue/speculate.hpp"

#include <algorithm>

#include "trunkgate/history/git.hpp"
#include "trunkgate/history/history.hpp"

namespace trunkgate {

namespace {

// libgit2's defaults (find renames), set by its init function: the INIT macro leaves fields to
// the compiler, which clang's -Wextra rightly calls out.
git_merge_options default_merge_options() {
    git_merge_options options;
    check(git_merge_options_init(&options, GIT_MERGE_OPTIONS_VERSION), "set up a merge");
    return options;
}

commit_ptr lookup(git_repository* repo, const git_oid& id) {
    auto commit = find_commit(repo, id);
    if (!commit)
        throw internal_error("commit " + to_hex(id) + " is missing");
    return std::move(*commit);
}

// The conflicting paths of an in-memory index, sorted, each once.
std::vector<std::string> conflict_paths(git_index* index) {
    git_index_conflict_iterator* raw = nullptr;
    check(git_index_conflict_iterator_new(&raw, index), "list the conflicts");
    index_conflicts_ptr conflicts(raw);
    std::vector<std::string> paths;
    const git_index_entry *ancestor = nullptr, *ours = nullptr, *theirs = nullptr;
    while (git_index_conflict_next(&ancestor, &ours, &theirs, conflicts.get()) == 0) {
        const auto* named = ours ? ours : theirs ? theirs : ancestor;
        if (named)
            paths.emplace_back(named->path);
    }
    git_error_clear(); // GIT_ITEROVER
    std::sort(paths.begin(), paths.end());
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
    return paths;
}

// A commit of the tree `tree_id` (already written), objects only.
git_oid commit_tree(git_repository* repo, const git_oid& tree_id, const git_signature* author,
                    const git_signature* committer, const char* message,
                    std::vector<const git_commit*> parents) {
    git_tree* raw_tree = nullptr;
    check(git_tree_lookup(&raw_tree, repo, &tree_id), "read a tree just written");
    tree_ptr tree(raw_tree);
    git_oid id;
    check(git_commit_create(&id, repo, nullptr, author, committer, nullptr, message, tree.get(),
                            parents.size(), parents.data()),
          "write a speculative commit");
    return id;
}

// The tree of a merged index, written; nullopt (with `result` naming `what` and the paths) when
// the index has conflicts.
std::optional<git_oid> write_merged_tree(git_repository* repo, git_index* index,
                                         speculation& result, const std::string& what) {
    if (git_index_has_conflicts(index)) {
        result.conflicts = conflict_paths(index);
        result.problem = what + " conflicts with the target";
        return std::nullopt;
    }
    git_oid tree_id;
    check(git_index_write_tree_to(&tree_id, index, repo), "write the tree of " + what);
    return tree_id;
}

// The commits of the change that `onto` lacks, oldest first, merges left out.
std::vector<git_oid> commits_to_pick(git_repository* repo, const git_oid& onto,
                                     const git_oid& tip) {
    git_revwalk* raw = nullptr;
    check(git_revwalk_new(&raw, repo), "start a history walk");
    revwalk_ptr walk(raw);
    check(git_revwalk_sorting(walk.get(), GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE),
          "sort the walk");
    check(git_revwalk_push(walk.get(), &tip), "walk the change");
    check(git_revwalk_hide(walk.get(), &onto), "hide the target");
    std::vector<git_oid> picked;
    git_oid id;
    while (git_revwalk_next(&id, walk.get()) == 0) {
        const auto commit = lookup(repo, id);
        if (git_commit_parentcount(commit.get()) <= 1)
            picked.push_back(id);
    }
    git_error_clear();
    return picked;
}

speculation rebase(git_repository* repo, const git_oid& onto, const queued_change& change,
                   const git_signature* committer) {
    speculation result;
    git_oid running = onto;
    for (const auto& id : commits_to_pick(repo, onto, change.tip)) {
        const auto pick = lookup(repo, id);
        const auto base = lookup(repo, running);
        git_index* raw = nullptr;
        const auto options = default_merge_options();
        check(git_cherrypick_commit(&raw, repo, pick.get(), base.get(), 0, &options),
              "apply " + short_id(id));
        index_ptr index(raw);
        const auto tree_id = write_merged_tree(repo, index.get(), result,
                                               "commit " + short_id(id) + " of " + change.label);
        if (!tree_id)
            return result;
        if (git_oid_equal(&*tree_id, git_commit_tree_id(base.get())))
            continue; // already in the target: nothing left to apply
        running = commit_tree(repo, *tree_id, git_commit_author(pick.get()), committer,
                              git_commit_message(pick.get()), {base.get()});
    }
    result.commit = running;
    return result;
}

speculation merge(git_repository* repo, const git_oid& onto, const queued_change& change,
                  const git_signature* committer) {
    speculation result;
    if (git_oid_equal(&onto, &change.tip) || is_ancestor(repo, change.tip, onto)) {
        result.commit = onto; // already in the target
        return result;
    }
    if (is_ancestor(repo, onto, change.tip)) {
        result.commit = change.tip;
        return result;
    }
    const auto ours = lookup(repo, onto);
    const auto theirs = lookup(repo, change.tip);
    git_index* raw = nullptr;
    const auto options = default_merge_options();
    check(git_merge_commits(&raw, repo, ours.get(), theirs.get(), &options),
          "merge " + change.label);
    index_ptr index(raw);
    if (const auto tree_id = write_merged_tree(repo, index.get(), result, change.label))
        result.commit = commit_tree(repo, *tree_id, committer, committer, change.message.c_str(),
                                    {ours.get(), theirs.get()});
    return result;
}

speculation fast_forward(git_repository* repo, const git_oid& onto, const queued_change& change) {
    speculation result;
    if (git_oid_equal(&onto, &change.tip) || is_ancestor(repo, onto, change.tip))
        result.commit = change.tip;
    else
        result.problem = change.label + " is not a fast-forward of the target (" + short_id(onto) +
                         "): rebase it on the target and queue it again";
    return result;
}

} // namespace

speculation speculate(git_repository* repo, const git_oid& onto, const queued_change& change,
                      queue_method method, const git_signature* committer) {
    switch (method) {
    case queue_method::rebase:
        return rebase(repo, onto, change, committer);
    case queue_method::merge:
        return merge(repo, onto, change, committer);
    case queue_method::fast_forward_only:
        return fast_forward(repo, onto, change);
    }
    return fast_forward(repo, onto, change);
}

} // namespace trunkgate
