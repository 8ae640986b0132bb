#include "trunkgate/queue/tree_merge.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

#include "trunkgate/history/git.hpp"
#include "trunkgate/history/tree_diff.hpp"

// libgit2's git_merge_trees flattens the three trees into every path they hold and merges path
// by path, so a merge costs the size of the tree even when a change touched one file. The walk
// here gives the same result level by level: where two of the three entries of a name are equal
// the answer is known without reading below it, and only subtrees that all three sides changed
// are opened. Equal results matter: a speculative commit's id must not depend on which merge
// made its tree. So the walk follows libgit2's rules wherever they are not simply "the side
// that changed wins" (merge.c, merge_conflict_resolve_*), and hands the whole merge back to
// libgit2 where its flat view decides otherwise than a walk can see:
// - renames: libgit2 pairs a path one side deleted with one it added (GIT_MERGE_FIND_RENAMES is
//   on by default) and then merges a rename with the other side's edit of the old path, or
//   reports rename/delete and rename/add conflicts; when a side both deletes and adds paths the
//   walk does not try;
// - a file merge whose path has a `merge` attribute, or with merge.default set: libgit2 would
//   pick that driver (union, binary, ...);
// - a directory/file conflict next to a changed name that sorts between `name` and `name/`
//   (`name.txt`, `name-old/`): libgit2 then no longer pairs the file with its directory.
// Trees git itself would not write are not rewritten either: libgit2 rewrites every tree of
// the result and so normalises legacy modes (100664) and drops empty subtrees everywhere,
// while the walk, like git, keeps the subtrees it takes whole as they are.

namespace trunkgate {

namespace {

// An entry of a tree, or none; borrowed from a tree the caller keeps alive.
using entry = const git_tree_entry*;

constexpr std::size_t ancestor_side = 0, ours_side = 1, theirs_side = 2;

bool is_tree(entry e) {
    return e && git_tree_entry_type(e) == GIT_OBJECT_TREE;
}
bool is_link(entry e) {
    return e && git_tree_entry_filemode(e) == GIT_FILEMODE_LINK;
}
bool is_submodule(entry e) {
    return e && git_tree_entry_filemode(e) == GIT_FILEMODE_COMMIT;
}

// Equal as libgit2's merge compares entries (index_entry_cmp): both absent, or the same id with
// the same mode as the tree records it.
bool same(entry x, entry y) {
    if (!x || !y)
        return x == y;
    return git_tree_entry_filemode_raw(x) == git_tree_entry_filemode_raw(y) &&
           git_oid_equal(git_tree_entry_id(x), git_tree_entry_id(y));
}

// The mode libgit2 writes for an entry of a merged index (git_index__create_mode).
git_filemode_t written_mode(std::uint32_t mode) {
    switch (mode & 0170000) {
    case 0040000:
        return GIT_FILEMODE_TREE;
    case 0120000:
        return GIT_FILEMODE_LINK;
    case 0160000:
        return GIT_FILEMODE_COMMIT;
    default:
        return (mode & 0100) ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB;
    }
}

// One name of a tree level and its entry on each side (ancestor, ours, theirs).
struct row {
    std::string_view name;
    std::array<entry, 3> sides;

