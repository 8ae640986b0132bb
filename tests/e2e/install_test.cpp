// End-to-end: `trunkgate install`: chaining a pre-existing hook, idempotence, refusals.
#include <catch2/catch.hpp>

#include <algorithm>
#include <dirent.h>
#include <map>
#include <sstream>
#include <sys/stat.h>

#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using Catch::Contains;
using Catch::EndsWith;

namespace {

bool exists(const std::string& path) {
    struct stat info {};
    return ::lstat(path.c_str(), &info) == 0;
}

struct file_identity {
    ino_t inode = 0;
    std::string content;
    bool operator==(const file_identity& other) const {
        return inode == other.inode && content == other.content;
    }
};

file_identity identify(const std::string& path) {
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    return {info.st_ino, read_file(path)};
}

// Every file of `dir` by name, with its inode and content: a rewrite shows as a new inode.
std::map<std::string, file_identity> snapshot(const std::string& dir) {
    std::map<std::string, file_identity> files;
    DIR* listing = ::opendir(dir.c_str());
    REQUIRE(listing != nullptr);
    while (const dirent* entry = ::readdir(listing)) {
        const std::string name = entry->d_name;
        if (name != "." && name != "..")
            files.emplace(name, identify(dir + "/" + name));
    }
    ::closedir(listing);
    return files;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

// A pre-receive hook that is not trunkgate's: it records its stdin, says it ran, and rejects
// the push when `<dir>/chained-reject` exists.
std::string write_foreign_hook(const git_sandbox& sandbox) {
    const auto hook = sandbox.server() + "/hooks/pre-receive";
    write_file(hook, "#!/bin/sh\n"
                     "cat > '" +
                         sandbox.dir() +
                         "/chained-stdin'\n"
                         "echo 'chained hook ran'\n"
                         "if [ -e '" +
                         sandbox.dir() +
                         "/chained-reject' ]; then\n"
                         "    echo 'chained hook says no' >&2\n"
                         "    exit 1\n"
                         "fi\n");
    REQUIRE(::chmod(hook.c_str(), 0755) == 0);
    return read_file(hook);
}

} // namespace

TEST_CASE("install: an existing pre-receive hook is kept as pre-receive.chained and still runs",
          "[e2e][install][chain]") {
    git_sandbox sandbox;
    const auto hooks = sandbox.server() + "/hooks/";
    const auto foreign = write_foreign_hook(sandbox);

    const auto installed = sandbox.trunkgate({"install", sandbox.server()});
    REQUIRE(installed.status == 0);
    CHECK_THAT(installed.out,
               Contains(sandbox.server() + ": pre-receive: installed; the existing hook is kept as "
                                           "pre-receive.chained and runs after trunkgate"));
    CHECK(read_file(hooks + "pre-receive.chained") == foreign);
    CHECK_THAT(read_file(hooks + "pre-receive"), Contains("trunkgate-managed"));
    const auto recorded = sandbox.dir() + "/chained-stdin";

    SECTION("trunkgate accepts: the chained hook gets the same update lines") {
        const auto main_tip = sandbox.commit("feat: first");
        REQUIRE(sandbox.git({"branch", "feature/chain"}).status == 0);
        const auto pushed = sandbox.push({"origin", "main", "feature/chain"});

        CHECK(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/main") == main_tip);
        CHECK(sandbox.server_rev("refs/heads/feature/chain") == main_tip);
        CHECK_THAT(pushed.err, Contains("remote: chained hook ran"));
        const auto lines = read_file(recorded);
        CHECK_THAT(lines, Contains(zero_id + " " + main_tip + " refs/heads/main\n"));
        CHECK_THAT(lines, Contains(zero_id + " " + main_tip + " refs/heads/feature/chain\n"));
        CHECK(lines.size() == 2 * (40 + 1 + 40 + 1) + std::string("refs/heads/main\n").size() +
                                  std::string("refs/heads/feature/chain\n").size());
    }
    SECTION("the chained hook rejects: the push is rejected") {
        write_file(sandbox.dir() + "/chained-reject", "");
        const auto tip = sandbox.commit("feat: first");
        const auto pushed = sandbox.push({"origin", "main"});

        CHECK(pushed.status != 0);
        CHECK(sandbox.server_rev("refs/heads/main").empty());
        CHECK_THAT(pushed.err, Contains("remote: chained hook says no"));
        CHECK_THAT(pushed.err, Contains("main -> main (pre-receive hook declined)"));
        CHECK(read_file(recorded) == zero_id + " " + tip + " refs/heads/main\n");
    }
    SECTION("trunkgate rejects: the chained hook does not run") {
        sandbox.commit("feat: first");
        const auto pushed = sandbox.push({"origin", "HEAD:refs/heads/scratch"});

        CHECK(pushed.status != 0);
        CHECK_THAT(pushed.err, Contains("refs/heads/scratch  [branch-name]"));
        CHECK_THAT(pushed.err, !Contains("chained hook ran"));
        CHECK_FALSE(exists(recorded));
    }
}

TEST_CASE("install: a second install reports unchanged and changes nothing",
          "[e2e][install][idempotent]") {
    git_sandbox sandbox;
    const auto hooks = sandbox.server() + "/hooks";
    write_foreign_hook(sandbox);
    REQUIRE(sandbox.trunkgate({"install", sandbox.server()}).status == 0);
    const auto hooks_before = snapshot(hooks);
    const auto policy = identify(sandbox.server() + "/trunkgate.toml");
    const auto config = read_file(sandbox.server() + "/config");

    const auto again = sandbox.trunkgate({"install", sandbox.server()});

    CHECK(again.status == 0);
    const auto reported = lines_of(again.out);
    for (const auto* item : {"trunkgate.toml", "pre-receive", "receive.advertisePushOptions"})
        CHECK(std::count(reported.begin(), reported.end(),
                         sandbox.server() + ": " + item + ": unchanged") == 1);
    for (const auto& report : reported)
        CHECK_THAT(report, EndsWith(": unchanged"));
    CHECK(snapshot(hooks) == hooks_before);
    CHECK(hooks_before.count("pre-receive.chained") == 1);
    CHECK(hooks_before.count("pre-receive.chained.chained") == 0);
    CHECK(identify(sandbox.server() + "/trunkgate.toml") == policy);
    CHECK(read_file(sandbox.server() + "/config") == config);
}

TEST_CASE("install: refuses a non-repository and a work tree without --force",
          "[e2e][install][usage]") {
    git_sandbox sandbox;

    SECTION("a plain directory: exit 2, nothing written") {
        const auto plain = sandbox.dir() + "/not-a-repo";
        write_file(plain + "/README", "just files\n");
        const auto installed = sandbox.trunkgate({"install", plain});

        CHECK(installed.status == 2);
        CHECK(installed.err == "trunkgate: " + plain + " is not a git repository\n");
        CHECK_FALSE(exists(plain + "/trunkgate.toml"));
        CHECK_FALSE(exists(plain + "/hooks"));
    }
    SECTION("a path that does not exist: exit 2") {
        const auto missing = sandbox.dir() + "/nowhere";
        const auto installed = sandbox.trunkgate({"install", missing});

        CHECK(installed.status == 2);
        CHECK_THAT(installed.err, Contains(missing + " is not a git repository"));
    }
    SECTION("a repository with a work tree: exit 2 without --force, installed with it") {
        const auto git_dir = sandbox.clone() + "/.git/";
        const auto refused = sandbox.trunkgate({"install", sandbox.clone()});

        CHECK(refused.status == 2);
        CHECK_THAT(refused.err, Contains("trunkgate: " + sandbox.clone() +
                                         " has a work tree; trunkgate gates the bare repository "
                                         "that people push to (use --force to install anyway)"));
        CHECK_FALSE(exists(git_dir + "trunkgate.toml"));
        CHECK_FALSE(exists(git_dir + "hooks/pre-receive"));

        const auto forced = sandbox.trunkgate({"install", "--force", sandbox.clone()});
        CHECK(forced.status == 0);
        CHECK(exists(git_dir + "trunkgate.toml"));
        CHECK_THAT(read_file(git_dir + "hooks/pre-receive"), Contains("trunkgate-managed"));
    }
    SECTION("a policy that does not load: exit 3, nothing installed") {
        const auto policy = sandbox.dir() + "/bad.toml";
        write_file(policy, "[branches]\nmax_behind = -1\n");
        const auto installed = sandbox.trunkgate({"install", "--policy", policy, sandbox.server()});

        CHECK(installed.status == 3);
        CHECK_THAT(
            installed.err,
            Contains(policy + ":2:14: 'branches.max_behind' must be a non-negative integer"));
        CHECK_FALSE(exists(sandbox.server() + "/trunkgate.toml"));
        CHECK_FALSE(exists(sandbox.server() + "/hooks/pre-receive"));
    }
}
