#include "trunkgate/admin/fleet.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "trunkgate/util/error.hpp"

namespace trunkgate {

namespace {

bool has_entry(int dir_fd, const char* name, bool want_directory) {
    struct stat info {};
    if (::fstatat(dir_fd, name, &info, 0) != 0)
        return false;
    return want_directory ? S_ISDIR(info.st_mode) : true;
}

// `dir_fd` is open on `path`; it is closed here.
void search(int dir_fd, const std::string& path, int depth_left, std::vector<std::string>& found) {
    if (has_entry(dir_fd, "HEAD", false) && has_entry(dir_fd, "objects", true) &&
        has_entry(dir_fd, "refs", true)) {
        ::close(dir_fd);
        found.push_back(path);
        return;
    }
    DIR* listing = ::fdopendir(dir_fd);
    if (!listing) {
        ::close(dir_fd);
        return;
    }
    std::vector<std::string> children;
    bool work_tree = false;
    while (const dirent* entry = ::readdir(listing)) {
        const std::string name = entry->d_name;
        if (name == "." || name == "..")
            continue;
        if (name == ".git") {
            work_tree = true;
            break;
        }
        // lstat, not stat: a symbolic link is never followed, whatever it points at.
        struct stat info {};
        if (::fstatat(::dirfd(listing), entry->d_name, &info, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISDIR(info.st_mode))
            children.push_back(name);
    }
    if (work_tree || depth_left == 0) {
        ::closedir(listing);
        return;
    }
    std::sort(children.begin(), children.end());
    for (const auto& name : children) {
        // O_NOFOLLOW: a directory swapped for a link after the fstatat is not entered either.
        const int child_fd = ::openat(::dirfd(listing), name.c_str(),
                                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child_fd >= 0)
            search(child_fd, path + "/" + name, depth_left - 1, found);
    }
    ::closedir(listing);
}

} // namespace

std::vector<std::string> find_bare_repositories(const std::string& root, int max_depth) {
    const int root_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
        throw input_error(root + " is not a directory");
    auto base = root;
    while (base.size() > 1 && base.back() == '/')
        base.pop_back();
    std::vector<std::string> found;
    search(root_fd, base, max_depth, found);
    return found;
}

} // namespace trunkgate
