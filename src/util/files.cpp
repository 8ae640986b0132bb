#include "trunkgate/util/files.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trunkgate/util/error.hpp"

namespace trunkgate {

bool file_exists(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0;
}

int (*fsync_for_tests)(int) = ::fsync;

namespace {

void fsync_path(const std::string& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0)
        throw internal_error("cannot open " + path + ": " + std::strerror(errno));
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0)
        throw internal_error("cannot sync " + path + ": " + std::strerror(errno));
}

} // namespace

bool write_all(int fd, const std::string& text) {
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0) {
            errno = EIO;
            return false;
        }
        written += static_cast<std::size_t>(n);
    }
    return true;
}

// Temp file, fsync, rename over the target, fsync the directory: after this returns the file is
// on disk whole, or the old one is.
void write_durably(const std::string& dir, const std::string& name, const std::string& content,
                   unsigned mode) {
    const auto target = dir + "/" + name;
    const auto temporary = dir + "/." + name + ".tmp" + std::to_string(::getpid());
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        throw internal_error("cannot write " + temporary + ": " + std::strerror(errno));
    ::fchmod(fd, mode); // the umask must not loosen or tighten a hook's mode
    if (!write_all(fd, content)) {
        const std::string reason = std::strerror(errno);
        ::close(fd);
        ::unlink(temporary.c_str());
        throw internal_error("cannot write " + temporary + ": " + reason);
    }
    // Close whatever fsync says: the descriptor must not outlive a failure.
    const bool synced = fsync_for_tests(fd) == 0;
    const int sync_errno = errno;
    const bool closed = ::close(fd) == 0;
    if (!synced)
        errno = sync_errno;
    if (!synced || !closed || ::rename(temporary.c_str(), target.c_str()) != 0) {
        const std::string reason = std::strerror(errno);
        ::unlink(temporary.c_str());
        throw internal_error("cannot store " + target + ": " + reason);
    }
    fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

std::optional<std::string> read_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return std::nullopt;
        throw file_error("cannot read " + path + ": " + std::strerror(errno), errno);
    }
    std::string text;
    struct stat info {};
    if (::fstat(fd, &info) == 0 && info.st_size > 0)
        text.reserve(static_cast<std::size_t>(info.st_size));
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n > 0) {
            text.append(buffer, static_cast<std::size_t>(n));
        } else if (n == 0) {
            break;
        } else if (errno != EINTR) {
            const int error = errno;
            ::close(fd);
            throw file_error("cannot read " + path + ": " + std::strerror(error), error);
        }
    }
    ::close(fd);
    return text;
}

std::vector<std::string> directory_names(const std::string& dir) {
    std::vector<std::string> names;
    DIR* listing = ::opendir(dir.c_str());
    if (!listing) {
        if (errno == ENOENT)
            return names;
        throw file_error("cannot list " + dir + ": " + std::strerror(errno), errno);
    }
    while (const dirent* item = ::readdir(listing)) {
        const std::string_view name = item->d_name;
        if (name != "." && name != "..")
            names.emplace_back(name);
    }
    ::closedir(listing);
    std::sort(names.begin(), names.end());
    return names;
}

} // namespace trunkgate