    entry ancestor() const { return sides[ancestor_side]; }
    entry ours() const { return sides[ours_side]; }
    entry theirs() const { return sides[theirs_side]; }
    bool unchanged() const { return same(ancestor(), ours()) && same(ancestor(), theirs()); }
};

// The entries of `tree` (none for nullptr) by name, in byte order: tree order puts a
// directory where its name plus '/' would go, which does not line up a file with a directory
// of the same name.
std::vector<entry> by_name(const git_tree* tree) {
    std::vector<entry> entries;
    const std::size_t count = tree ? git_tree_entrycount(tree) : 0;
    entries.reserve(count);
    for (std::size_t i = 0; i < count; ++i)
        entries.push_back(git_tree_entry_byindex(tree, i));
    std::sort(entries.begin(), entries.end(), [](entry x, entry y) {
        return std::strcmp(git_tree_entry_name(x), git_tree_entry_name(y)) < 0;
    });
    return entries;
}

std::vector<row> join(const git_tree* ancestor, const git_tree* ours, const git_tree* theirs) {
    const std::array<std::vector<entry>, 3> sides{by_name(ancestor), by_name(ours),
                                                  by_name(theirs)};
    std::array<std::size_t, 3> next{};
    std::vector<row> rows;
    for (;;) {
        std::string_view first;
        bool any = false;
        for (std::size_t side = 0; side < 3; ++side)
            if (next[side] < sides[side].size()) {
                const std::string_view name = git_tree_entry_name(sides[side][next[side]]);
                if (!any || name < first)
                    first = name;
                any = true;
            }
        if (!any)
            return rows;
        row current{first, {nullptr, nullptr, nullptr}};
        for (std::size_t side = 0; side < 3; ++side)
            if (next[side] < sides[side].size() &&
                git_tree_entry_name(sides[side][next[side]]) == first)
                current.sides[side] = sides[side][next[side]++];
        rows.push_back(current);
    }
}

// Whether, next to the directory/file conflict at rows[at], a name that sorts between `name`
// and `name/` (its next character sorts before '/') changed: libgit2 recognises the conflict
// only when the file's path comes right before its directory's first path.
bool changed_name_in_between(const std::vector<row>& rows, std::size_t at) {
    const auto name = rows[at].name;
    for (auto i = at + 1; i < rows.size(); ++i) {
        const auto other = rows[i].name;
        if (other.size() <= name.size() || other.substr(0, name.size()) != name ||
            static_cast<unsigned char>(other[name.size()]) >= '/')
            return false;
        if (!rows[i].unchanged())
            return true;
    }
    return false;
}

// Whether `side` deletes a path of `ancestor` and adds another (paths of files, links and
// submodules; a file that became a directory is both): libgit2 may pair them as a rename.
bool deletes_and_adds(git_repository* repo, const git_tree* ancestor, const git_tree* side) {
    if (!ancestor || !side || git_oid_equal(git_tree_id(ancestor), git_tree_id(side)))
        return false;
    bool deletes = false, adds = false;
    diff_trees(repo, ancestor, side, [&](tree_change change, const std::string&, entry) {
        deletes = deletes || change == tree_change::removed;
        adds = adds || change == tree_change::added;
    });
    return deletes && adds;
}

struct merge_file_result {
    git_merge_file_result result{};
    merge_file_result() = default;
    merge_file_result(const merge_file_result&) = delete;
    merge_file_result& operator=(const merge_file_result&) = delete;
    ~merge_file_result() { git_merge_file_result_free(&result); }
};

// An entry a level of the result gets: its id and mode.
struct new_entry {
    git_oid id;
    git_filemode_t mode;
};

class tree_walk {
  public:
    explicit tree_walk(git_repository* repo) : repo_(repo) {}

    // The merge, or nullopt when libgit2 has to make it.
    std::optional<tree_merge_result> merge(const git_tree* ancestor, const git_tree* ours,
                                           const git_tree* theirs) {
        const auto merged = merge_level(ancestor, ours, theirs);
        if (fall_back_)
            return std::nullopt;
        tree_merge_result result;
        if (!conflicts_.empty()) {
            std::sort(conflicts_.begin(), conflicts_.end());
            conflicts_.erase(std::unique(conflicts_.begin(), conflicts_.end()), conflicts_.end());
            result.conflicts = std::move(conflicts_);
        } else {
            result.tree = merged ? *merged : empty_tree();
        }
        return result;
    }

  private:
    using change = std::pair<std::string, std::optional<new_entry>>; // nullopt: removed

