// End-to-end: trunkgate on many repositories at once: one hooks directory shared through
// core.hooksPath, `install --all-under`, `uninstall` restoring the hooks that were there before,
// and wrappers written by an earlier install.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using Catch::Contains;

namespace {

bool exists(const std::string& path) {
    struct stat info {};
    return ::lstat(path.c_str(), &info) == 0;
}

// A file as uninstall must give it back: the same inode (renamed, not rewritten), mode and bytes.
struct file_state {
    ino_t inode = 0;
    mode_t mode = 0;
    std::string content;
    bool operator==(const file_state& other) const {
        return inode == other.inode && mode == other.mode && content == other.content;
    }
};

file_state state_of(const std::string& path) {
    struct stat info {};
    REQUIRE(::lstat(path.c_str(), &info) == 0);
    return {info.st_ino, static_cast<mode_t>(info.st_mode & 07777), read_file(path)};
}

std::string make_bare(const git_sandbox& sandbox, const std::string& path) {
    const auto made = sandbox.git_in(sandbox.dir(), {"init", "-q", "--bare", "-b", "main", path});
    REQUIRE(made.status == 0);
    return path;
}

// A hook that says it ran, naming `who`, and accepts.
void write_saying_hook(const std::string& path, const std::string& who, mode_t mode = 0755) {
    write_file(path, "#!/bin/sh\necho \"" + who + " ran\"\n");
    REQUIRE(::chmod(path.c_str(), mode) == 0);
}

std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t count = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
        ++count;
    return count;
}

} // namespace

