#include "trunkgate/admin/doctor.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <grp.h>
#include <pwd.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "trunkgate/admin/doctor_checks.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/files.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

bool doctor_report::healthy() const {
    return std::none_of(problems.begin(), problems.end(),
                        [](const doctor_problem& problem) { return !problem.note; });
}

std::vector<std::string> default_schedule_paths() {
    return {"/etc/systemd/system", "/run/systemd/system",     "/usr/local/lib/systemd/system",
            "/lib/systemd/system", "/usr/lib/systemd/system", "/etc/crontab",
            "/etc/cron.d",         "/var/spool/cron/crontabs"};
}

// ---------------------------------------------------------------------------------------------
// Users and permissions, judged from the mode bits as the kernel would for that user (ACLs are
// not read), so root running doctor sees what the repository's owner would meet.

namespace {

std::string user_name(uid_t uid) {
    return account_of(uid).name;
}

std::string mode_text(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

std::string wanted_text(int wanted, bool directory) {
    std::vector<std::string> words;
    if (wanted & want_read)
        words.emplace_back("read");
    if (wanted & want_write)
        words.emplace_back("write");
    if (wanted & want_search)
        words.emplace_back(directory ? "enter" : "execute");
    return join(words, " and ");
}

} // namespace

account account_of(uid_t uid) {
    account who;
    who.uid = uid;
    who.name = "uid " + std::to_string(uid);
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) != 0 || !found)
        return who;
    who.name = found->pw_name;
    who.gid = found->pw_gid;
    int count = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(count));
    if (::getgrouplist(found->pw_name, found->pw_gid, groups.data(), &count) < 0) {
        groups.resize(static_cast<std::size_t>(count));
        if (::getgrouplist(found->pw_name, found->pw_gid, groups.data(), &count) < 0)
            count = 0;
    }
    groups.resize(static_cast<std::size_t>(std::max(count, 0)));
    who.groups = std::move(groups);
    who.groups.push_back(found->pw_gid);
    return who;
}

bool allowed(const account& who, const struct stat& info, int wanted) {
    if (who.uid == 0)
        return !(wanted & want_search) || S_ISDIR(info.st_mode) || (info.st_mode & 0111);
    int bits = static_cast<int>(info.st_mode & 7);
    if (info.st_uid == who.uid)
        bits = static_cast<int>((info.st_mode >> 6) & 7);
    else if (std::find(who.groups.begin(), who.groups.end(), info.st_gid) != who.groups.end())
        bits = static_cast<int>((info.st_mode >> 3) & 7);
    return (bits & wanted) == wanted;
}

std::string owner_and_mode(const struct stat& info) {
    return "owned by " + user_name(info.st_uid) + ", mode " + mode_text(info.st_mode);
}

std::optional<std::string> access_problem(const account& who, const std::string& path, int wanted) {
    for (auto slash = path.find('/', 1); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
        const auto above = path.substr(0, slash);
        struct stat info {};
        if (::stat(above.c_str(), &info) != 0)
            return above + ": " + std::strerror(errno);
        if (!allowed(who, info, want_search))
            return who.name + " cannot enter " + above + " (" + owner_and_mode(info) + ")";
    }
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0)
        return path + ": " + std::strerror(errno);
    if (!allowed(who, info, wanted))
        return who.name + " cannot " + wanted_text(wanted, S_ISDIR(info.st_mode)) + " it (" +
               owner_and_mode(info) + ")";
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Files.

