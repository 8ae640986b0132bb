#include "trunkgate/util/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>

#include "trunkgate/util/error.hpp"

extern char** environ;

namespace trunkgate {

namespace {

// Feeds `input` to the child; a child that exits without reading all of it is not an error
// (git treats hooks the same way), so EPIPE ends the feeding quietly.
void feed(int fd, std::string_view input) {
    struct sigaction ignore {
    }, previous{};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &previous);
    while (!input.empty()) {
        const ssize_t written = ::write(fd, input.data(), input.size());
        if (written < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        input.remove_prefix(static_cast<std::size_t>(written));
    }
    ::close(fd);
    sigaction(SIGPIPE, &previous, nullptr);
}

} // namespace

int run_with_input(const std::vector<std::string>& argv, std::string_view input) {
    if (argv.empty())
        throw internal_error("no program to run");
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
        throw internal_error(std::string("cannot create a pipe: ") + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[0], STDIN_FILENO);
    std::vector<char*> args;
    for (const auto& arg : argv)
        args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[0]);
    if (rc != 0) {
        ::close(pipe_fds[1]);
        throw internal_error("cannot run " + argv[0] + ": " + std::strerror(rc));
    }
    feed(pipe_fds[1], input);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            throw internal_error("cannot wait for " + argv[0] + ": " + std::strerror(errno));
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

void run_detached(const std::function<void()>& work) {
    const pid_t child = ::fork();
    if (child < 0)
        throw internal_error(std::string("cannot fork: ") + std::strerror(errno));
    if (child == 0) {
        ::setsid();
        if (::fork() != 0)
            ::_exit(0); // the grandchild is re-parented to init; nobody waits for it
        const int null_fd = ::open("/dev/null", O_RDWR);
        for (int fd = 0; fd < 3; ++fd)
            ::dup2(null_fd, fd);
        for (int fd = 3; fd < 1024; ++fd)
            ::close(fd);
        try {
            work();
        } catch (...) {
            ::_exit(1);
        }
        ::_exit(0);
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
}

bool is_executable_file(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
           ::access(path.c_str(), X_OK) == 0;
}

std::string executable_dir() {
    char path[PATH_MAX];
    const ssize_t length = ::readlink("/proc/self/exe", path, sizeof path - 1);
    if (length <= 0)
        throw internal_error("cannot find the running program (/proc/self/exe)");
    std::string dir(path, static_cast<std::size_t>(length));
    return dir.substr(0, dir.find_last_of('/'));
}

} // namespace trunkgate
