#include "trunkgate/util/ownership.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "trunkgate/util/error.hpp"
#include "trunkgate/util/files.hpp"

namespace trunkgate {

namespace {

std::optional<passwd> lookup(uid_t uid, std::vector<char>& buffer) {
    passwd entry{};
    passwd* found = nullptr;
    buffer.resize(16384);
    while (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == ERANGE)
        buffer.resize(buffer.size() * 2);
    if (!found)
        return std::nullopt;
    return entry;
}

std::string reason() {
    return std::strerror(errno);
}

// Reads both pipes to the end (a child that writes much to one must not block on it while we
// wait on the other).
void drain(int out_fd, int err_fd, child_run& result) {
    int fds[2] = {out_fd, err_fd};
    std::string* sinks[2] = {&result.out, &result.err};
    while (fds[0] >= 0 || fds[1] >= 0) {
        pollfd ready[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
        if (::poll(ready, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i] < 0 || ready[i].revents == 0)
                continue;
            char buffer[65536];
            const ssize_t n = ::read(fds[i], buffer, sizeof buffer);
            if (n > 0) {
                sinks[i]->append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                ::close(fds[i]);
                fds[i] = -1;
            }
        }
    }
    for (int fd : fds)
        if (fd >= 0)
            ::close(fd);
}

} // namespace

std::string user_name(uid_t uid) {
    std::vector<char> buffer;
    const auto entry = lookup(uid, buffer);
    return entry ? entry->pw_name : std::to_string(uid);
}

std::optional<system_user> find_user(uid_t uid) {
    std::vector<char> buffer;
    const auto entry = lookup(uid, buffer);
    if (!entry)
        return std::nullopt;
    return system_user{entry->pw_uid, entry->pw_gid, entry->pw_name,
                       entry->pw_dir ? entry->pw_dir : "/"};
}

uid_t owner_of(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0)
        throw file_error("cannot stat " + path + ": " + reason(), errno);
    return info.st_uid;
}

void become_user(const system_user& user) {
    // The order runuser(1) uses: groups while still root, the user last.
    if (::initgroups(user.name.c_str(), user.gid) != 0)
        throw internal_error("cannot take the groups of " + user.name + ": " + reason());
    if (::setgid(user.gid) != 0)
        throw internal_error("cannot become group " + std::to_string(user.gid) + " of " +
                             user.name + ": " + reason());
    if (::setuid(user.uid) != 0)
        throw internal_error("cannot become " + user.name + ": " + reason());
    // Half a change of identity must not go on running: not as root, not as anything else.
    uid_t ruid = 0, euid = 0, suid = 0;
    gid_t rgid = 0, egid = 0, sgid = 0;
    if (::getresuid(&ruid, &euid, &suid) != 0 || ::getresgid(&rgid, &egid, &sgid) != 0 ||
        ruid != user.uid || euid != user.uid || suid != user.uid || rgid != user.gid ||
        egid != user.gid || sgid != user.gid)
        std::abort();
    if (user.uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0))
        std::abort();
    if (user.gid != 0 && (::setgid(0) == 0 || ::setegid(0) == 0))
        std::abort();
    ::setenv("HOME", user.home.c_str(), 1);
    ::setenv("USER", user.name.c_str(), 1);
    ::setenv("LOGNAME", user.name.c_str(), 1);
    ::unsetenv("XDG_CONFIG_HOME");
}

child_run run_as_user(const system_user& user,
                      const std::function<int(std::ostream& out, std::ostream& err)>& work,
                      int failure_status) {
    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0)
        throw internal_error("cannot make a pipe: " + reason());
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
        const auto why = reason();
        ::close(out_pipe[0]);
        ::close(out_pipe[1]);
        throw internal_error("cannot make a pipe: " + why);
    }
    const pid_t child = ::fork();
    if (child < 0) {
        const auto why = reason();
        for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]})
            ::close(fd);
        throw internal_error("cannot fork: " + why);
    }
    if (child == 0) {
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        std::ostringstream out, err;
        int status = failure_status;
        try {
            become_user(user);
            status = work(out, err);
        } catch (const std::exception& e) {
            err << "trunkgate: error: " << e.what() << "\n";
        }
        write_all(out_pipe[1], out.str());
        write_all(err_pipe[1], err.str());
        // Not exit(): the parent's buffered output and atexit handlers are the parent's.
        ::_exit(status);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    child_run result;
    drain(out_pipe[0], err_pipe[0], result);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : failure_status;
    if (WIFSIGNALED(status))
        result.err += "trunkgate: the process acting as " + user.name + " was killed by signal " +
                      std::to_string(WTERMSIG(status)) + "\n";
    return result;
}

} // namespace trunkgate
