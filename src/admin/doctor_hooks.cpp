#include "trunkgate/admin/doctor_checks.hpp"

#include <climits>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

#include "trunkgate/history/git.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/files.hpp"
#include "trunkgate/util/text.hpp"
#include "trunkgate/util/version.hpp"

namespace trunkgate {

// ---------------------------------------------------------------------------------------------
// Hook wrappers.

std::string hooks_dir(examination& exam) {
    const auto configured = config_string(exam.repo.get(), "core.hooksPath");
    if (!configured || configured->empty())
        return exam.git_dir + "hooks";
    return configured->front() == '/' ? *configured : exam.git_dir + *configured;
}

namespace {

bool exists_link(const std::string& path) {
    struct stat info {};
    return ::lstat(path.c_str(), &info) == 0;
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

} // namespace

void check_hook(examination& exam, const std::string& dir, const std::string& name) {
    const auto path = dir + "/" + name;
    const auto chained = path + ".chained";
    const bool proc_receive = name == "proc-receive";
    const std::string purpose =
        name == "pre-receive"    ? "pushes are not checked and no decision is audited"
        : name == "post-receive" ? "no push event is sent and what landed is not audited"
                                 : "a push to refs/for/<branch> does not enter the merge queue";
    if (!exists_link(path)) {
        exam.add("hook-missing", path + " does not exist: " + purpose, exam.install_fix(), path);
        check_chained_hook(exam, chained);
        return;
    }
    const auto text = read_file(path);
    if (!text || text->find("trunkgate-managed") == std::string::npos) {
        // git talks with a proc-receive hook on stdin and stdout: nothing can run after it, so
        // install leaves one that is not trunkgate's where it is.
        exam.add(
            "hook-missing",
            path + (text ? " is not trunkgate's wrapper" : " cannot be read") + ": " + purpose +
                (proc_receive ? " (a proc-receive hook cannot be chained: install leaves "
                                "yours alone, and it answers for refs/for)"
                              : " (install keeps a hook of yours as " + name +
                                    ".chained, run after trunkgate)"),
            proc_receive
                ? "if the merge queue is to take refs/for: " +
                      exam.as_owner("mv " + shell_quote(path) + " " + shell_quote(path + ".orig")) +
                      " && " + exam.install_fix()
                : exam.install_fix(),
            path);
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
    // refs/for is trunkgate's own: install routes it to trunkgate-proc-receive (the merge queue).
    const auto proc = config_string(exam.repo.get(), "receive.procReceiveRefs");
    if (proc && *proc != "refs/for")
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

} // namespace trunkgate
