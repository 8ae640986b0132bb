#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include "support/sandbox.hpp"
#include "trunkgate/admin/fleet.hpp"
#include "trunkgate/util/error.hpp"

using namespace trunkgate;

namespace {

// The three things that make a directory a repository, nothing more.
std::string fake_repository(const std::string& path) {
    testing::write_file(path + "/HEAD", "ref: refs/heads/main\n");
    testing::write_file(path + "/objects/info/packs", "");
    testing::write_file(path + "/refs/heads/.keep", "");
    return path;
}

} // namespace

TEST_CASE("fleet: the bare repositories under a directory", "[fleet]") {
    testing::temp_dir dir;
    const auto root = dir / "srv";
    const auto first = fake_repository(root + "/a.git");
    const auto nested = fake_repository(root + "/team/deep/b.git");
    fake_repository(root + "/a.git/modules/inner.git"); // inside a repository: not searched
    fake_repository(dir / "outside.git");
    REQUIRE(::symlink((dir / "outside.git").c_str(), (root + "/link.git").c_str()) == 0);
    REQUIRE(::symlink(dir.path().c_str(), (root + "/team/up").c_str()) == 0);
    testing::write_file(root + "/work/.git/HEAD", "ref: refs/heads/main\n");
    fake_repository(root + "/work/vendor/lib.git"); // inside a work tree: not searched
    testing::write_file(root + "/notes/README", "");

    SECTION("found in sorted order; links, work trees and repositories' insides "
            "are not entered") {
        CHECK(find_bare_repositories(root) == std::vector<std::string>{first, nested});
        CHECK(find_bare_repositories(root + "/") == std::vector<std::string>{first, nested});
    }
    SECTION("the directory itself may be the repository") {
        CHECK(find_bare_repositories(first) == std::vector<std::string>{first});
    }
    SECTION("max_depth counts the levels below the directory") {
        CHECK(find_bare_repositories(root, 1) == std::vector<std::string>{first});
        CHECK(find_bare_repositories(root, 3) == std::vector<std::string>{first, nested});
    }
    SECTION("deliver and doctor also serve a work tree's .git, and still not what is inside") {
        // A .git with only HEAD (a half-made clone) is nothing to serve.
        CHECK(find_repositories_under(root) == std::vector<std::string>{first, nested});
        const auto work_git = fake_repository(root + "/work/.git");
        CHECK(find_repositories_under(root) ==
              std::vector<std::string>{first, nested, root + "/work/.git"});
        CHECK(find_repositories_under(root, 8, false) == std::vector<std::string>{first, nested});
        CHECK(find_repositories_under(work_git) == std::vector<std::string>{work_git});
    }
    SECTION("not a directory: input_error") {
        CHECK_THROWS_AS(find_repositories_under(root + "/nothing"), input_error);
        CHECK_THROWS_AS(find_bare_repositories(root + "/nothing"), input_error);
        CHECK_THROWS_AS(find_bare_repositories(root + "/notes/README"), input_error);
    }
}
