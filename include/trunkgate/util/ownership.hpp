#pragma once
// Who owns a repository, and acting as that user: root running a command on a repository served
// by another user becomes that user first, as runuser(1) does, so that nothing it writes is left
// owned by root and libgit2's ownership check passes (docs/cli.md "Running as root").

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <sys/types.h>

namespace trunkgate {

/// A user of the user database (passwd).
struct system_user {
    uid_t uid = 0;
    gid_t gid = 0; ///< the login group
    std::string name;
    std::string home;
};

/// The login name of `uid` from the user database, or the number when it has none.
std::string user_name(uid_t uid);

/// The user `uid` from the user database; nullopt when it has no entry there.
std::optional<system_user> find_user(uid_t uid);

/// The owner of `path` (stat(2), following symbolic links). Throws file_error.
uid_t owner_of(const std::string& path);

/// Becomes `user` for the rest of the process, as runuser(1) does: the user's supplementary
/// groups (initgroups), its login group (setgid), then the user (setuid: real, effective and
/// saved ids), and HOME, USER and LOGNAME from its passwd entry; XDG_CONFIG_HOME, which names
/// the caller's configuration, is unset. Then checks that the ids are the user's and that root
/// cannot be regained. Must run while the process is root. Throws internal_error; a process
/// that changed some ids but not all is not left running (it aborts).
void become_user(const system_user& user);

/// What a child that ran as another user did.
struct child_run {
    int status = 0;  ///< its exit status
    std::string out; ///< what it wrote to its out stream
    std::string err; ///< what it wrote to its err stream
};

/// Runs `work` in a child process that first becomes `user` (become_user), and returns its exit
/// status and output. `work` gets the child's out and err streams and returns its exit status;
/// when becoming the user fails, or `work` throws, the message goes to err and the status is
/// `failure_status`. Throws internal_error when there is no child (fork or pipe failed).
child_run run_as_user(const system_user& user,
                      const std::function<int(std::ostream& out, std::ostream& err)>& work,
                      int failure_status);

} // namespace trunkgate
