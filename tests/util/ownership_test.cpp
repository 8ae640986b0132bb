// Acting as a repository's owner: becoming a user is for good (as runuser(1) does it), a child
// acting as another user reports back what it did, and a repository is found by whom it
// belongs to before anything opens it; one libgit2 will not open is named with libgit2's reason.
#include <catch2/catch.hpp>

#include <filesystem>
#include <grp.h>
#include <pwd.h>
#include <sstream>
#include <unistd.h>

#include "support/sandbox.hpp"
#include "support/users.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/ownership.hpp"

using namespace trunkgate;
using Catch::Contains;

namespace {

system_user user_called(const std::string& name) {
    const passwd* entry = ::getpwnam(testing::ensure_user(name).c_str());
    REQUIRE(entry != nullptr);
    const auto user = find_user(entry->pw_uid);
    REQUIRE(user.has_value());
    return *user;
}

void require_root() {
    if (::geteuid() != 0)
        FAIL("this test changes user in a child process: run it as root (CI does)");
}

} // namespace

TEST_CASE("ownership: a child becomes the user for good, as runuser does", "[ownership]") {
    require_root();
    const auto nobody = user_called("nobody");
    ::setenv("XDG_CONFIG_HOME", "/root/.config", 1);
    const auto ran = run_as_user(
        nobody,
        [&](std::ostream& out, std::ostream&) {
            uid_t ruid, euid, suid;
            gid_t rgid, egid, sgid;
            ::getresuid(&ruid, &euid, &suid);
            ::getresgid(&rgid, &egid, &sgid);
            out << "uid " << ruid << " " << euid << " " << suid << "\n";
            out << "gid " << rgid << " " << egid << " " << sgid << "\n";
            gid_t groups[64];
            const int count = ::getgroups(64, groups);
            bool root_group = false;
            for (int i = 0; i < count; ++i)
                root_group = root_group || groups[i] == 0;
            out << "root group " << root_group << "\n";
            out << "setuid(0) " << ::setuid(0) << " seteuid(0) " << ::seteuid(0) << "\n";
            out << "HOME " << ::getenv("HOME") << " USER " << ::getenv("USER") << " LOGNAME "
                << ::getenv("LOGNAME") << " XDG " << (::getenv("XDG_CONFIG_HOME") ? "set" : "unset")
                << "\n";
            return 7;
        },
        3);
    ::unsetenv("XDG_CONFIG_HOME");
    INFO(ran.out << ran.err);
    CHECK(ran.status == 7);
    const auto uid = std::to_string(nobody.uid);
    const auto gid = std::to_string(nobody.gid);
    CHECK(ran.out == "uid " + uid + " " + uid + " " + uid + "\ngid " + gid + " " + gid + " " + gid +
                         "\nroot group 0\nsetuid(0) -1 seteuid(0) -1\nHOME " + nobody.home +
                         " USER nobody LOGNAME nobody XDG unset\n");
    CHECK(ran.err.empty());
    CHECK(::geteuid() == 0); // only the child changed
}

TEST_CASE("ownership: what a child acting as a user says comes back whole", "[ownership]") {
    require_root();
    const auto nobody = user_called("nobody");
    SECTION("more than a pipe holds, on both streams") {
        const std::string big(300000, 'x');
        const auto ran = run_as_user(
            nobody,
            [&](std::ostream& out, std::ostream& err) {
                out << big << "out";
                err << big << "err";
                return 0;
            },
            3);
        CHECK(ran.status == 0);
        CHECK(ran.out == big + "out");
        CHECK(ran.err == big + "err");
    }
    SECTION("a failure is its message and the failure status") {
        const auto ran = run_as_user(
            nobody,
            [](std::ostream& out, std::ostream&) -> int {
                out << "started\n";
                throw internal_error("cannot write /srv/x: No space left on device");
            },
            3);
        CHECK(ran.status == 3);
        CHECK(ran.out == "started\n");
        CHECK(ran.err == "trunkgate: error: cannot write /srv/x: No space left on device\n");
    }
}

TEST_CASE("git: a repository is found without opening it, and named when it cannot be opened",
          "[ownership]") {
    libgit2_guard libgit2;
    testing::git_sandbox sandbox;
    const auto clone_git = std::filesystem::canonical(sandbox.clone()).string() + "/.git/";
    const auto server = std::filesystem::canonical(sandbox.server()).string() + "/";
    std::filesystem::create_directory(sandbox.clone() + "/sub");

    SECTION("exactly here, or searched upwards") {
        CHECK(discover_git_dir(sandbox.server(), false) == server);
        CHECK(discover_git_dir(sandbox.clone(), false) == clone_git);
        CHECK(discover_git_dir(sandbox.clone() + "/.git", false) == clone_git);
        CHECK_FALSE(discover_git_dir(sandbox.clone() + "/sub", false).has_value());
        CHECK(discover_git_dir(sandbox.clone() + "/sub", true) == clone_git);
        CHECK_FALSE(discover_git_dir(sandbox.dir() + "/nothing", true).has_value());
        CHECK_THROWS_WITH(open_repository_at(sandbox.clone() + "/sub", false),
                          sandbox.clone() + "/sub is not a git repository");
        CHECK_THROWS_WITH(open_repository_at(sandbox.dir(), true),
                          sandbox.dir() + " is not in a git repository");
    }
    SECTION("a damaged config: libgit2's message") {
        testing::write_file(sandbox.server() + "/config", "[core\n");
        CHECK_THROWS_AS(open_repository_at(sandbox.server(), false), libgit2_error);
        CHECK_THROWS_WITH(open_repository_at(sandbox.server(), false),
                          "cannot open the repository " + server +
                              ": failed to parse config file: missing ']' in section header (in " +
                              server + "config:1)");
    }
    SECTION("another user's repository: found, and its owner named when libgit2 refuses") {
        require_root();
        const auto owner = user_called("nobody");
        testing::chown_tree(sandbox.server(), owner.name);
        CHECK(discover_git_dir(sandbox.server(), false) == server);
        CHECK(owner_of(server) == owner.uid);
        CHECK_THROWS_WITH(open_repository_at(sandbox.server(), false),
                          Contains("the repository belongs to nobody, not to root"));
    }
}