bool is_directory(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

std::string real_path(const std::string& path) {
    char resolved[PATH_MAX];
    return ::realpath(path.c_str(), resolved) ? std::string(resolved) : path;
}

std::string without_slash(std::string path) {
    while (path.size() > 1 && path.back() == '/')
        path.pop_back();
    return path;
}

std::vector<std::string> names_in(const std::string& dir) {
    try {
        return directory_names(dir);
    } catch (const file_error&) {
        return {};
    }
}

bool ends_with(std::string_view text, std::string_view tail) {
    return text.size() >= tail.size() &&
           text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

std::vector<std::string> shell_words(std::string_view line) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (c == '\'') {
            const auto end = line.find('\'', i + 1);
            word.append(line.substr(i + 1, end == std::string_view::npos ? end : end - i - 1));
            i = end == std::string_view::npos ? line.size() : end;
            in_word = true;
        } else if (c == '"') {
            for (++i; i < line.size() && line[i] != '"'; ++i) {
                if (line[i] == '\\' && i + 1 < line.size())
                    ++i;
                word += line[i];
            }
            in_word = true;
        } else if (c == '\\' && i + 1 < line.size()) {
            word += line[++i];
            in_word = true;
        } else if (c == ' ' || c == '\t') {
            if (in_word)
                words.push_back(std::move(word));
            word.clear();
            in_word = false;
        } else if (c == '#' && !in_word) {
            break;
        } else {
            word += c;
            in_word = true;
        }
    }
    if (in_word)
        words.push_back(std::move(word));
    return words;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

namespace {

// A check that throws is reported, and the next one still runs.
void guarded(examination& exam, const char* what, const std::function<void()>& check) {
    try {
        check();
    } catch (const std::exception& e) {
        exam.add("check-failed", std::string("the ") + what + " check could not run: " + e.what(),
                 "");
    }
}

// ---------------------------------------------------------------------------------------------
// Opening, and who git runs as.

// Opens the repository, also when libgit2 refuses it for the account running doctor because of
// its owner (reported; the other checks only read). False when it is no repository.
bool open_repository_for_doctor(examination& exam, const std::string& path) {
    git_repository* raw = nullptr;
    int rc = git_repository_open_ext(&raw, path.c_str(), 0, nullptr);
    std::string refusal;
    if (rc != 0) {
        const git_error* last = git_error_last();
        const std::string why = last && last->message ? last->message : "libgit2 error";
        git_error_clear();
        // libgit2 1.5 refuses a repository of another owner with GIT_EOWNER, or, when the user
        // has no safe.directory at all, with "config value 'safe.directory' was not found":
        // whatever it says, a repository that opens without the owner check was refused for
        // its owner.
        int validating = 1;
        git_libgit2_opts(GIT_OPT_GET_OWNER_VALIDATION, &validating);
        git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
        rc = git_repository_open_ext(&raw, path.c_str(), 0, nullptr);
        git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, validating);
        if (rc != 0) {
            git_error_clear();
            exam.add("not-a-repository", "libgit2 cannot open it as a git repository: " + why,
                     "name a bare repository (or a work tree) or a directory above them with "
                     "--all-under",
                     path);
            return false;
        }
        refusal = why;
    }
    exam.repo.reset(raw);
    exam.git_dir = git_dir(raw);
    exam.report.git_dir = exam.git_dir;

    // Every push writes objects/: its owner is the user git runs as (normally the owner of the
    // whole repository).
    struct stat top {
    }, objects{};
    if (::stat(exam.git_dir.c_str(), &top) != 0)
        throw internal_error("cannot stat " + exam.git_dir + ": " + std::strerror(errno));
    const bool has_objects = ::stat((exam.git_dir + "objects").c_str(), &objects) == 0;
    exam.owner = account_of(has_objects ? objects.st_uid : top.st_uid);
    exam.report.owner = exam.owner.name;
    const auto dir = without_slash(exam.git_dir);
    if (has_objects && objects.st_uid != top.st_uid)
        exam.add("safe-directory",
                 dir + " belongs to " + user_name(top.st_uid) + " but its objects to " +
                     exam.owner.name +
                     ", who serves it: git refuses such a repository (\"dubious ownership\"), "
                     "and so does libgit2 in trunkgate's hooks (libgit2 1.5 ignores "
                     "safe.directory = *)",
                 exam.as_root("chown " + shell_quote(exam.owner.name) + ": " + shell_quote(dir)),
                 dir);
    if (!refusal.empty()) {
        if (exam.runner.uid == 0)
            exam.add("owner-only",
                     "libgit2 opens it only for its owner " + user_name(top.st_uid) +
                         ", not for root, who runs this (libgit2 says: " + refusal +
                         "); doctor read it anyway: run trunkgate's commands for it as " +
                         user_name(top.st_uid),
                     "runuser -u " + shell_quote(user_name(top.st_uid)) + " -- " +
                         exam.trunkgate("audit " + exam.repo_argument()),
                     dir, true);
        else
            exam.add("safe-directory",
                     "libgit2 refuses to open it for " + exam.runner.name + ": it belongs to " +
                         user_name(top.st_uid) + " (libgit2 says: " + refusal +
                         "); trunkgate's commands fail here with it",
                     "run them as its owner: sudo -u " + shell_quote(user_name(top.st_uid)) + " " +
                         exam.trunkgate("doctor " + shell_quote(exam.report.repository)) +
                         ", or trust it for " + exam.runner.name +
                         ": git config --global --add safe.directory " + shell_quote(dir) +
                         " (libgit2 1.5 ignores safe.directory = *)",
                     dir);
    }
    return true;
}

} // namespace

std::optional<doctor_report> diagnose(const std::string& path, const doctor_options& options,
                                      bool only_if_managed) {
    doctor_report report;
    report.repository = path;
    examination exam{options,
                     report,
                     account_of(::geteuid()),
                     account_of(::geteuid()),
                     nullptr,
                     "",
                     std::nullopt,
                     "",
                     false};
    try {
        if (!open_repository_for_doctor(exam, path))
            return report;
        const auto dir = hooks_dir(exam);
        const auto before = report.problems.size();
        guarded(exam, "hook", [&] {
            check_hook(exam, dir, "pre-receive");
            check_hook(exam, dir, "post-receive");
        });
        const bool has_policy = find_policy(exam);
        if (!has_policy && !exam.managed_hook) {
            // Not trunkgate's: what the hook check said is beside the point.
            if (only_if_managed)
                return std::nullopt;
            report.problems.resize(before);
            exam.add("not-installed", "trunkgate is not installed here (no policy, no hooks)",
                     exam.install_fix(), without_slash(exam.git_dir));
            return report;
        }
        guarded(exam, "policy", [&] { check_policy(exam, has_policy); });
        guarded(exam, "git config", [&] { check_config(exam); });
        guarded(exam, "merge queue", [&] { check_queue(exam, dir); });
        guarded(exam, "audit log", [&] { check_audit_log(exam); });
        guarded(exam, "ownership", [&] { check_state(exam); });
        guarded(exam, "queue journal", [&] { check_queue_journal(exam); });
        guarded(exam, "spool", [&] { check_spool(exam); });
        guarded(exam, "deliver timer", [&] { check_deliver_timer(exam); });
        guarded(exam, "commit-graph", [&] { check_commit_graph(exam); });
    } catch (const std::exception& e) {
        exam.add("check-failed", std::string("the repository could not be examined: ") + e.what(),
                 "");
    }
    return report;
}

} // namespace trunkgate
