#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include "support/sandbox.hpp"
#include "trunkgate/hook/hook_chain.hpp"
#include "trunkgate/util/error.hpp"

using namespace trunkgate;

namespace {

std::string executable(const std::string& path) {
    testing::write_file(path, "#!/bin/sh\n");
    REQUIRE(::chmod(path.c_str(), 0755) == 0);
    return path;
}

} // namespace

TEST_CASE("hook chain: the wrapper's arguments", "[hook_chain]") {
    SECTION("none, either, both, in any order") {
        CHECK_FALSE(parse_hook_arguments({}).chained_hook);
        CHECK_FALSE(parse_hook_arguments({}).repository_hook);
        const auto both = parse_hook_arguments({"--chain-repository", "--chain", "/h/x.chained"});
        CHECK(both.chained_hook == std::optional<std::string>("/h/x.chained"));
        CHECK(both.repository_hook);
        CHECK(parse_hook_arguments({"--chain", "/h/x.chained"}).chained_hook ==
              std::optional<std::string>("/h/x.chained"));
    }
    SECTION("anything else is a usage error") {
        for (const auto& args :
             std::vector<std::vector<std::string>>{{"--chain"},
                                                   {"--chain", "a", "--chain", "b"},
                                                   {"--chain-repository", "--chain-repository"},
                                                   {"extra"},
                                                   {"--chain-repository=yes"}})
            CHECK_THROWS_AS(parse_hook_arguments(args), input_error);
    }
}

TEST_CASE("hook chain: which chained hooks run, in order, each file once", "[hook_chain]") {
    testing::temp_dir dir;
    const auto git_dir = dir / "repo.git/";
    const auto shared = executable(dir / "shared/pre-receive.chained");
    const auto own = executable(git_dir + "hooks/pre-receive.chained");

    SECTION("--chain's hook, then the repository's") {
        CHECK(chained_hooks({shared, true}, git_dir, "pre-receive") ==
              std::vector<std::string>{shared, own});
        CHECK(chained_hooks({shared, false}, git_dir, "pre-receive") ==
              std::vector<std::string>{shared});
        CHECK(chained_hooks({std::nullopt, true}, git_dir, "pre-receive") ==
              std::vector<std::string>{own});
        CHECK(chained_hooks({std::nullopt, true}, git_dir, "post-receive").empty());
        CHECK(chained_hooks({std::nullopt, true}, "", "pre-receive").empty());
    }
    SECTION("the same file twice (its own hooks directory, a gitolite link) runs once") {
        CHECK(chained_hooks({own, true}, git_dir, "pre-receive") == std::vector<std::string>{own});
        REQUIRE(::unlink(own.c_str()) == 0);
        REQUIRE(::symlink(shared.c_str(), own.c_str()) == 0);
        CHECK(chained_hooks({shared, true}, git_dir, "pre-receive") ==
              std::vector<std::string>{shared});
    }
    SECTION("missing, not executable, or not a regular file: skipped, as git skips them") {
        REQUIRE(::chmod(own.c_str(), 0644) == 0);
        CHECK(chained_hooks({dir / "absent", true}, git_dir, "pre-receive").empty());
        CHECK(chained_hooks({dir.path(), true}, git_dir, "pre-receive").empty());
    }
}