TEST_CASE("fleet: one hooks directory shared through core.hooksPath gates every repository",
          "[e2e][fleet][shared]") {
    git_sandbox sandbox;
    const auto shared = sandbox.dir() + "/shared-hooks";
    // A hook every repository ran before trunkgate came, and one repository's own chained hook.
    write_saying_hook(shared + "/pre-receive", "the shared pre-receive");
    write_saying_hook(shared + "/post-receive", "the shared post-receive");

    const auto installed = sandbox.trunkgate({"install", "--hooks-dir", shared});
    REQUIRE(installed.status == 0);
    CHECK(installed.out == shared +
                               ": pre-receive: installed; the existing hook is kept as "
                               "pre-receive.chained and runs after trunkgate\n" +
                               shared +
                               ": post-receive: installed; the existing hook is kept as "
                               "post-receive.chained and runs after trunkgate\n" +
                               shared + ": proc-receive: installed\n");
    CHECK(read_file(shared + "/pre-receive.chained") ==
          "#!/bin/sh\necho \"the shared pre-receive ran\"\n");
    const auto again = sandbox.trunkgate({"install", "--hooks-dir", shared});
    CHECK(again.out == shared + ": pre-receive: unchanged\n" + shared +
                           ": post-receive: unchanged\n" + shared + ": proc-receive: unchanged\n");

    // Two repositories, neither installed into: only core.hooksPath and a policy each.
    const auto first = sandbox.server();
    const auto second = make_bare(sandbox, sandbox.dir() + "/second.git");
    for (const auto& repo : {first, second})
        REQUIRE(sandbox.git_in(repo, {"config", "core.hooksPath", shared}).status == 0);
    write_file(first + "/trunkgate.toml",
               read_file(source_path("templates/policy/trunk-based.toml")));
    write_file(sandbox.dir() + "/second.toml",
               "[branches]\nname_pattern = '^refs/heads/(main|feature/.+)$'\n");
    REQUIRE(sandbox.git_in(second, {"config", "trunkgate.policy", sandbox.dir() + "/second.toml"})
                .status == 0);
    write_saying_hook(second + "/hooks/pre-receive.chained", "the second repository's pre-receive");
    CHECK_FALSE(exists(first + "/hooks/pre-receive"));
    CHECK_FALSE(exists(second + "/hooks/pre-receive"));

    sandbox.commit("feat: first");
    const auto first_main = sandbox.push({"origin", "main"});
    const auto second_main = sandbox.push({second, "main"});
    INFO(first_main.err << second_main.err);
    REQUIRE(first_main.status == 0);
    REQUIRE(second_main.status == 0);

    SECTION("a push refused by the policy, in each repository") {
        const auto refused_first = sandbox.push({"origin", "HEAD:refs/heads/scratch"});
        const auto refused_second = sandbox.push({second, "HEAD:refs/heads/scratch"});

        CHECK(refused_first.status != 0);
        CHECK(refused_second.status != 0);
        CHECK_THAT(remote_text(refused_first),
                   Contains("trunkgate: push rejected: 1 problem (policy trunkgate.toml)\n"
                            "  refs/heads/scratch  [branch-name] branch name does not match"));
        CHECK_THAT(remote_text(refused_second),
                   Contains("trunkgate: push rejected: 1 problem (policy " + sandbox.dir() +
                            "/second.toml)\n"
                            "  refs/heads/scratch  [branch-name] branch name does not match "
                            "^refs/heads/(main|feature/.+)$"));
        for (const auto* refused : {&refused_first, &refused_second}) {
            CHECK_THAT(refused->err, Contains(" ! [remote rejected] HEAD -> scratch (pre-receive "
                                              "hook declined)"));
            CHECK_THAT(refused->err, !Contains("pre-receive ran"));
        }
        CHECK(sandbox.server_rev("refs/heads/scratch").empty());
        CHECK(
            sandbox.git_in(second, {"rev-parse", "-q", "--verify", "refs/heads/scratch"}).status !=
            0);
    }
    SECTION("an accepted push runs the shared chained hooks once, and the repository's own") {
        for (const auto* pushed : {&first_main, &second_main}) {
            CHECK(count_of(pushed->err, "remote: the shared pre-receive ran") == 1);
            CHECK(count_of(pushed->err, "remote: the shared post-receive ran") == 1);
        }
        CHECK_THAT(first_main.err, !Contains("the second repository's pre-receive ran"));
        CHECK(count_of(second_main.err, "remote: the second repository's pre-receive ran") == 1);
    }
    SECTION("the repository's own chained hook can refuse, in that repository only") {
        write_file(second + "/hooks/pre-receive.chained",
                   "#!/bin/sh\necho 'second says no' >&2\nexit 1\n");
        const auto refused = sandbox.push({second, "HEAD:refs/heads/feature/a"});
        const auto accepted = sandbox.push({"origin", "HEAD:refs/heads/feature/a"});

        CHECK(refused.status != 0);
        CHECK_THAT(refused.err, Contains("remote: second says no"));
        CHECK(accepted.status == 0);
    }
    SECTION("uninstall of one repository is refused: the directory serves the other too") {
        const auto refused = sandbox.trunkgate({"uninstall", second});

        CHECK(refused.status == 2);
        CHECK(refused.err == "trunkgate: " + second + " runs the hooks in " + shared +
                                 " (core.hooksPath), which other repositories may share; run "
                                 "`trunkgate uninstall --hooks-dir " +
                                 shared +
                                 "` to take trunkgate out of it for every repository that uses "
                                 "it, or unset core.hooksPath for this one\n");
        CHECK(exists(shared + "/pre-receive"));

        const auto removed = sandbox.trunkgate({"uninstall", "--hooks-dir", shared});
        CHECK(removed.status == 0);
        CHECK(removed.out == shared +
                                 ": pre-receive: removed; pre-receive.chained is pre-receive "
                                 "again\n" +
                                 shared +
                                 ": post-receive: removed; post-receive.chained is post-receive "
                                 "again\n" +
                                 shared + ": proc-receive: removed\n");
        const auto ungated = sandbox.push({"origin", "HEAD:refs/heads/scratch"});
        CHECK(ungated.status == 0);
        CHECK(remote_text(ungated) == "the shared pre-receive ran\nthe shared post-receive ran\n");
    }
}

