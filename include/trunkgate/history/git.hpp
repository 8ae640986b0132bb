#pragma once
// RAII handles for the libgit2 objects trunkgate owns, and the one `check` that turns a libgit2
// return code into an exception. Borrowed pointers (e.g. git_tree_entry_byname) stay raw.

#include <git2.h>

#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "trunkgate/util/error.hpp"

namespace trunkgate {

/// A libgit2 call failed. Carries libgit2's return code and error class.
class libgit2_error : public internal_error {
  public:
    libgit2_error(int code, int klass, const std::string& message)
        : internal_error(message), code_(code), klass_(klass) {}
    int code() const noexcept { return code_; }
    int klass() const noexcept { return klass_; }

  private:
    int code_;
    int klass_;
};

/// Throws libgit2_error when rc < 0, reading git_error_last() immediately; `what` names the action.
void check(int rc, std::string_view what);

/// Initialises libgit2 for the lifetime of the object. One per main; not copyable.
class libgit2_guard {
  public:
    libgit2_guard();
    ~libgit2_guard();
    libgit2_guard(const libgit2_guard&) = delete;
    libgit2_guard& operator=(const libgit2_guard&) = delete;
};

#define TRUNKGATE_GIT_HANDLE(name, type, free_fn)                                                  \
    struct name##_deleter {                                                                        \
        void operator()(type* p) const noexcept { free_fn(p); }                                    \
    };                                                                                             \
    using name##_ptr = std::unique_ptr<type, name##_deleter>;

TRUNKGATE_GIT_HANDLE(repository, git_repository, git_repository_free)
TRUNKGATE_GIT_HANDLE(commit, git_commit, git_commit_free)
TRUNKGATE_GIT_HANDLE(object, git_object, git_object_free)
TRUNKGATE_GIT_HANDLE(reference, git_reference, git_reference_free)
TRUNKGATE_GIT_HANDLE(reference_iterator, git_reference_iterator, git_reference_iterator_free)
TRUNKGATE_GIT_HANDLE(revwalk, git_revwalk, git_revwalk_free)
TRUNKGATE_GIT_HANDLE(config, git_config, git_config_free)
TRUNKGATE_GIT_HANDLE(odb, git_odb, git_odb_free)
TRUNKGATE_GIT_HANDLE(tree, git_tree, git_tree_free)
TRUNKGATE_GIT_HANDLE(treebuilder, git_treebuilder, git_treebuilder_free)
TRUNKGATE_GIT_HANDLE(blob, git_blob, git_blob_free)
TRUNKGATE_GIT_HANDLE(diff, git_diff, git_diff_free)
TRUNKGATE_GIT_HANDLE(note, git_note, git_note_free)
TRUNKGATE_GIT_HANDLE(note_iterator, git_note_iterator, git_note_iterator_free)
TRUNKGATE_GIT_HANDLE(signature, git_signature, git_signature_free)
TRUNKGATE_GIT_HANDLE(index, git_index, git_index_free)
TRUNKGATE_GIT_HANDLE(index_conflicts, git_index_conflict_iterator, git_index_conflict_iterator_free)
#undef TRUNKGATE_GIT_HANDLE

/// Owns a git_buf; disposes it on destruction.
struct buffer {
    git_buf buf = GIT_BUF_INIT;
    buffer() = default;
    buffer(const buffer&) = delete;
    buffer& operator=(const buffer&) = delete;
    ~buffer() { git_buf_dispose(&buf); }
    std::string str() const { return buf.ptr ? std::string(buf.ptr, buf.size) : std::string(); }
};

/// Opens the repository a hook runs in, honouring GIT_DIR, GIT_OBJECT_DIRECTORY and
/// GIT_ALTERNATE_OBJECT_DIRECTORIES (pushed objects sit in a quarantine directory until the
/// pre-receive hook accepts). Throws libgit2_error.
repository_ptr open_repository_from_env();

/// Opens the repository at or above `path` (a bare directory, a work tree, or a .git directory).
/// Throws libgit2_error.
repository_ptr open_repository(const std::string& path);

/// The $GIT_DIR of the repository at `path` (a bare repository, a work tree or its .git), or at
/// or above it when `search`, found without opening it: libgit2's discovery reads no config and
/// checks no ownership. With a trailing slash; nullopt when there is none. Throws libgit2_error
/// when the search itself fails.
std::optional<std::string> discover_git_dir(const std::string& path, bool search);

/// Opens the repository for a command: at `path`, or at or above it when `search`. Throws
/// input_error "PATH is not a git repository" ("is not in a git repository" when searching)
/// when there is none; otherwise libgit2_error with libgit2's own message (a damaged config, an
/// unreadable file, another user's repository, which is named) rather than "not a repository".
repository_ptr open_repository_at(const std::string& path, bool search);

/// Makes libgit2 look for the global and XDG git config under the current HOME again: it reads
/// HOME once, when it is initialised, and a process that became another user has a new one.
void reset_config_search_paths();

/// The repository's git directory ($GIT_DIR), with a trailing slash.
std::string git_dir(git_repository* repo);

/// Hashing and equality of object ids, for unordered containers keyed by git_oid.
struct oid_hash {
    std::size_t operator()(const git_oid& oid) const noexcept {
        std::size_t value;
        std::memcpy(&value, oid.id, sizeof value); // ids are uniformly distributed already
        return value;
    }
};
struct oid_equal {
    bool operator()(const git_oid& a, const git_oid& b) const noexcept {
        return git_oid_equal(&a, &b) != 0;
    }
};
template <typename T> using oid_map = std::unordered_map<git_oid, T, oid_hash, oid_equal>;

/// Full hex id of `oid`.
std::string to_hex(const git_oid& oid);
/// The first 7 hex digits of `oid`, as git abbreviates in its own messages.
std::string short_id(const git_oid& oid);

/// Looks up a commit; nullopt when the object does not exist or is not a commit.
std::optional<commit_ptr> find_commit(git_repository* repo, const git_oid& oid);

/// The commit `ref` peels to (through annotated tags); nullopt for a ref to a tree or blob, or a
/// dangling symbolic ref.
std::optional<git_oid> ref_commit(git_reference* ref);

/// Calls `visit` with the name and commit of every ref that matches `glob` (all refs for
/// nullptr) and peels to a commit, in libgit2's order. Throws libgit2_error.
void for_each_ref_commit(
    git_repository* repo, const char* glob,
    const std::function<void(std::string_view name, const git_oid& commit)>& visit);

/// The commit the object named by `hex` peels to; nullopt for the zero id, an unknown object or
/// one that is no commit (a tree, a blob, a tag of either).
std::optional<git_oid> commit_of(git_repository* repo, std::string_view hex);

/// The commit a revision (`main`, `HEAD~2`, a hex id, a tag) names. Throws input_error when it
/// names no object or one that is not a commit.
git_oid resolve_commit(git_repository* repo, const std::string& spec);

/// The git config string `key` of the repository, or nullopt when it is unset.
std::optional<std::string> config_string(git_repository* repo, const char* key);

} // namespace trunkgate
