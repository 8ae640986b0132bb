#pragma once
// Writing refs with libgit2: set, delete, and move only from an expected value (the lock-file
// compare-and-swap git itself uses, so a concurrent push and this never both win).

#include <git2.h>

#include <optional>
#include <string>

#include "trunkgate/history/ref_update.hpp"

namespace trunkgate {

/// The id `name` points at (not peeled), or nullopt when there is no such ref. Throws
/// libgit2_error when it cannot be read.
std::optional<git_oid> read_ref(git_repository* repo, const std::string& name);

/// Points `name` at `target`, creating it or moving it whatever it held; `log` goes to the
/// reflog. Returns the update made (old is zeros for a create). Throws libgit2_error.
ref_update write_ref(git_repository* repo, const std::string& name, const git_oid& target,
                     const std::string& log);

/// Deletes `name`; the update made, or nullopt when there was no such ref. Throws libgit2_error.
std::optional<ref_update> delete_ref(git_repository* repo, const std::string& name);

enum class swap_outcome {
    moved,    ///< `name` held `expected` and now holds `target`
    modified, ///< `name` held something else: nothing was written
    locked,   ///< someone else is writing `name` right now: nothing was written
};

/// Moves `name` to `target` only if it holds `expected` now, checked under git's ref lock.
/// Throws libgit2_error for anything but a mismatch or a held lock.
swap_outcome swap_ref(git_repository* repo, const std::string& name, const git_oid& target,
                      const git_oid& expected, const std::string& log);

/// Removes git's lock file of `name` ($GIT_DIR/<name>.lock) when it holds exactly `target`: the
/// lock a swap_ref() to `target` left when its process was killed between writing the lock and
/// renaming it into place. True when it removed one; a lock with anything else in it is left.
/// Throws file_error when it cannot be read or removed.
bool remove_abandoned_ref_lock(git_repository* repo, const std::string& name,
                               const git_oid& target);

} // namespace trunkgate
