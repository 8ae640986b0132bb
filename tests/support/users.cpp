#include "support/users.hpp"

#include <pwd.h>
#include <stdexcept>
#include <sys/stat.h>

namespace trunkgate::testing {

std::string ensure_user(const std::string& name) {
    if (::getpwnam(name.c_str()))
        return name;
    const auto made =
        run({"useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name});
    if (made.status != 0 || !::getpwnam(name.c_str()))
        throw std::runtime_error("cannot create the user " + name +
                                 " (run the tests as root): " + made.all());
    return name;
}

void chown_tree(const std::string& path, const std::string& user) {
    // "USER:" is the user and its login group.
    const auto changed = run({"chown", "-R", user + ":", path});
    if (changed.status != 0)
        throw std::runtime_error("chown -R " + user + ": " + path + " failed: " + changed.all());
}

void open_up(const std::string& dir) {
    if (::chmod(dir.c_str(), 0755) != 0)
        throw std::runtime_error("cannot chmod " + dir);
}

run_result run_as(const std::string& user, const std::vector<std::string>& argv,
                  const std::string& cwd, const std::map<std::string, std::string>& env,
                  const std::string& input) {
    const passwd* entry = ::getpwnam(user.c_str());
    if (!entry)
        throw std::runtime_error("no user " + user);
    std::vector<std::string> full{"setpriv",
                                  "--reuid=" + std::to_string(entry->pw_uid),
                                  "--regid=" + std::to_string(entry->pw_gid),
                                  "--init-groups",
                                  "--",
                                  "env",
                                  "HOME=" + std::string(entry->pw_dir),
                                  "USER=" + user,
                                  "LOGNAME=" + user};
    full.insert(full.end(), argv.begin(), argv.end());
    return run(full, cwd, env, input);
}

std::string not_owned_by(const std::string& path, const std::string& user) {
    return run({"find", path, "!", "-user", user}).out;
}

} // namespace trunkgate::testing