    // The merged tree of one level (path_ names it), written; nullopt when nothing is left in
    // it, or when a conflict or a fall-back means the tree is not wanted.
    std::optional<git_oid> merge_level(const git_tree* ancestor, const git_tree* ours,
                                       const git_tree* theirs) {
        const auto rows = join(ancestor, ours, theirs);
        std::vector<change> changes; // against ours
        for (std::size_t i = 0; i < rows.size() && !fall_back_; ++i) {
            const auto& at = rows[i];
            if (same(at.ours(), at.theirs()) || same(at.ancestor(), at.theirs()))
                continue; // ours stands
            if (same(at.ancestor(), at.ours())) {
                changes.emplace_back(std::string(at.name), taken(at.theirs()));
                continue;
            }
            const auto length = path_.size();
            path_ += at.name;
            const auto present_are_trees = std::all_of(at.sides.begin(), at.sides.end(),
                                                       [](entry e) { return !e || is_tree(e); });
            if (present_are_trees) {
                path_ += '/';
                const auto merged =
                    merge_level(subtree(at.ancestor()).get(), subtree(at.ours()).get(),
                                subtree(at.theirs()).get());
                if (merged)
                    changes.emplace_back(std::string(at.name),
                                         new_entry{*merged, GIT_FILEMODE_TREE});
                else if (at.ours())
                    changes.emplace_back(std::string(at.name), std::nullopt);
            } else if (std::none_of(at.sides.begin(), at.sides.end(), is_tree)) {
                if (const auto merged = merge_file(at.ancestor(), at.ours(), at.theirs()))
                    changes.emplace_back(std::string(at.name), *merged);
            } else if (!at.ancestor() && !changed_name_in_between(rows, i)) {
                // Added as a file on one side and as a directory on the other: libgit2 keeps
                // the directory's files and reports the file's path.
                conflicts_.push_back(path_);
            } else {
                // A side turned a file into a directory or back (a deletion and an addition,
                // which merge_trees() hands to libgit2 before walking), or a directory/file
                // conflict that libgit2 sees otherwise.
                fall_back_ = true;
            }
            path_.resize(length);
        }
        if (fall_back_ || !conflicts_.empty())
            return std::nullopt;
        if (changes.empty())
            return ours ? std::optional<git_oid>(*git_tree_id(ours)) : std::nullopt;
        return write_level(ours, changes);
    }

    // Theirs' entry, with the mode libgit2 would write; nullopt when theirs removed the name.
    static std::optional<new_entry> taken(entry theirs) {
        if (!theirs)
            return std::nullopt;
        return new_entry{*git_tree_entry_id(theirs),
                         written_mode(git_tree_entry_filemode_raw(theirs))};
    }

    // The file merge of libgit2's merge_conflict_resolve_contents: a changed file or link on
    // both sides (not a submodule, not a link on one side and a file on the other) is merged
    // with the built-in text driver; nullopt with the path recorded as a conflict otherwise.
    std::optional<new_entry> merge_file(entry ancestor, entry ours, entry theirs) {
        if (!ours || !theirs || is_submodule(ancestor) || is_submodule(ours) ||
            is_submodule(theirs) || is_link(ancestor) != is_link(ours) ||
            is_link(ancestor) != is_link(theirs)) {
            conflicts_.push_back(path_);
            return std::nullopt;
        }
        if (!text_driver()) {
            fall_back_ = true;
            return std::nullopt;
        }
        const std::array<entry, 3> sides{ancestor, ours, theirs};
        std::array<blob_ptr, 3> blobs;
        std::array<git_merge_file_input, 3> inputs;
        for (std::size_t side = 0; side < 3; ++side) {
            check(git_merge_file_input_init(&inputs[side], GIT_MERGE_FILE_INPUT_VERSION),
                  "set up a file merge");
            if (!sides[side])
                continue;
            git_blob* raw = nullptr;
            check(git_blob_lookup(&raw, repo_, git_tree_entry_id(sides[side])),
                  "read " + path_ + " to merge it");
            blobs[side].reset(raw);
            inputs[side].ptr = static_cast<const char*>(git_blob_rawcontent(raw));
            inputs[side].size = static_cast<std::size_t>(git_blob_rawsize(raw));
            inputs[side].path = path_.c_str();
            inputs[side].mode = git_tree_entry_filemode_raw(sides[side]);
        }
        git_merge_file_options options;
        check(git_merge_file_options_init(&options, GIT_MERGE_FILE_OPTIONS_VERSION),
              "set up a file merge");
        merge_file_result merged;
        check(git_merge_file(&merged.result, ancestor ? &inputs[ancestor_side] : nullptr,
                             &inputs[ours_side], &inputs[theirs_side], &options),
              "merge " + path_);
        if (!merged.result.automergeable) {
            conflicts_.push_back(path_);
            return std::nullopt;
        }
        git_oid id;
        check(git_blob_create_from_buffer(&id, repo_, merged.result.ptr, merged.result.len),
              "write the merged " + path_);
        return new_entry{id, written_mode(merged.result.mode)};
    }

