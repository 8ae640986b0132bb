#include "support/sandbox.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <ftw.h>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace trunkgate::testing {

std::string bin_path(const std::string& program) {
    return std::string(TRUNKGATE_BIN_DIR) + "/" + program;
}
std::string source_path(const std::string& relative) {
    return std::string(TRUNKGATE_SOURCE_DIR) + "/" + relative;
}

temp_dir::temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/trunkgate-test-XXXXXX";
    if (!::mkdtemp(pattern.data()))
        throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
    path_ = pattern;
}

temp_dir::~temp_dir() {
    ::nftw(
        path_.c_str(),
        [](const char* path, const struct stat*, int, struct FTW*) { return ::remove(path); }, 16,
        FTW_DEPTH | FTW_PHYS);
}

namespace {

void read_ready(int& fd, std::string& sink) {
    char buffer[65536];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
        sink.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
        ::close(fd);
        fd = -1;
    }
}

// Moves stdin, stdout and stderr of the parent's child between pipes without deadlocking.
void pump(int in_fd, const std::string& input, int out_fd, int err_fd, run_result& result) {
    std::size_t written = 0;
    if (input.empty()) {
        ::close(in_fd);
        in_fd = -1;
    }
    while (out_fd >= 0 || err_fd >= 0) {
        pollfd fds[3] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}, {in_fd, POLLOUT, 0}};
        if (::poll(fds, 3, -1) < 0 && errno != EINTR)
            break;
        if (fds[0].revents)
            read_ready(out_fd, result.out);
        if (fds[1].revents)
            read_ready(err_fd, result.err);
        if (in_fd >= 0 && fds[2].revents) {
            const ssize_t n = ::write(in_fd, input.data() + written, input.size() - written);
            if (n > 0)
                written += static_cast<std::size_t>(n);
            if (n < 0 || written == input.size()) {
                ::close(in_fd);
                in_fd = -1;
            }
        }
    }
    if (in_fd >= 0)
        ::close(in_fd);
}

} // namespace

void exec_child(const std::vector<std::string>& argv, const std::string& cwd,
                const std::map<std::string, std::string>& env) {
    if (::chdir(cwd.c_str()) != 0)
        ::_exit(126);
    for (const auto& [name, value] : env)
        ::setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> args;
    for (const auto& arg : argv)
        args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
}

void exec_child_logged(const std::vector<std::string>& argv, const std::string& cwd,
                       const std::map<std::string, std::string>& env,
                       const std::string& output_path) {
    const int null_fd = ::open("/dev/null", O_RDONLY);
    const int out_fd = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (null_fd < 0 || out_fd < 0)
        ::_exit(126);
    ::dup2(null_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(out_fd, 2);
    ::close(null_fd);
    ::close(out_fd);
    exec_child(argv, cwd, env);
}

run_result run(const std::vector<std::string>& argv, const std::string& cwd,
               const std::map<std::string, std::string>& env, const std::string& input) {
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (::pipe(in_pipe) || ::pipe(out_pipe) || ::pipe(err_pipe))
        throw std::runtime_error("pipe failed");
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(in_pipe[0], 0);
        ::dup2(out_pipe[1], 1);
        ::dup2(err_pipe[1], 2);
        for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]})
            ::close(fd);
        exec_child(argv, cwd, env);
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    run_result result;
    ::signal(SIGPIPE, SIG_IGN);
    pump(in_pipe[1], input, out_pipe[0], err_pipe[0], result);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    return result;
}

background_process::background_process(const std::vector<std::string>& argv, const std::string& cwd,
                                       const std::map<std::string, std::string>& env,
                                       const std::string& output_path) {
    pid_ = ::fork();
    if (pid_ < 0)
        throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    if (pid_ == 0)
        exec_child_logged(argv, cwd, env, output_path);
}

background_process::~background_process() {
    if (status_)
        return;
    kill(SIGKILL);
    wait();
}

void background_process::kill(int signal) const {
    if (!status_)
        ::kill(pid_, signal);
}

int background_process::wait() {
    if (!status_) {
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        status_ = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    }
    return *status_;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

const std::string zero_id(40, '0');

long long days_ago(double days) {
    return static_cast<long long>(std::time(nullptr)) - static_cast<long long>(days * 86400);
}

std::vector<std::string> remote_lines(const run_result& result) {
    constexpr std::string_view prefix = "remote: ";
    std::vector<std::string> lines;
    std::istringstream in(result.err);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(prefix, 0) != 0)
            continue;
        line.erase(0, prefix.size());
        while (!line.empty() && (line.back() == ' ' || line.back() == '\r'))
            line.pop_back();
        lines.push_back(line);
    }
    return lines;
}

std::string remote_text(const run_result& result) {
    std::string text;
    for (const auto& line : remote_lines(result))
        text += line + "\n";
    return text;
}

void write_file(const std::string& path, const std::string& content) {
    for (auto slash = path.find('/', 1); slash != std::string::npos;
         slash = path.find('/', slash + 1))
        ::mkdir(path.substr(0, slash).c_str(), 0755);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out)
        throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

