#include "trunkgate/history/tree_diff.hpp"

#include "trunkgate/history/git.hpp"

namespace trunkgate {

namespace {

bool is_tree(const git_tree_entry* entry) {
    return entry && git_tree_entry_filemode(entry) == GIT_FILEMODE_TREE;
}

// Compares two trees the way `git diff-tree -r` does: subtrees with equal ids are skipped
// without being read, so the cost follows what changed, not the size of the tree.
class tree_differ {
  public:
    tree_differ(git_repository* repo, const tree_change_visitor& visit)
        : repo_(repo), visit_(visit) {}

    void diff(const git_tree* old_tree, const git_tree* new_tree) {
        const std::size_t old_count = old_tree ? git_tree_entrycount(old_tree) : 0;
        const std::size_t new_count = new_tree ? git_tree_entrycount(new_tree) : 0;
        std::size_t i = 0, k = 0;
        while (i < old_count || k < new_count) {
            const auto* old_entry = i < old_count ? git_tree_entry_byindex(old_tree, i) : nullptr;
            const auto* new_entry = k < new_count ? git_tree_entry_byindex(new_tree, k) : nullptr;
            // Tree order: a tree sorts as if its name ended in '/'.
            const int order = !old_entry   ? 1
                              : !new_entry ? -1
                                           : git_tree_entry_cmp(old_entry, new_entry);
            if (order < 0) {
                changed(old_entry, nullptr);
                ++i;
            } else if (order > 0) {
                changed(nullptr, new_entry);
                ++k;
            } else {
                if (!git_oid_equal(git_tree_entry_id(old_entry), git_tree_entry_id(new_entry)) ||
                    git_tree_entry_filemode(old_entry) != git_tree_entry_filemode(new_entry))
                    changed(old_entry, new_entry);
                ++i;
                ++k;
            }
        }
    }

  private:
    tree_ptr subtree(const git_tree_entry* entry) {
        git_tree* raw = nullptr;
        check(git_tree_lookup(&raw, repo_, git_tree_entry_id(entry)), "read a tree");
        return tree_ptr(raw);
    }

    void changed(const git_tree_entry* old_entry, const git_tree_entry* new_entry) {
        const auto* named = new_entry ? new_entry : old_entry;
        const auto length = path_.size();
        path_ += git_tree_entry_name(named);
        if (is_tree(old_entry) || is_tree(new_entry)) {
            path_ += '/';
            const auto old_sub = is_tree(old_entry) ? subtree(old_entry) : nullptr;
            const auto new_sub = is_tree(new_entry) ? subtree(new_entry) : nullptr;
            diff(old_sub.get(), new_sub.get());
            path_.pop_back();
            // A file that became a directory (or back) is also a change of the file itself.
            if (old_entry && new_entry && is_tree(old_entry) != is_tree(new_entry)) {
                if (is_tree(new_entry))
                    visit_(tree_change::removed, path_, old_entry);
                else
                    visit_(tree_change::added, path_, new_entry);
            }
        } else if (!old_entry) {
            visit_(tree_change::added, path_, new_entry);
        } else if (!new_entry) {
            visit_(tree_change::removed, path_, old_entry);
        } else {
            visit_(tree_change::modified, path_, new_entry);
        }
        path_.resize(length);
    }

    git_repository* repo_;
    const tree_change_visitor& visit_;
    std::string path_;
};

} // namespace

void diff_trees(git_repository* repo, const git_tree* old_tree, const git_tree* new_tree,
                const tree_change_visitor& visit) {
    tree_differ(repo, visit).diff(old_tree, new_tree);
}

void diff_commit(git_repository* repo, const git_commit* commit, const tree_change_visitor& visit) {
    git_tree* new_raw = nullptr;
    check(git_commit_tree(&new_raw, commit), "read the tree of " + to_hex(*git_commit_id(commit)));
    tree_ptr new_tree(new_raw);
    tree_ptr old_tree;
    if (git_commit_parentcount(commit) > 0) {
        git_commit* parent_raw = nullptr;
        check(git_commit_parent(&parent_raw, commit, 0), "read the first parent");
        commit_ptr parent(parent_raw);
        git_tree* old_raw = nullptr;
        check(git_commit_tree(&old_raw, parent.get()), "read the parent's tree");
        old_tree.reset(old_raw);
    }
    diff_trees(repo, old_tree.get(), new_tree.get(), visit);
}

} // namespace trunkgate
