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

bool is_git_dir(int dir_fd) {
    return has_entry(dir_fd, "HEAD", false) && has_entry(dir_fd, "objects", true) &&
           has_entry(dir_fd, "refs", true);
}

// Whether `name` in `dir_fd` is a git directory (a work tree's .git), not following links.
bool is_git_dir_at(int dir_fd, const char* name) {
    const int fd = ::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool git_dir = is_git_dir(fd);
    ::close(fd);
    return git_dir;
}

// `dir_fd` is open on `path`; it is closed here. `work_trees`: a work tree's .git is found too.
void search(int dir_fd, const std::string& path, int depth_left, bool work_trees,
            std::vector<std::string>& found) {
    if (is_git_dir(dir_fd)) {
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
            if (work_trees && is_git_dir_at(::dirfd(listing), ".git"))
                found.push_back(path + "/.git");
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
            search(child_fd, path + "/" + name, depth_left - 1, work_trees, found);
    }
    ::closedir(listing);
}

} // namespace

std::vector<std::string> find_repositories_under(const std::string& root, int max_depth,
                                                 bool work_trees) {
    const int root_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
        throw input_error(root + " is not a directory");
    auto base = root;
    while (base.size() > 1 && base.back() == '/')
        base.pop_back();
    std::vector<std::string> found;
    search(root_fd, base, max_depth, work_trees, found);
    return found;
}

std::vector<std::string> find_bare_repositories(const std::string& root, int max_depth) {
    return find_repositories_under(root, max_depth, false);
}

} // namespace trunkgate
