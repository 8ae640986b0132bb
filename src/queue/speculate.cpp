#include "trunkgate/queue/speculate.hpp"

#include "trunkgate/history/git.hpp"
#include "trunkgate/history/history.hpp"
#include "trunkgate/queue/tree_merge.hpp"

namespace trunkgate {

namespace {

commit_ptr lookup(git_repository* repo, const git_oid& id) {
    auto commit = find_commit(repo, id);
    if (!commit)
        throw internal_error("commit " + to_hex(id) + " is missing");
    return std::move(*commit);
}

tree_ptr tree_of(const git_commit* commit) {
    git_tree* raw = nullptr;
    check(git_commit_tree(&raw, commit), "read the tree of " + short_id(*git_commit_id(commit)));
    return tree_ptr(raw);
}

// The tree of the first parent of `commit`; nullptr (the empty tree) for a root commit.
tree_ptr parent_tree_of(const git_commit* commit) {
    if (git_commit_parentcount(commit) == 0)
        return nullptr;
    git_commit* raw = nullptr;
    check(git_commit_parent(&raw, commit, 0),
          "read the parent of " + short_id(*git_commit_id(commit)));
    const commit_ptr parent(raw);
    return tree_of(parent.get());
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

// The one merge base of `one` and `two`; nullopt when they have none or several.
std::optional<git_oid> sole_merge_base(git_repository* repo, const git_oid& one,
                                       const git_oid& two) {
    git_oidarray bases{};
    const int rc = git_merge_bases(&bases, repo, &one, &two);
    if (rc == GIT_ENOTFOUND) {
        git_error_clear();
        return std::nullopt;
    }
    check(rc, "find the merge base of " + short_id(one) + " and " + short_id(two));
    std::optional<git_oid> base;
    if (bases.count == 1)
        base = bases.ids[0];
    git_oidarray_dispose(&bases);
    return base;
}

// The merged tree; nullopt (with `result` naming `what` and the paths) when it conflicts.
std::optional<git_oid> merged_tree(tree_merge_result merged, speculation& result,
                                   const std::string& what) {
    result.merges.push_back(merged.route);
    if (!merged.tree) {
        result.conflicts = std::move(merged.conflicts);
        result.problem = what + " conflicts with the target";
    }
    return merged.tree;
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
        // What git_cherrypick_commit merges: the pick's parent, the base and the pick. Possible
        // renames (and the other cases tree_merge.hpp lists) still go to libgit2's merge.
        const auto tree_id =
            merged_tree(merge_trees(repo, parent_tree_of(pick.get()).get(),
                                    tree_of(base.get()).get(), tree_of(pick.get()).get()),
                        result, "commit " + short_id(id) + " of " + change.label);
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
    tree_merge_result merged;
    if (const auto base_id = sole_merge_base(repo, onto, change.tip)) {
        const auto base = lookup(repo, *base_id);
        merged = merge_trees(repo, tree_of(base.get()).get(), tree_of(ours.get()).get(),
                             tree_of(theirs.get()).get());
    } else {
        // No merge base, or several, which git_merge_commits merges into a virtual one first.
        git_index* raw = nullptr;
        const auto options = default_merge_options();
        check(git_merge_commits(&raw, repo, ours.get(), theirs.get(), &options),
              "merge " + change.label);
        index_ptr index(raw);
        merged = read_merged_index(repo, index.get());
    }
    if (const auto tree_id = merged_tree(std::move(merged), result, change.label))
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
