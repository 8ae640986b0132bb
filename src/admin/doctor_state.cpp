#include "trunkgate/admin/doctor_checks.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <sys/stat.h>

#include "trunkgate/events/delivery.hpp"
#include "trunkgate/events/spool.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/files.hpp"
#include "trunkgate/util/text.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

// ---------------------------------------------------------------------------------------------
// $GIT_DIR/trunkgate/: the audit log, the spool, events.log.

namespace {

std::string state_dir(const examination& exam) {
    return exam.git_dir + "trunkgate";
}

std::string spool_dir(const examination& exam) {
    return without_slash(exam.rules_policy ? spool_dir_for(*exam.rules_policy, exam.git_dir)
                                           : exam.git_dir + "trunkgate/spool");
}

std::string queue_journal_dir(const examination& exam) {
    return state_dir(exam) + "/queue";
}

// What a walk below a directory found: files the owner does not own, and files it owns but
// cannot read and write (directories: also enter); the first of each named.
struct tree_survey {
    std::size_t foreign = 0, locked = 0;
    std::string first_foreign, first_locked;
};

// Walks everything below `root` (not following symbolic links) but the paths in `skip`.
tree_survey survey_tree(const examination& exam, const std::string& root,
                        const std::vector<std::string>& skip) {
    tree_survey found;
    std::function<void(const std::string&, int)> walk = [&](const std::string& path, int depth) {
        struct stat info {};
        if (::lstat(path.c_str(), &info) != 0 || S_ISLNK(info.st_mode) ||
            std::find(skip.begin(), skip.end(), path) != skip.end())
            return;
        if (info.st_uid != exam.owner.uid) {
            if (!found.foreign++)
                found.first_foreign = path + ", " + owner_and_mode(info);
        } else if (!allowed(exam.owner, info,
                            S_ISDIR(info.st_mode) ? want_read | want_write | want_search
                                                  : want_read | want_write)) {
            if (!found.locked++)
                found.first_locked = path + ", " + owner_and_mode(info);
        }
        if (S_ISDIR(info.st_mode) && depth < 8)
            for (const auto& name : names_in(path))
                walk(path + "/" + name, depth + 1);
    };
    walk(root, 0);
    return found;
}

void check_state_tree(examination& exam, const std::string& root) {
    // The audit log and the queue's journal have checks of their own.
    const auto [foreign, locked, first_foreign, first_locked] =
        survey_tree(exam, root, {state_dir(exam) + "/audit.log", queue_journal_dir(exam)});
    if (foreign)
        exam.add(
            "state-wrong-owner",
            count_noun(foreign, "file", "files") + " under " + root + " " +
                (foreign == 1 ? "belongs" : "belong") + " to someone other than " +
                exam.owner.name + " (first: " + first_foreign + "): " + exam.owner.name +
                "'s hooks and deliverer may not be able to read, lock or replace them",
            exam.as_root("chown -R " + shell_quote(exam.owner.name) + ": " + shell_quote(root)),
            root);
    if (locked)
        exam.add("state-not-writable",
                 count_noun(locked, "file", "files") + " under " + root + " " +
                     (locked == 1 ? "is" : "are") + " not readable and writable by " +
                     exam.owner.name + " (first: " + first_locked + ")",
                 exam.as_owner("chmod -R u+rwX " + shell_quote(root)), root);
}

struct spool_problem {
    std::string path;
    std::string why;
};

std::string entry_summary(const spool_entry& entry) {
    return entry.id + " for " + printable(entry.ref) +
           (entry.last_error.empty() ? "" : ", last error: " + printable(entry.last_error));
}

} // namespace

