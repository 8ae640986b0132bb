#pragma once
// Inside `trunkgate doctor`: one repository's examination, the checks diagnose() runs on it
// (doctor_hooks.cpp, doctor_queue.cpp, doctor_state.cpp, doctor_timer.cpp, doctor_history.cpp)
// and the helpers they share (doctor.cpp).

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trunkgate/admin/doctor.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

/// A user as the kernel judges its access: its uid, its primary group and every group it is in.
struct account {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
    std::string name;
};

/// The account of `uid` from the user database, with its groups; only the uid, named "uid N",
/// when the database does not know it.
account account_of(uid_t uid);

/// What allowed() and access_problem() are asked for, as the mode bits spell it; search is
/// entering a directory or executing a file.
constexpr int want_read = 4, want_write = 2, want_search = 1;

/// True when the mode bits of `info` give `who` all of `wanted` (ACLs are not read). Root is
/// allowed everything but executing a file no mode bit lets anyone execute.
bool allowed(const account& who, const struct stat& info, int wanted);

/// "owned by root, mode 0640"
std::string owner_and_mode(const struct stat& info);

/// Why `who` cannot `wanted` the existing file `path` (an absolute path; every directory above it
/// needs search permission too), or nullopt when it can.
std::optional<std::string> access_problem(const account& who, const std::string& path, int wanted);

/// True when `path` is a directory, or a symbolic link to one.
bool is_directory(const std::string& path);

/// `path` with its symbolic links, "." and ".." resolved; `path` as it is when it cannot be.
std::string real_path(const std::string& path);

/// `path` without its trailing slashes; "/" stays "/".
std::string without_slash(std::string path);

/// The names in `dir`, sorted; none when it is missing or cannot be listed (the checks that
/// need to know say so on their own).
std::vector<std::string> names_in(const std::string& dir);

/// True when `text` ends with `tail`.
bool ends_with(std::string_view text, std::string_view tail);

/// The words of a POSIX sh command line: blanks separate, '...' and "..." quote, \ escapes.
/// Enough for the lines trunkgate and admins write; no expansion.
std::vector<std::string> shell_words(std::string_view line);

/// The lines of `text`, without their line breaks.
std::vector<std::string> lines_of(const std::string& text);

/// One repository's examination: what the checks read, and the report they add to.
struct examination {
    const doctor_options& options;
    doctor_report& report;
    account owner;  // the user git runs as
    account runner; // the user running doctor
    repository_ptr repo;
    std::string git_dir; // with a trailing slash
    std::optional<policy> rules_policy;
    std::string policy_path;
    bool managed_hook = false;

    void add(std::string id, std::string message, std::string fix, std::string path = "",
             bool note = false) {
        report.problems.push_back(
            {std::move(id), std::move(message), std::move(fix), std::move(path), note});
    }

    // `command` as the owner would run it, from the account running doctor.
    std::string as_owner(const std::string& command) const {
        if (runner.uid == owner.uid)
            return command;
        if (runner.uid == 0)
            return "runuser -u " + shell_quote(owner.name) + " -- " + command;
        return "sudo -u " + shell_quote(owner.name) + " " + command;
    }

    std::string as_root(const std::string& command) const {
        return runner.uid == 0 ? command : "sudo " + command;
    }

    std::string trunkgate(const std::string& arguments) const {
        return shell_quote(options.program_dir + "/trunkgate") + " " + arguments;
    }

    std::string install_fix() const {
        return as_owner(trunkgate("install " + shell_quote(report.repository)));
    }

    std::string repo_argument() const { return "--repo " + shell_quote(report.repository); }
};

// The checks. Each adds what it finds to exam.report, and throws (libgit2_error, file_error,
// internal_error) only when it cannot look: diagnose() reports that as check-failed.

/// Where git looks for hooks (core.hooksPath, as `trunkgate install` writes them).
std::string hooks_dir(examination& exam);

/// The hook `name` (pre-receive, post-receive, proc-receive) in `dir` and the hook chained after
/// it: hook-missing, hook-not-executable,
/// hook-missing-binary, hook-other-version, hook-other-repository, chained-hook-missing,
/// chained-hook-not-executable. Sets exam.managed_hook when the hook is trunkgate's wrapper.
void check_hook(examination& exam, const std::string& dir, const std::string& name);

/// Finds the policy as the hooks do (into exam.policy_path); false when there is none at all.
bool find_policy(examination& exam);

/// policy-missing (unless `found`), policy-invalid, policy-unreadable; loads exam.rules_policy.
void check_policy(examination& exam, bool found);

/// push-options-off, and the note proc-receive-refs.
void check_config(examination& exam);

/// Only when the policy has a [[queue]]: the proc-receive hook in `hooks` (check_hook's ids),
/// queue-refs-off, queue-no-required-checks.
void check_queue(examination& exam, const std::string& hooks);

/// audit-log-not-writable: $GIT_DIR/trunkgate/audit.log, or where the first push creates it.
void check_audit_log(examination& exam);

/// state-wrong-owner, state-not-writable: everything under $GIT_DIR/trunkgate/ but the audit log
/// and the queue's journal, and under the spool when it is elsewhere.
void check_state(examination& exam);

/// queue-journal-wrong-owner, queue-journal-not-writable: $GIT_DIR/trunkgate/queue/, when it
/// exists (with or without a [[queue]] in the policy now).
void check_queue_journal(examination& exam);

/// spool-unreadable, spool-backlog, spool-failed, spool-dead, spool-abandoned.
void check_spool(examination& exam);

/// deliver-timer-missing, deliver-timer-elsewhere: only when [[events.endpoint]] is set.
void check_deliver_timer(examination& exam);

/// A history with at least this many commits (counted from the branches and HEAD, stopping
/// there) is large enough for a missing commit-graph to be worth a note.
constexpr std::size_t large_history_commits = 10000;

/// commit-graph-missing (a note, for a history of large_history_commits or more),
/// commit-graph-unused (a note), commit-graph-corrupt: the checksum and id order of the graph
/// the hooks would read, which they cannot afford to check on each push.
void check_commit_graph(examination& exam);

} // namespace trunkgate