TEST_CASE("fleet: uninstall puts back the hooks install found, byte for byte and mode for mode",
          "[e2e][fleet][uninstall]") {
    git_sandbox sandbox;
    const auto hooks = sandbox.server() + "/hooks/";
    // Unusual bytes and modes on purpose: no trailing newline, a NUL, CRLF, 0750 and 0700.
    write_file(hooks + "pre-receive",
               std::string("#!/bin/sh\necho 'custom pre-receive ran'\r\n#\0x", 44));
    REQUIRE(::chmod((hooks + "pre-receive").c_str(), 0750) == 0);
    write_file(hooks + "post-receive", "#!/bin/sh\necho 'custom post-receive ran'");
    REQUIRE(::chmod((hooks + "post-receive").c_str(), 0700) == 0);
    REQUIRE(run({"cp", "-p", hooks + "pre-receive", sandbox.dir() + "/pre-receive.orig"}).status ==
            0);
    REQUIRE(
        run({"cp", "-p", hooks + "post-receive", sandbox.dir() + "/post-receive.orig"}).status ==
        0);
    const auto pre_before = state_of(hooks + "pre-receive");
    const auto post_before = state_of(hooks + "post-receive");

    REQUIRE(sandbox.trunkgate({"install", sandbox.server()}).status == 0);
    sandbox.commit("feat: first");
    const auto pushed = sandbox.push({"origin", "main"});
    INFO(pushed.err);
    REQUIRE(pushed.status == 0);
    CHECK_THAT(pushed.err, Contains("remote: custom pre-receive ran"));
    CHECK_THAT(pushed.err, Contains("remote: custom post-receive ran"));

    const auto removed = sandbox.trunkgate({"uninstall", sandbox.server()});

    CHECK(removed.status == 0);
    CHECK(removed.out ==
          sandbox.server() + ": pre-receive: removed; pre-receive.chained is pre-receive again\n" +
              sandbox.server() +
              ": post-receive: removed; post-receive.chained is post-receive again\n" +
              sandbox.server() + ": proc-receive: removed\n" + sandbox.server() +
              ": receive.procReceiveRefs: refs/for removed\n");
    for (const auto* name : {"pre-receive", "post-receive"}) {
        INFO(name);
        CHECK(run({"cmp", sandbox.dir() + "/" + name + ".orig", hooks + name}).status == 0);
        CHECK_FALSE(exists(hooks + name + ".chained"));
    }
    CHECK(state_of(hooks + "pre-receive") == pre_before);
    CHECK(state_of(hooks + "post-receive") == post_before);
    // What trunkgate keeps: the policy, the audit log.
    CHECK(exists(sandbox.server() + "/trunkgate.toml"));
    CHECK(exists(sandbox.server() + "/trunkgate/audit.log"));

    SECTION("a second uninstall changes nothing and leaves the foreign hooks alone") {
        const auto again = sandbox.trunkgate({"uninstall", sandbox.server()});

        CHECK(again.status == 0);
        CHECK(again.out == sandbox.server() + ": pre-receive: not trunkgate's, left alone\n" +
                               sandbox.server() + ": post-receive: not trunkgate's, left alone\n" +
                               sandbox.server() + ": proc-receive: not installed\n" +
                               sandbox.server() + ": receive.procReceiveRefs: refs/for not set\n");
        CHECK(state_of(hooks + "pre-receive") == pre_before);
        CHECK(state_of(hooks + "post-receive") == post_before);
    }
    SECTION("the next push runs the restored hooks and no trunkgate") {
        const auto after = sandbox.push({"origin", "HEAD:refs/heads/scratch"});

        CHECK(after.status == 0);
        CHECK_THAT(after.err, Contains("remote: custom post-receive ran"));
        CHECK_THAT(after.err, !Contains("remote: trunkgate"));
    }
    SECTION("a hook trunkgate never chained: removed, nothing put back") {
        git_sandbox plain;
        plain.install();
        const auto plain_removed = plain.trunkgate({"uninstall", plain.server()});

        CHECK(plain_removed.status == 0);
        CHECK(plain_removed.out == plain.server() + ": pre-receive: removed\n" + plain.server() +
                                       ": post-receive: removed\n" + plain.server() +
                                       ": proc-receive: removed\n" + plain.server() +
                                       ": receive.procReceiveRefs: refs/for removed\n");
        CHECK_FALSE(exists(plain.server() + "/hooks/pre-receive"));
        CHECK_FALSE(exists(plain.server() + "/hooks/post-receive"));
    }
    SECTION("not a repository: exit 2") {
        const auto refused = sandbox.trunkgate({"uninstall", sandbox.dir() + "/nowhere"});

        CHECK(refused.status == 2);
        CHECK(refused.err == "trunkgate: " + sandbox.dir() + "/nowhere is not a git repository\n");
    }
}

