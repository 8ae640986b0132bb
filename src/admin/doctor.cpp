#include "trunkgate/admin/doctor.hpp"
#include "trunkgate/util/unix_time.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <grp.h>
#include <map>
#include <pwd.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "trunkgate/admin/install.hpp"
#include "trunkgate/events/delivery.hpp"
#include "trunkgate/events/events.hpp"
#include "trunkgate/events/spool.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/files.hpp"
#include "trunkgate/util/text.hpp"
#include "trunkgate/util/version.hpp"

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

namespace {

// ---------------------------------------------------------------------------------------------
// Users and permissions, judged from the mode bits as the kernel would for that user (ACLs are
// not read), so root running doctor sees what the repository's owner would meet.

struct account {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
    std::string name;
};

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

std::string user_name(uid_t uid) {
    return account_of(uid).name;
}

constexpr int want_read = 4, want_write = 2, want_search = 1;

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

std::string mode_text(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

// "owned by root, mode 0640"
std::string owner_and_mode(const struct stat& info) {
    return "owned by " + user_name(info.st_uid) + ", mode " + mode_text(info.st_mode);
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

// Why `who` cannot `wanted` the existing file `path` (an absolute path; every directory above it
// needs search permission too), or nullopt when it can.
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

bool exists_link(const std::string& path) {
    struct stat info {};
    return ::lstat(path.c_str(), &info) == 0;
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

// The names in `dir`, sorted; none when it is missing or cannot be listed (the checks that
// need to know say so on their own).
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

// The words of a POSIX sh command line: blanks separate, '...' and "..." quote, \ escapes.
// Enough for the lines trunkgate and admins write; no expansion.
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

// ---------------------------------------------------------------------------------------------
// One repository's examination.

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

// ---------------------------------------------------------------------------------------------
// Hook wrappers.

// Where git looks for hooks (core.hooksPath, as `trunkgate install` writes them).
std::string hooks_dir(examination& exam) {
    const auto configured = config_string(exam.repo.get(), "core.hooksPath");
    if (!configured || configured->empty())
        return exam.git_dir + "hooks";
    return configured->front() == '/' ? *configured : exam.git_dir + *configured;
}

// What a wrapper runs: the first `exec` line's program and its --chain argument.
struct wrapper_command {
    std::string program;
    std::optional<std::string> chain;
};

std::optional<wrapper_command> wrapper_of(const std::string& text) {
    for (const auto& line : lines_of(text)) {
        auto words = shell_words(line);
        if (words.size() < 2 || words[0] != "exec")
            continue;
        wrapper_command command{words[1], std::nullopt};
        for (std::size_t i = 2; i + 1 < words.size(); ++i)
            if (words[i] == "--chain")
                command.chain = words[i + 1];
        return command;
    }
    return std::nullopt;
}

std::optional<std::string> cached_program_version(const std::string& path) {
    static std::map<std::string, std::optional<std::string>> known;
    const auto found = known.find(path);
    if (found != known.end())
        return found->second;
    return known[path] = program_version(path);
}

void check_chained_hook(examination& exam, const std::string& chained) {
    struct stat info {};
    if (::lstat(chained.c_str(), &info) != 0)
        return; // nothing chained
    if (S_ISLNK(info.st_mode) && ::stat(chained.c_str(), &info) != 0) {
        char target[PATH_MAX] = {};
        const auto size = ::readlink(chained.c_str(), target, sizeof target - 1);
        exam.add("chained-hook-missing",
                 chained + " is a symbolic link to " +
                     (size > 0 ? std::string(target, static_cast<std::size_t>(size)) : "?") +
                     ", which does not exist: the hook that should run after trunkgate is "
                     "skipped",
                 "restore what it points to, or remove the link: rm " + shell_quote(chained),
                 chained);
        return;
    }
    if (!S_ISREG(info.st_mode)) {
        exam.add("chained-hook-missing",
                 chained + " is not a regular file: the hook that should run after trunkgate is "
                           "skipped",
                 "put the hook back as a file, or remove it: rm -r " + shell_quote(chained),
                 chained);
        return;
    }
    if (const auto why = access_problem(exam.owner, chained, want_search))
        exam.add("chained-hook-not-executable",
                 chained + " is skipped: " + *why +
                     " (trunkgate skips a chained hook that is not executable, as git does)",
                 exam.as_root("chmod a+x " + shell_quote(chained)), chained);
}

void check_hook(examination& exam, const std::string& dir, const std::string& name) {
    const auto path = dir + "/" + name;
    const auto chained = path + ".chained";
    const std::string purpose = name == "pre-receive"
                                    ? "pushes are not checked and no decision is audited"
                                    : "no push event is sent and what landed is not audited";
    if (!exists_link(path)) {
        exam.add("hook-missing", path + " does not exist: " + purpose, exam.install_fix(), path);
        check_chained_hook(exam, chained);
        return;
    }
    const auto text = read_file(path);
    if (!text || text->find("trunkgate-managed") == std::string::npos) {
        exam.add("hook-missing",
                 path + (text ? " is not trunkgate's wrapper" : " cannot be read") + ": " +
                     purpose + " (install keeps a hook of yours as " + name +
                     ".chained, run after trunkgate)",
                 exam.install_fix(), path);
        check_chained_hook(exam, chained);
        return;
    }
    exam.managed_hook = true;
    if (const auto why = access_problem(exam.owner, path, want_search))
        exam.add("hook-not-executable", path + " is not run by git: " + *why + "; " + purpose,
                 exam.as_root("chmod a+x " + shell_quote(path)), path);
    const auto command = wrapper_of(*text);
    if (!command) {
        exam.add("hook-missing-binary", path + " names no program to run (no exec line)",
                 exam.install_fix(), path);
    } else if (const auto why = access_problem(exam.owner, command->program, want_search)) {
        exam.add("hook-missing-binary",
                 path + " runs " + command->program + ", which " +
                     (exists_link(command->program) ? "does not run: " + *why
                                                    : std::string("does not exist")) +
                     "; every push through it fails",
                 exam.install_fix(), path);
    } else {
        const auto version = cached_program_version(command->program);
        if (version != std::string(trunkgate_version()))
            exam.add("hook-other-version",
                     path + " runs " + command->program + ", " +
                         (version ? "trunkgate " + *version
                                  : std::string("which does not say its version (built before "
                                                "trunkgate marked its programs)")) +
                         "; this trunkgate is " + std::string(trunkgate_version()) + " (" +
                         exam.options.program_dir + ")",
                     exam.install_fix(), path);
    }
    // A wrapper copied along with its repository still chains the original's hook.
    if (command && command->chain && command->chain->find('$') == std::string::npos &&
        real_path(*command->chain) != real_path(chained) &&
        without_slash(*command->chain) != chained)
        exam.add("hook-other-repository",
                 path + " chains " + *command->chain +
                     ", which is not this repository's (was the repository copied or moved?); " +
                     chained + " does not run",
                 exam.install_fix(), path);
    check_chained_hook(exam, chained);
}

// ---------------------------------------------------------------------------------------------
// The policy and git config.

// Finds the policy as the hooks do; false when there is none at all.
bool find_policy(examination& exam) {
    try {
        exam.policy_path =
            locate_policy(exam.options.env ? exam.options.env("TRUNKGATE_POLICY") : std::nullopt,
                          config_string(exam.repo.get(), "trunkgate.policy"), exam.git_dir);
    } catch (const missing_policy_error&) {
        return false;
    }
    return true;
}

void check_policy(examination& exam, bool found) {
    if (!found) {
        exam.add("policy-missing",
                 "no policy (looked at TRUNKGATE_POLICY, git config trunkgate.policy and " +
                     exam.git_dir +
                     "trunkgate.toml): the pre-receive hook rejects every push (policy-error)",
                 exam.install_fix(), exam.git_dir + "trunkgate.toml");
        return;
    }
    const auto shown = exam.policy_path;
    const auto absolute = shown.front() == '/' ? shown : real_path(shown);
    try {
        // What `trunkgate policy lint` does.
        exam.rules_policy = load_policy(shown);
    } catch (const policy_error& e) {
        exam.add("policy-invalid",
                 std::string(e.what()) + " (the pre-receive hook rejects every push with "
                                         "policy-error)",
                 "correct it, then: " + exam.trunkgate("policy lint " + shell_quote(shown)), shown);
        return;
    }
    if (const auto why = access_problem(exam.owner, absolute, want_read))
        exam.add("policy-unreadable",
                 shown + " loads for " + exam.runner.name + ", but not for " + exam.owner.name +
                     ", who runs the hooks: " + *why,
                 exam.as_root("chmod a+r " + shell_quote(shown)), shown);
}

void check_config(examination& exam) {
    git_config* raw = nullptr;
    check(git_repository_config_snapshot(&raw, exam.repo.get()),
          "read the repository's git config");
    config_ptr config(raw);
    int push_options = 0;
    const int rc = git_config_get_bool(&push_options, config.get(), "receive.advertisePushOptions");
    if (rc != 0 && rc != GIT_ENOTFOUND)
        check(rc, "read git config receive.advertisePushOptions");
    git_error_clear();
    if (!push_options)
        exam.add("push-options-off",
                 "receive.advertisePushOptions is not true: git refuses `git push -o` (no "
                 "trunkgate.bypass, no push options in events)",
                 exam.as_owner("git --git-dir=" + shell_quote(without_slash(exam.git_dir)) +
                               " config receive.advertisePushOptions true") +
                     " (gitolite: `config receive.advertisePushOptions = true` in gitolite.conf)",
                 exam.git_dir + "config");
    if (const auto proc = config_string(exam.repo.get(), "receive.procReceiveRefs"))
        exam.add("proc-receive-refs",
                 "receive.procReceiveRefs = " + *proc +
                     ": a proc-receive hook, not git, updates the refs it matches; trunkgate's "
                     "pre-receive still judges the pushed refs, but what lands (post-receive, "
                     "events, the audit log's landed records) is what that hook reports",
                 "if that is not intended: " +
                     exam.as_owner("git --git-dir=" + shell_quote(without_slash(exam.git_dir)) +
                                   " config --unset-all receive.procReceiveRefs"),
                 exam.git_dir + "config", true);
}

// ---------------------------------------------------------------------------------------------
// $GIT_DIR/trunkgate/: the audit log, the spool, events.log.

std::string state_dir(const examination& exam) {
    return exam.git_dir + "trunkgate";
}

std::string spool_dir(const examination& exam) {
    return without_slash(exam.rules_policy ? spool_dir_for(*exam.rules_policy, exam.git_dir)
                                           : exam.git_dir + "trunkgate/spool");
}

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

// Everything below `root` (not following symbolic links) that the owner does not own, or cannot
// read and write (directories: also enter).
void check_state_tree(examination& exam, const std::string& root) {
    std::size_t foreign = 0, locked = 0;
    std::string first_foreign, first_locked;
    const auto audit_log = state_dir(exam) + "/audit.log"; // its own check
    std::function<void(const std::string&, int)> walk = [&](const std::string& path, int depth) {
        struct stat info {};
        if (::lstat(path.c_str(), &info) != 0 || S_ISLNK(info.st_mode) || path == audit_log)
            return;
        if (info.st_uid != exam.owner.uid) {
            if (!foreign++)
                first_foreign = path + ", " + owner_and_mode(info);
        } else if (!allowed(exam.owner, info,
                            S_ISDIR(info.st_mode) ? want_read | want_write | want_search
                                                  : want_read | want_write)) {
            if (!locked++)
                first_locked = path + ", " + owner_and_mode(info);
        }
        if (S_ISDIR(info.st_mode) && depth < 8)
            for (const auto& name : names_in(path))
                walk(path + "/" + name, depth + 1);
    };
    walk(root, 0);
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

void check_state(examination& exam) {
    if (is_directory(state_dir(exam)))
        check_state_tree(exam, state_dir(exam));
    const auto spool = spool_dir(exam);
    if (spool.rfind(state_dir(exam) + "/", 0) != 0 && is_directory(spool))
        check_state_tree(exam, spool);
}

struct spool_problem {
    std::string path;
    std::string why;
};

std::string entry_summary(const spool_entry& entry) {
    return entry.id + " for " + printable(entry.ref) +
           (entry.last_error.empty() ? "" : ", last error: " + printable(entry.last_error));
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

// ---------------------------------------------------------------------------------------------
// The deliver timer: what docs/events.md recommends, the systemd units of templates/systemd/
// (a .service running `trunkgate deliver`, started by an enabled .timer) or a cron line.

// The `trunkgate deliver` command on `line`, from the word after "deliver"; nullopt when the
// line runs none.
std::optional<std::vector<std::string>> deliver_arguments(const std::string& line) {
    auto text = line;
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos || text[first] == '#' || text[first] == ';')
        return std::nullopt;
    const auto words = shell_words(text);
    for (std::size_t i = 0; i + 1 < words.size(); ++i) {
        auto program =
            words[i].substr(words[i].rfind('=') == std::string::npos ? 0 : words[i].rfind('=') + 1);
        program.erase(0, program.find_first_not_of("-@+!:"));
        const auto slash = program.rfind('/');
        if ((slash == std::string::npos ? program : program.substr(slash + 1)) == "trunkgate" &&
            words[i + 1] == "deliver")
            return std::vector<std::string>(words.begin() + static_cast<long>(i) + 2, words.end());
    }
    return std::nullopt;
}

// True when `trunkgate deliver ARGUMENTS` serves the repository at `git_dir` (or says nothing
// of where: the current directory, which cannot be judged from here).
bool serves(const std::vector<std::string>& arguments, const std::string& git_dir) {
    const auto repository = real_path(without_slash(git_dir));
    bool named = false;
    for (std::size_t i = 0; i < arguments.size(); ++i) {
        std::string flag = arguments[i], value;
        if (const auto equals = flag.find('='); equals != std::string::npos) {
            value = flag.substr(equals + 1);
            flag.erase(equals);
        } else if (i + 1 < arguments.size()) {
            value = arguments[i + 1];
        }
        if (flag != "--all-under" && flag != "--repo")
            continue;
        named = true;
        const auto where = without_slash(real_path(value));
        if (flag == "--all-under" && (repository == where || repository.rfind(where + "/", 0) == 0))
            return true;
        if (flag == "--repo" && (repository == where || repository == where + "/.git"))
            return true;
    }
    return !named;
}

struct schedule_file {
    std::string path;
    std::string name; // base name
    std::string text;
};

struct deliver_source {
    std::string where; // the unit or crontab
    std::string line;
    std::vector<std::string> arguments;
};

void check_deliver_timer(examination& exam) {
    if (!exam.rules_policy || exam.rules_policy->events.endpoints.empty())
        return;
    std::vector<schedule_file> files;
    std::vector<std::string> enabled; // timers linked from some *.wants/
    std::vector<std::string> seen;
    const auto take = [&](const std::string& path) {
        const auto real = real_path(path);
        if (std::find(seen.begin(), seen.end(), real) != seen.end())
            return;
        seen.push_back(real);
        if (const auto text = read_file(path))
            files.push_back({path, path.substr(path.rfind('/') + 1), *text});
    };
    for (const auto& place : exam.options.schedule_paths) {
        if (!is_directory(place)) {
            take(place);
            continue;
        }
        for (const auto& name : names_in(place)) {
            const auto path = place + "/" + name;
            if (ends_with(name, ".wants") && is_directory(path)) {
                for (const auto& linked : names_in(path))
                    enabled.push_back(linked);
                continue;
            }
            struct stat info {};
            if (name.front() != '.' && ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode))
                take(path);
        }
    }
    std::vector<deliver_source> running; // started by something
    std::vector<std::string> dormant;    // why a unit that would deliver does not run
    for (const auto& file : files) {
        if (ends_with(file.name, ".timer"))
            continue;
        const bool service = ends_with(file.name, ".service");
        for (const auto& line : lines_of(file.text)) {
            auto arguments = deliver_arguments(line);
            if (!arguments)
                continue;
            if (!service) {
                running.push_back({file.path, line, *arguments});
                continue;
            }
            const auto stem = file.name.substr(0, file.name.size() - 8);
            std::string timer;
            for (const auto& other : files)
                if (ends_with(other.name, ".timer") &&
                    (other.name == stem + ".timer" ||
                     other.text.find("Unit=" + file.name) != std::string::npos))
                    timer = other.name;
            if (timer.empty())
                dormant.push_back(file.path + " runs trunkgate deliver, but no .timer starts it");
            else if (std::find(enabled.begin(), enabled.end(), timer) == enabled.end())
                dormant.push_back(timer + " (for " + file.path + ") is not enabled");
            else
                running.push_back({file.path, line, *arguments});
        }
    }
    const auto units = real_path(exam.options.templates_dir) + "/systemd";
    if (running.empty()) {
        exam.add("deliver-timer-missing",
                 "[[events.endpoint]] is set, but nothing runs `trunkgate deliver` (" +
                     (dormant.empty() ? "no systemd timer or cron job in " +
                                            join(exam.options.schedule_paths, ", ")
                                      : join(dormant, "; ")) +
                     "): an event the post-receive hook cannot send at once waits until the "
                     "next push",
                 dormant.empty()
                     ? exam.as_root("cp " + shell_quote(units + "/trunkgate-deliver.service") +
                                    " " + shell_quote(units + "/trunkgate-deliver.timer") +
                                    " /etc/systemd/system/") +
                           " (set User=" + exam.owner.name + " and ExecStart=" +
                           exam.options.program_dir + "/trunkgate deliver --all-under " +
                           real_path(without_slash(exam.git_dir) + "/..") +
                           " in the .service), then " + exam.as_root("systemctl daemon-reload") +
                           " && " + exam.as_root("systemctl enable --now trunkgate-deliver.timer")
                     : exam.as_root("systemctl enable --now trunkgate-deliver.timer") +
                           " (or the timer named above)",
                 "");
        return;
    }
    if (std::any_of(running.begin(), running.end(), [&](const deliver_source& source) {
            return serves(source.arguments, exam.git_dir);
        }))
        return;
    const auto& source = running.front();
    exam.add("deliver-timer-elsewhere",
             "trunkgate deliver runs from " + source.where + " (" + source.line +
                 "), which does not serve " + without_slash(exam.git_dir),
             "add the repository to that line: " + source.line + " --all-under " +
                 shell_quote(real_path(without_slash(exam.git_dir) + "/..")),
             source.where);
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
        guarded(exam, "audit log", [&] { check_audit_log(exam); });
        guarded(exam, "ownership", [&] { check_state(exam); });
        guarded(exam, "spool", [&] { check_spool(exam); });
        guarded(exam, "deliver timer", [&] { check_deliver_timer(exam); });
    } catch (const std::exception& e) {
        exam.add("check-failed", std::string("the repository could not be examined: ") + e.what(),
                 "");
    }
    return report;
}

} // namespace trunkgate