namespace {

std::map<std::string, std::string> git_env(const std::string& home) {
    return {{"HOME", home},
            {"GIT_CONFIG_NOSYSTEM", "1"},
            {"GIT_TERMINAL_PROMPT", "0"},
            {"GIT_AUTHOR_NAME", "Dev Eloper"},
            {"GIT_AUTHOR_EMAIL", "dev@example.com"},
            {"GIT_COMMITTER_NAME", "Dev Eloper"},
            {"GIT_COMMITTER_EMAIL", "dev@example.com"},
            {"TRUNKGATE_USER", "dev"},
            // No server-wide policy: /etc/trunkgate/policy.toml of the machine running the tests
            // must not judge their pushes. Tests of the server-wide policy set their own.
            {"TRUNKGATE_SYSTEM_POLICY", ""},
            {"LC_ALL", "C"}};
}

std::string trim(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    return text;
}

} // namespace

git_sandbox::git_sandbox() : server_(root_ / "server.git"), clone_(root_ / "clone") {
    write_file(root_ / "home/.gitconfig",
               "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n");
    auto made = git_in(root_.path(), {"init", "-q", "--bare", "-b", "main", server_});
    if (made.status != 0)
        throw std::runtime_error("git init failed: " + made.all());
    made = git_in(root_.path(), {"clone", "-q", server_, clone_});
    if (made.status != 0)
        throw std::runtime_error("git clone failed: " + made.all());
}

run_result git_sandbox::git_in(const std::string& cwd, const std::vector<std::string>& args,
                               const std::map<std::string, std::string>& env) const {
    auto full_env = git_env(root_ / "home");
    for (const auto& [name, value] : env)
        full_env[name] = value;
    std::vector<std::string> argv{"git"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, cwd, full_env);
}

std::map<std::string, std::string>
git_sandbox::environment(const std::map<std::string, std::string>& extra) const {
    auto full_env = git_env(root_ / "home");
    for (const auto& [name, value] : extra)
        full_env[name] = value;
    return full_env;
}

run_result git_sandbox::git(const std::vector<std::string>& args,
                            const std::map<std::string, std::string>& env) const {
    return git_in(clone_, args, env);
}

run_result git_sandbox::trunkgate(const std::vector<std::string>& args, const std::string& input,
                                  const std::map<std::string, std::string>& env) const {
    auto full_env = git_env(root_ / "home");
    for (const auto& [name, value] : env)
        full_env[name] = value;
    std::vector<std::string> argv{bin_path("trunkgate")};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, clone_, full_env, input);
}

std::string git_sandbox::commit(const std::string& message, const std::string& file,
                                std::optional<long long> when) {
    const auto name = file.empty() ? "file" + std::to_string(counter_ % 7) + ".txt" : file;
    write_file(clone_ + "/" + name, "change " + std::to_string(++counter_) + "\n");
    if (git({"add", "--", name}).status != 0)
        throw std::runtime_error("git add failed");
    const auto stamp =
        "@" + std::to_string(when.value_or(static_cast<long long>(std::time(nullptr)))) + " +0000";
    const auto made = git({"commit", "-q", "-m", message},
                          {{"GIT_AUTHOR_DATE", stamp}, {"GIT_COMMITTER_DATE", stamp}});
    if (made.status != 0)
        throw std::runtime_error("git commit failed: " + made.all());
    return clone_rev("HEAD");
}

std::string git_sandbox::merge(const std::string& branch, const std::string& message,
                               std::optional<long long> when) {
    const auto stamp =
        "@" + std::to_string(when.value_or(static_cast<long long>(std::time(nullptr)))) + " +0000";
    const auto made = git({"merge", "-q", "--no-ff", "-m", message, branch},
                          {{"GIT_AUTHOR_DATE", stamp}, {"GIT_COMMITTER_DATE", stamp}});
    if (made.status != 0)
        throw std::runtime_error("git merge failed: " + made.all());
    return clone_rev("HEAD");
}

std::string git_sandbox::commits(int count, const std::string& prefix,
                                 std::optional<long long> when) {
    std::string last;
    for (int i = 0; i < count; ++i)
        last = commit(prefix + " " + std::to_string(i + 1), "", when);
    return last;
}

std::string git_sandbox::server_rev(const std::string& rev) const {
    const auto found = git_in(server_, {"rev-parse", "-q", "--verify", rev});
    return found.status == 0 ? trim(found.out) : "";
}

std::string git_sandbox::clone_rev(const std::string& rev) const {
    return trim(git({"rev-parse", "-q", "--verify", rev}).out);
}

void git_sandbox::install(const std::string& policy_text) {
    std::vector<std::string> args{"install"};
    if (!policy_text.empty()) {
        write_file(root_ / "policy.toml", policy_text);
        args.insert(args.end(), {"--policy", root_ / "policy.toml"});
    }
    args.push_back(server_);
    const auto installed = trunkgate(args);
    if (installed.status != 0)
        throw std::runtime_error("trunkgate install failed: " + installed.all());
}

run_result git_sandbox::run_hook(const std::string& input,
                                 const std::map<std::string, std::string>& env) const {
    auto full_env = git_env(root_ / "home");
    full_env["GIT_DIR"] = server_;
    for (const auto& [name, value] : env)
        full_env[name] = value;
    return run({bin_path("trunkgate-pre-receive")}, server_, full_env, input);
}

void git_sandbox::write_server_policy(const std::string& policy_text) const {
    write_file(server_ + "/trunkgate.toml", policy_text);
}

run_result git_sandbox::push(const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& env) const {
    std::vector<std::string> full{"push"};
    full.insert(full.end(), args.begin(), args.end());
    return git(full, env);
}

} // namespace trunkgate::testing