TEST_CASE("fleet: --all-under installs into every bare repository below DIR and never follows a "
          "symbolic link out of it",
          "[e2e][fleet][all-under]") {
    git_sandbox sandbox;
    const auto fleet = sandbox.dir() + "/srv";
    const auto first = make_bare(sandbox, fleet + "/a.git");
    const auto nested = make_bare(sandbox, fleet + "/team/nested.git");
    const auto outside = make_bare(sandbox, sandbox.dir() + "/outside.git");
    REQUIRE(::symlink(outside.c_str(), (fleet + "/linked.git").c_str()) == 0);
    REQUIRE(::symlink(sandbox.dir().c_str(), (fleet + "/team/up").c_str()) == 0);
    write_file(fleet + "/notes/README", "not a repository\n");
    REQUIRE(sandbox.git_in(sandbox.dir(), {"clone", "-q", first, fleet + "/work"}).status == 0);
    const auto hooks_of = [](const std::string& repo) { return repo + "/hooks/pre-receive"; };

    const auto installed = sandbox.trunkgate({"install", "--all-under", fleet});

    CHECK(installed.status == 0);
    CHECK(installed.err.empty());
    for (const auto& repo : {first, nested})
        for (const auto* step : {"trunkgate.toml: installed from", "pre-receive: installed\n",
                                 "post-receive: installed\n", "proc-receive: installed\n",
                                 "receive.advertisePushOptions: set to true\n",
                                 "receive.procReceiveRefs: refs/for added"})
            CHECK_THAT(installed.out, Contains(repo + ": " + step));
    CHECK(count_of(installed.out, "\n") == 12);
    CHECK_THAT(read_file(hooks_of(first)), Contains("trunkgate-managed"));
    CHECK_THAT(read_file(hooks_of(nested)), Contains("trunkgate-managed"));
    CHECK_FALSE(exists(hooks_of(outside)));
    CHECK_FALSE(exists(outside + "/trunkgate.toml"));
    CHECK_FALSE(exists(fleet + "/work/.git/hooks/pre-receive"));
    CHECK_FALSE(exists(fleet + "/notes/hooks"));
    CHECK_FALSE(exists(sandbox.server() + "/hooks/pre-receive")); // reachable through team/up

    // The hooks it wrote gate a push.
    sandbox.commit("feat: first");
    const auto refused = sandbox.push({nested, "HEAD:refs/heads/scratch"});
    CHECK(refused.status != 0);
    CHECK_THAT(remote_text(refused), Contains("refs/heads/scratch  [branch-name]"));

    SECTION("a repository that fails does not stop the others; the exit status says so") {
        const auto broken = make_bare(sandbox, fleet + "/b.git");
        write_saying_hook(broken + "/hooks/pre-receive", "a pre-receive of b");
        write_saying_hook(broken + "/hooks/pre-receive.chained", "an older pre-receive of b");
        const auto late = make_bare(sandbox, fleet + "/c.git");

        const auto again = sandbox.trunkgate({"install", "--all-under", fleet});

        CHECK(again.status == 2);
        CHECK(again.err == "trunkgate: " + broken + "/hooks/pre-receive is not trunkgate's and " +
                               broken +
                               "/hooks/pre-receive.chained exists too; move one of them away, "
                               "then install again\n");
        CHECK_THAT(again.out, Contains(first + ": pre-receive: unchanged\n"));
        CHECK_THAT(again.out, Contains(late + ": pre-receive: installed\n"));
        CHECK_THAT(again.out, Contains(nested + ": pre-receive: unchanged\n"));
        CHECK_THAT(read_file(hooks_of(late)), Contains("trunkgate-managed"));
    }
    SECTION("uninstall --all-under takes them out of the same repositories") {
        write_saying_hook(outside + "/hooks/pre-receive", "a hook of outside.git");
        const auto outside_hook = state_of(outside + "/hooks/pre-receive");

        const auto removed = sandbox.trunkgate({"uninstall", "--all-under", fleet});

        CHECK(removed.status == 0);
        CHECK(removed.out == first + ": pre-receive: removed\n" + first +
                                 ": post-receive: removed\n" + first + ": proc-receive: removed\n" +
                                 first + ": receive.procReceiveRefs: refs/for removed\n" + nested +
                                 ": pre-receive: removed\n" + nested + ": post-receive: removed\n" +
                                 nested + ": proc-receive: removed\n" + nested +
                                 ": receive.procReceiveRefs: refs/for removed\n");
        CHECK_FALSE(exists(hooks_of(first)));
        CHECK_FALSE(exists(hooks_of(nested)));
        CHECK(state_of(outside + "/hooks/pre-receive") == outside_hook);
    }
    SECTION("a DIR that is not a directory: exit 2") {
        const auto missing = sandbox.trunkgate({"install", "--all-under", fleet + "/nothing"});

        CHECK(missing.status == 2);
        CHECK(missing.err == "trunkgate: --all-under " + fleet + "/nothing is not a directory\n");
    }
}