void check_audit_log(examination& exam) {
    const auto log = state_dir(exam) + "/audit.log";
    const auto consequence = std::string(": every push is rejected (\"the audit log cannot be "
                                         "written, so no decision is taken\")");
    struct stat info {};
    if (::lstat(log.c_str(), &info) == 0) {
        if (!S_ISREG(info.st_mode)) {
            exam.add("audit-log-not-writable", log + " is not a regular file" + consequence,
                     "move it away: mv " + shell_quote(log) + " " + shell_quote(log + ".broken"),
                     log);
            return;
        }
        if (const auto why = access_problem(exam.owner, log, want_read | want_write))
            exam.add("audit-log-not-writable", log + ": " + *why + consequence,
                     exam.as_root("chown " + shell_quote(exam.owner.name) + ": " +
                                  shell_quote(log) + " && chmod u+rw " + shell_quote(log)),
                     log);
        return;
    }
    // Not there yet: the first push creates it, and the directory when needed.
    const auto dir = is_directory(state_dir(exam)) ? state_dir(exam) : without_slash(exam.git_dir);
    if (const auto why = access_problem(exam.owner, dir, want_write | want_search))
        exam.add("audit-log-not-writable", log + " cannot be created: " + *why + consequence,
                 exam.as_root("chown " + shell_quote(exam.owner.name) + ": " + shell_quote(dir)),
                 dir);
}

void check_state(examination& exam) {
    if (is_directory(state_dir(exam)))
        check_state_tree(exam, state_dir(exam));
    const auto spool = spool_dir(exam);
    if (spool.rfind(state_dir(exam) + "/", 0) != 0 && is_directory(spool))
        check_state_tree(exam, spool);
}

void check_queue_journal(examination& exam) {
    const auto dir = queue_journal_dir(exam);
    if (!is_directory(dir))
        return; // made by the first change queued
    const auto found = survey_tree(exam, dir, {});
    const auto consequence = std::string(": the proc-receive hook, which runs as ") +
                             exam.owner.name +
                             ", cannot queue a push to refs/for/, and `trunkgate queue run` as " +
                             exam.owner.name + " cannot record what it does";
    if (found.foreign)
        exam.add("queue-journal-wrong-owner",
                 count_noun(found.foreign, "file", "files") + " of the merge queue's journal " +
                     dir + " " + (found.foreign == 1 ? "belongs" : "belong") +
                     " to someone other than " + exam.owner.name +
                     " (first: " + found.first_foreign + ")" + consequence,
                 exam.as_root("chown -R " + shell_quote(exam.owner.name) + ": " + shell_quote(dir)),
                 dir);
    if (found.locked)
        exam.add("queue-journal-not-writable",
                 count_noun(found.locked, "file", "files") + " of the merge queue's journal " +
                     dir + " " + (found.locked == 1 ? "is" : "are") +
                     " not readable and writable by " + exam.owner.name +
                     " (first: " + found.first_locked + ")" + consequence,
                 exam.as_owner("chmod -R u+rwX " + shell_quote(dir)), dir);
}

