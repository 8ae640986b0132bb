#include "trunkgate/admin/install.hpp"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "trunkgate/history/git.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/files.hpp"
#include "trunkgate/util/process.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

namespace {

constexpr std::string_view managed_header = "# trunkgate-managed hook";

bool path_exists(const std::string& path) {
    struct stat info {};
    return ::lstat(path.c_str(), &info) == 0;
}

bool is_directory(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

// The absolute, symlink-free form of an existing path: the wrappers name files by absolute path,
// since git runs them in whatever directory the repository is.
std::string absolute_path(const std::string& path) {
    char* resolved = ::realpath(path.c_str(), nullptr);
    if (!resolved)
        throw internal_error("cannot resolve " + path + ": " + std::strerror(errno));
    std::string result(resolved);
    std::free(resolved);
    return result;
}

// Makes a rename or an unlink in `dir` durable.
void sync_directory(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        throw internal_error("cannot open " + dir + ": " + std::strerror(errno));
    const int rc = ::fsync(fd);
    const int sync_errno = errno;
    ::close(fd);
    if (rc != 0)
        throw internal_error("cannot sync " + dir + ": " + std::strerror(sync_errno));
}

std::string link_target(const std::string& path) {
    char target[PATH_MAX];
    const ssize_t length = ::readlink(path.c_str(), target, sizeof target - 1);
    return length > 0 ? std::string(target, static_cast<std::size_t>(length)) : path;
}

std::string hooks_dir(git_repository* repo) {
    const auto configured = config_string(repo, "core.hooksPath");
    if (!configured || configured->empty())
        return git_dir(repo) + "hooks";
    if (configured->front() == '/')
        return *configured;
    return git_dir(repo) + *configured;
}

std::string install_hook(const std::string& dir, const std::string& name,
                         const install_options& options) {
    const auto hook_path = dir + "/" + name;
    const auto chained_path = hook_path + ".chained";
    const auto program = options.program_dir + "/trunkgate-" + name;
    if (!is_executable_file(program))
        throw internal_error("cannot find the hook program " + program);
    const auto template_text = read_file(options.templates_dir + "/hooks/" + name);
    if (!template_text)
        throw internal_error("cannot read the hook template " + options.templates_dir + "/hooks/" +
                             name);
    const auto wanted = replace_all(replace_all(*template_text, "@PROGRAM@", shell_quote(program)),
                                    "@CHAINED@", shell_quote(chained_path));
    std::string report;
    struct stat link {};
    if (::lstat(hook_path.c_str(), &link) == 0) {
        const auto current = read_file(hook_path);
        const bool ours = current && is_trunkgate_hook(*current);
        // gitolite links its common hooks into every repository: the link is the installation,
        // and replacing it with a copy would stop the repository following the common hook.
        if (ours && S_ISLNK(link.st_mode))
            return name + ": unchanged (a symbolic link to trunkgate's hook " +
                   link_target(hook_path) + ")";
        if (current == wanted)
            return name + ": unchanged";
        if (!ours) {
            if (path_exists(chained_path))
                throw input_error(hook_path + " is not trunkgate's and " + chained_path +
                                  " exists too; move one of them away, then install again");
            if (::rename(hook_path.c_str(), chained_path.c_str()) != 0)
                throw internal_error("cannot keep the existing hook as " + chained_path + ": " +
                                     std::strerror(errno));
            report = "; the existing hook is kept as " + name + ".chained and runs after trunkgate";
        }
    }
    write_durably(dir, name, wanted, 0755);
    return name + ": installed" + report;
}

std::string install_policy(git_repository* repo, const install_options& options) {
    const auto dir = git_dir(repo);
    const auto target = dir + "trunkgate.toml";
    const auto source =
        options.policy_file.value_or(options.templates_dir + "/policy/trunk-based.toml");
    load_policy(source); // never install a policy that would reject every push
    const auto text = read_file(source);
    if (!text)
        throw policy_error(source, 0, 0, "cannot read the policy file");
    const auto current = read_file(target);
    if (current == text)
        return "trunkgate.toml: unchanged";
    if (current && !options.policy_file)
        return "trunkgate.toml: kept the existing policy";
    // The template is only a default: a policy the hooks already find elsewhere is the admin's
    // choice, and a trunkgate.toml would override the server-wide one.
    const auto configured = config_string(repo, "trunkgate.policy");
    const bool configured_set = configured && !configured->empty();
    if (!options.policy_file && configured_set)
        return "trunkgate.toml: not installed; the hooks use git config trunkgate.policy (" +
               *configured + ")";
    if (!options.policy_file && !options.server_policy.empty() &&
        path_exists(options.server_policy))
        return "trunkgate.toml: not installed; the hooks use the server-wide policy " +
               options.server_policy;
    write_durably(dir.substr(0, dir.size() - 1), "trunkgate.toml", *text, 0644);
    const auto note = configured_set ? "; note: git config trunkgate.policy (" + *configured +
                                           ") comes first, so the hooks do not read it"
                                     : std::string();
    return (current ? "trunkgate.toml: replaced with " + source
                    : "trunkgate.toml: installed from " + source) +
           note;
}

config_ptr repository_config(git_repository* repo) {
    git_config* raw = nullptr;
    check(git_repository_config(&raw, repo), "open the repository's git config");
    return config_ptr(raw);
}

std::string enable_push_options(git_repository* repo) {
    if (config_string(repo, "receive.advertisePushOptions") == std::optional<std::string>("true"))
        return "receive.advertisePushOptions: unchanged";
    const auto config = repository_config(repo);
    check(git_config_set_bool(config.get(), "receive.advertisePushOptions", 1),
          "set receive.advertisePushOptions");
    return "receive.advertisePushOptions: set to true";
}

constexpr const char* proc_receive_refs = "receive.procReceiveRefs";
constexpr const char* queue_refs = "refs/for";
constexpr const char* queue_refs_pattern = "^refs/for$";

// A proc-receive hook converses with git on stdin and stdout: a foreign one cannot run after
// trunkgate's, so it stays where it is and keeps refs/for (or whatever it serves).
bool foreign_hook_at(const std::string& path) {
    if (!path_exists(path))
        return false;
    const auto current = read_file(path);
    return !current || !is_trunkgate_hook(*current);
}

std::string keep_foreign_proc_receive() {
    return "proc-receive: not installed; the existing hook is not trunkgate's and a proc-receive "
           "hook cannot be chained, so pushes to refs/for/ stay with it (no merge queue by push)";
}

// Whether the repository's config (any level) routes refs/for to proc-receive.
bool routes_queue_refs(git_config* config) {
    bool found = false;
    const int rc = git_config_get_multivar_foreach(
        config, proc_receive_refs, queue_refs_pattern,
        [](const git_config_entry*, void* payload) {
            *static_cast<bool*>(payload) = true;
            return 0;
        },
        &found);
    if (rc != GIT_ENOTFOUND)
        check(rc, "read git config receive.procReceiveRefs");
    return found;
}

// Set whether or not the policy has a [[queue]], as receive.advertisePushOptions is: a push to
// refs/for/<branch> without a queue is then refused by name instead of creating a stray ref.
std::string enable_queue_refs(git_repository* repo) {
    const auto config = repository_config(repo);
    if (routes_queue_refs(config.get()))
        return std::string(proc_receive_refs) + ": unchanged";
    check(git_config_set_multivar(config.get(), proc_receive_refs, queue_refs_pattern, queue_refs),
          "set receive.procReceiveRefs");
    return std::string(proc_receive_refs) +
           ": refs/for added (pushes to refs/for/<branch> go to the proc-receive hook and the "
           "merge queue; set whether or not the policy has a [[queue]])";
}

std::string disable_queue_refs(git_repository* repo) {
    const auto config = repository_config(repo);
    const int rc = git_config_delete_multivar(config.get(), proc_receive_refs, queue_refs_pattern);
    if (rc == GIT_ENOTFOUND)
        return std::string(proc_receive_refs) + ": refs/for not set";
    check(rc, "unset receive.procReceiveRefs");
    return std::string(proc_receive_refs) + ": refs/for removed";
}

// The three wrappers; a foreign proc-receive is left alone. Returns whether proc-receive is ours.
bool install_hooks(const std::string& dir, const install_options& options,
                   std::vector<std::string>& report) {
    report.push_back(install_hook(dir, "pre-receive", options));
    report.push_back(install_hook(dir, "post-receive", options));
    if (foreign_hook_at(dir + "/proc-receive")) {
        report.push_back(keep_foreign_proc_receive());
        return false;
    }
    report.push_back(install_hook(dir, "proc-receive", options));
    return true;
}

// Takes one wrapper out of `dir`: the chained hook, if any, goes back in its place in one rename,
// so there is no moment without it.
std::string uninstall_hook(const std::string& dir, const std::string& name) {
    const auto hook_path = dir + "/" + name;
    const auto chained_path = hook_path + ".chained";
    const bool chained = path_exists(chained_path);
    if (!path_exists(hook_path)) {
        if (!chained)
            return name + ": not installed";
        // A wrapper deleted by hand: the kept hook still belongs under its own name.
        if (::rename(chained_path.c_str(), hook_path.c_str()) != 0)
            throw internal_error("cannot restore " + chained_path + ": " + std::strerror(errno));
        sync_directory(dir);
        return name + ": restored from " + name + ".chained";
    }
    const auto current = read_file(hook_path);
    if (!current || !is_trunkgate_hook(*current))
        return name + ": not trunkgate's, left alone";
    if (chained) {
        if (::rename(chained_path.c_str(), hook_path.c_str()) != 0)
            throw internal_error("cannot restore " + chained_path + ": " + std::strerror(errno));
        sync_directory(dir);
        return name + ": removed; " + name + ".chained is " + name + " again";
    }
    if (::unlink(hook_path.c_str()) != 0)
        throw internal_error("cannot remove " + hook_path + ": " + std::strerror(errno));
    sync_directory(dir);
    return name + ": removed";
}

std::vector<std::string> uninstall_hooks(const std::string& dir) {
    return {uninstall_hook(dir, "pre-receive"), uninstall_hook(dir, "post-receive"),
            uninstall_hook(dir, "proc-receive")};
}

} // namespace

bool is_trunkgate_hook(std::string_view hook_text) {
    const auto first_line_end = hook_text.find('\n');
    if (first_line_end == std::string_view::npos)
        return false;
    return hook_text.substr(first_line_end + 1, managed_header.size()) == managed_header;
}

std::string default_templates_dir(const std::string& program_dir) {
    return program_dir + "/../" TRUNKGATE_DATADIR_RELATIVE "/templates";
}

std::vector<std::string> install_into(const std::string& repo_path,
                                      const install_options& options) {
    const auto repo = open_repository_at(repo_path, false);
    if (!git_repository_is_bare(repo.get()) && !options.force)
        throw input_error(repo_path + " has a work tree; trunkgate gates the bare repository " +
                          "that people push to (use --force to install anyway)");
    std::vector<std::string> report;
    report.push_back(install_policy(repo.get(), options));
    const auto dir = hooks_dir(repo.get());
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        throw internal_error("cannot create " + dir + ": " + std::strerror(errno));
    const bool proc_receive = install_hooks(dir, options, report);
    report.push_back(enable_push_options(repo.get()));
    if (proc_receive)
        report.push_back(enable_queue_refs(repo.get()));
    return report;
}

std::vector<std::string> install_into_hooks_dir(const std::string& hooks_dir,
                                                const install_options& options) {
    if (::mkdir(hooks_dir.c_str(), 0755) != 0 && errno != EEXIST)
        throw input_error("cannot create the hooks directory " + hooks_dir + ": " +
                          std::strerror(errno));
    if (!is_directory(hooks_dir))
        throw input_error(hooks_dir + " is not a directory");
    std::vector<std::string> report;
    install_hooks(absolute_path(hooks_dir), options, report);
    return report;
}

std::vector<std::string> uninstall_from(const std::string& repo_path) {
    const auto repo = open_repository_at(repo_path, false);
    const auto dir = hooks_dir(repo.get());
    if (!is_directory(dir))
        return {"pre-receive: not installed", "post-receive: not installed",
                "proc-receive: not installed", disable_queue_refs(repo.get())};
    // A core.hooksPath outside the repository may serve others too: taking trunkgate out of it
    // for one repository would ungate all of them.
    const auto repository = absolute_path(git_dir(repo.get())) + "/";
    if (config_string(repo.get(), "core.hooksPath") &&
        (absolute_path(dir) + "/").rfind(repository, 0) != 0)
        throw input_error(repo_path + " runs the hooks in " + dir +
                          " (core.hooksPath), which other repositories may share; run "
                          "`trunkgate uninstall --hooks-dir " +
                          dir +
                          "` to take trunkgate out of it for every repository that uses it, or "
                          "unset core.hooksPath for this one");
    const bool foreign_proc_receive = foreign_hook_at(dir + "/proc-receive");
    auto report = uninstall_hooks(dir);
    // refs/for stays routed to a foreign proc-receive hook: it was there for that hook.
    if (!foreign_proc_receive)
        report.push_back(disable_queue_refs(repo.get()));
    return report;
}

std::vector<std::string> uninstall_from_hooks_dir(const std::string& hooks_dir) {
    if (!is_directory(hooks_dir))
        throw input_error(hooks_dir + " is not a directory");
    return uninstall_hooks(hooks_dir);
}

} // namespace trunkgate