TEST_CASE("fleet: a wrapper written by an earlier install keeps working until install rewrites it",
          "[e2e][fleet][upgrade]") {
    git_sandbox sandbox;
    const auto hooks = sandbox.server() + "/hooks/";
    write_saying_hook(hooks + "pre-receive", "the legacy pre-receive");
    sandbox.install();
    // The wrapper as the install of trunkgate 0.1.0 wrote it: one repository's --chain path.
    write_file(hooks + "pre-receive",
               "#!/bin/sh\n"
               "# trunkgate-managed hook: written by `trunkgate install`, rewritten by the next "
               "install.\n"
               "# A pre-receive hook that was here before trunkgate is kept as "
               "pre-receive.chained and runs\n"
               "# after trunkgate with the same input; either one rejecting rejects the push.\n"
               "exec '" +
                   bin_path("trunkgate-pre-receive") + "' --chain '" + hooks +
                   "pre-receive.chained'\n");
    sandbox.commit("feat: first");

    const auto old_wrapper = sandbox.push({"origin", "main"});
    CHECK(old_wrapper.status == 0);
    CHECK(count_of(old_wrapper.err, "remote: the legacy pre-receive ran") == 1);
    const auto old_refused = sandbox.push({"origin", "HEAD:refs/heads/scratch"});
    CHECK(old_refused.status != 0);
    CHECK_THAT(remote_text(old_refused), Contains("[branch-name]"));

    const auto reinstalled = sandbox.trunkgate({"install", sandbox.server()});
    CHECK_THAT(reinstalled.out, Contains(sandbox.server() + ": pre-receive: installed\n"));
    CHECK_THAT(read_file(hooks + "pre-receive"), Contains("--chain-repository"));
    CHECK(read_file(hooks + "pre-receive.chained") ==
          "#!/bin/sh\necho \"the legacy pre-receive ran\"\n");
    sandbox.commit("feat: second");
    const auto new_wrapper = sandbox.push({"origin", "main"});
    CHECK(new_wrapper.status == 0);
    // Its own hooks directory is both "next to the wrapper" and the repository's: run once.
    CHECK(count_of(new_wrapper.err, "remote: the legacy pre-receive ran") == 1);
}