    // Whether libgit2 would merge path_ with its built-in text driver: no `merge` attribute
    // and no merge.default (merge_driver_name_for_path).
    bool text_driver() {
        if (!default_driver_) {
            git_config* raw = nullptr;
            check(git_repository_config_snapshot(&raw, repo_), "read the repository's git config");
            config_ptr config(raw);
            git_config_entry* found = nullptr;
            const int rc = git_config_get_entry(&found, config.get(), "merge.default");
            if (rc == GIT_ENOTFOUND)
                git_error_clear();
            else
                check(rc, "read git config merge.default");
            git_config_entry_free(found);
            default_driver_ = rc == 0;
        }
        if (*default_driver_)
            return false;
        const char* value = nullptr;
        check(git_attr_get(&value, repo_, 0, path_.c_str(), "merge"),
              "read the merge attribute of " + path_);
        return GIT_ATTR_IS_UNSPECIFIED(value);
    }

    tree_ptr subtree(entry e) const {
        if (!e)
            return nullptr;
        git_tree* raw = nullptr;
        check(git_tree_lookup(&raw, repo_, git_tree_entry_id(e)), "read a tree to merge");
        return tree_ptr(raw);
    }

    // `base` (nullptr: empty) with `changes` applied, written; nullopt when nothing is left.
    std::optional<git_oid> write_level(const git_tree* base, const std::vector<change>& changes) {
        git_treebuilder* raw = nullptr;
        check(git_treebuilder_new(&raw, repo_, base), "start a merged tree");
        treebuilder_ptr builder(raw);
        for (const auto& [name, value] : changes) {
            if (value)
                check(git_treebuilder_insert(nullptr, builder.get(), name.c_str(), &value->id,
                                             value->mode),
                      "put " + path_ + name + " in a merged tree");
            else
                check(git_treebuilder_remove(builder.get(), name.c_str()),
                      "take " + path_ + name + " out of a merged tree");
        }
        if (git_treebuilder_entrycount(builder.get()) == 0)
            return std::nullopt;
        git_oid id;
        check(git_treebuilder_write(&id, builder.get()), "write a merged tree");
        return id;
    }

    // The tree of a merge that removed everything.
    git_oid empty_tree() {
        git_treebuilder* raw = nullptr;
        check(git_treebuilder_new(&raw, repo_, nullptr), "start an empty tree");
        treebuilder_ptr builder(raw);
        git_oid id;
        check(git_treebuilder_write(&id, builder.get()), "write an empty tree");
        return id;
    }

    git_repository* repo_;
    std::string path_;                   // of the level being merged, with a trailing '/'
    std::vector<std::string> conflicts_; // paths, in walk order
    bool fall_back_ = false;             // libgit2 has to make this merge
    std::optional<bool> default_driver_; // merge.default is set (read once, when needed)
};

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

} // namespace

git_merge_options default_merge_options() {
    git_merge_options options;
    check(git_merge_options_init(&options, GIT_MERGE_OPTIONS_VERSION), "set up a merge");
    return options;
}

tree_merge_result merge_trees(git_repository* repo, const git_tree* ancestor, const git_tree* ours,
                              const git_tree* theirs) {
    if (!deletes_and_adds(repo, ancestor, ours) && !deletes_and_adds(repo, ancestor, theirs))
        if (auto merged = tree_walk(repo).merge(ancestor, ours, theirs))
            return std::move(*merged);
    git_index* raw = nullptr;
    const auto options = default_merge_options();
    check(git_merge_trees(&raw, repo, ancestor, ours, theirs, &options), "merge two trees");
    index_ptr index(raw);
    return read_merged_index(repo, index.get());
}

tree_merge_result read_merged_index(git_repository* repo, git_index* index) {
    tree_merge_result result;
    result.route = merge_route::libgit2;
    if (git_index_has_conflicts(index)) {
        result.conflicts = conflict_paths(index);
        return result;
    }
    git_oid tree_id;
    check(git_index_write_tree_to(&tree_id, index, repo), "write a merged tree");
    result.tree = tree_id;
    return result;
}

} // namespace trunkgate
