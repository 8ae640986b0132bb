#pragma once
// JSON documents attached to commits with git notes: how CI statuses and approvals live in the
// repository itself, with no server besides git.

#include <git2.h>

#include <functional>
#include <optional>
#include <string>

namespace trunkgate {

/// The note on `commit` under `notes_ref`, or nullopt when there is none. Throws libgit2_error.
std::optional<std::string> read_note(git_repository* repo, const std::string& notes_ref,
                                     const git_oid& commit);

/// Replaces the note on `commit` with `merge(current note)`, as one commit on `notes_ref` whose
/// ref update only succeeds if nobody moved the ref meanwhile; on a race it reads again and
/// retries, so concurrent writers never lose each other's changes. `who` signs the notes commit.
/// Throws libgit2_error, or internal_error after repeated races.
void update_note(git_repository* repo, const std::string& notes_ref, const git_oid& commit,
                 const std::string& who,
                 const std::function<std::string(const std::optional<std::string>&)>& merge);

/// Calls `visit(commit, note)` for every note under `notes_ref`.
void for_each_note(
    git_repository* repo, const std::string& notes_ref,
    const std::function<void(const git_oid& commit, const std::string& note)>& visit);

} // namespace trunkgate