void check_spool(examination& exam) {
    const auto dir = spool_dir(exam);
    if (!is_directory(dir))
        return;
    const auto now = exam.options.now;
    std::vector<spool_problem> forbidden, damaged;
    std::vector<spool_entry> backlog, failed, dead;
    for (const char* area : {"queue", "delivered", "dead"}) {
        for (const auto& name : names_in(dir + "/" + area)) {
            if (name.front() == '.' || !ends_with(name, ".json"))
                continue;
            const auto path = dir + "/" + area + "/" + name;
            if (const auto why = access_problem(exam.owner, path, want_read | want_write)) {
                forbidden.push_back({path, *why});
                continue;
            }
            errno = 0;
            const auto text = read_file(path);
            if (!text) {
                if (errno != ENOENT) // delivered or retired meanwhile
                    forbidden.push_back({path, std::strerror(errno ? errno : EIO)});
                continue;
            }
            spool_entry entry;
            try {
                entry = parse_entry(*text, now);
            } catch (const input_error& e) {
                damaged.push_back({path, e.what()});
                continue;
            }
            const std::string_view where = area;
            if (where == "dead")
                dead.push_back(std::move(entry));
            else if (where == "queue" && entry.state == "failed")
                failed.push_back(std::move(entry));
            else if (where == "queue" && entry.created_at > 0 &&
                     now - entry.created_at > exam.options.backlog_seconds)
                backlog.push_back(std::move(entry));
        }
    }
    const auto list_events = exam.as_owner(exam.trunkgate("events " + exam.repo_argument()));
    if (!forbidden.empty())
        exam.add(
            "spool-unreadable",
            count_noun(forbidden.size(), "spool entry", "spool entries") + " in " + dir +
                " cannot be read by " + exam.owner.name + ", so " +
                (forbidden.size() == 1 ? "it is" : "they are") + " never delivered (first: " +
                forbidden.front().path + ": " + forbidden.front().why + ")",
            exam.as_root("chown -R " + shell_quote(exam.owner.name) + ": " + shell_quote(dir)) +
                " && " + exam.as_owner("chmod -R u+rwX " + shell_quote(dir)),
            forbidden.front().path);
    if (!damaged.empty())
        exam.add("spool-unreadable",
                 count_noun(damaged.size(), "spool entry", "spool entries") + " in " + dir +
                     " cannot be parsed, so " + (damaged.size() == 1 ? "it is" : "they are") +
                     " never delivered (first: " + damaged.front().path + ": " +
                     damaged.front().why + ")",
                 "look at it and take it out of the queue (deliverers read only queue/, "
                 "delivered/ and dead/): mv " +
                     shell_quote(damaged.front().path) + " " +
                     shell_quote(dir + "/" +
                                 damaged.front().path.substr(damaged.front().path.rfind('/') + 1) +
                                 ".damaged"),
                 damaged.front().path);
    if (!backlog.empty()) {
        const auto oldest = *std::min_element(
            backlog.begin(), backlog.end(),
            [](const spool_entry& a, const spool_entry& b) { return a.created_at < b.created_at; });
        exam.add("spool-backlog",
                 count_noun(backlog.size(), "delivery has", "deliveries have") +
                     " waited more than " + std::to_string(exam.options.backlog_seconds / 60) +
                     " minutes (oldest: " + entry_summary(oldest) + ", queued " +
                     iso8601(oldest.created_at, 0) + ", " + std::to_string(oldest.attempts) +
                     " attempts)",
                 "see why with " + list_events + ", then send them: " +
                     exam.as_owner(exam.trunkgate("deliver " + exam.repo_argument())),
                 dir + "/queue");
    }
    if (!failed.empty())
        exam.add("spool-failed",
                 count_noun(failed.size(), "delivery was", "deliveries were") +
                     " refused by the receiver (4xx) and " +
                     (failed.size() == 1 ? "waits" : "wait") +
                     " for a redelivery (first: " + entry_summary(failed.front()) + ")",
                 "once the receiver is fixed: " +
                     exam.as_owner(exam.trunkgate("events redeliver " + exam.repo_argument() + " " +
                                                  failed.front().id)),
                 dir + "/queue");
    if (!dead.empty())
        exam.add("spool-dead",
                 count_noun(dead.size(), "delivery was", "deliveries were") +
                     " given up on after [events] max_age_hours, kept in dead/ (first: " +
                     entry_summary(dead.front()) + ")",
                 "send one again: " +
                     exam.as_owner(exam.trunkgate("events redeliver " + exam.repo_argument() + " " +
                                                  dead.front().id)) +
                     ", or remove it: rm " +
                     shell_quote(dir + "/dead/" + dead.front().id + ".json"),
                 dir + "/dead");
    std::vector<std::string> abandoned;
    for (const auto& name : names_in(dir + "/abandoned"))
        if (is_directory(dir + "/abandoned/" + name))
            abandoned.push_back(dir + "/abandoned/" + name);
    if (!abandoned.empty())
        exam.add("spool-abandoned",
                 count_noun(abandoned.size(), "push's", "pushes'") +
                     " events were abandoned by a hook stopped while staging them; they are "
                     "never delivered (first: " +
                     abandoned.front() + ")",
                 "see them with " + list_events + "; once dealt with: rm -r " +
                     shell_quote(abandoned.front()),
                 abandoned.front());
}

} // namespace trunkgate
