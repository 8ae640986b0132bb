// End-to-end: root runs trunkgate on a repository served by another user (www-data, as with
// nginx + git-http-backend) and trunkgate acts as that user for the whole run: every command
// works and leaves no file in the repository that is not the owner's. Someone who is neither
// root nor the owner is refused with the owner named and the command to run. A repository
// libgit2 cannot open is reported with libgit2's own message, never as "not a git repository".
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <unistd.h>

#include "support/http_receiver.hpp"
#include "support/sandbox.hpp"
#include "support/users.hpp"

using namespace trunkgate::testing;
using namespace std::chrono_literals;
using Catch::Contains;
using json = nlohmann::json;

namespace {

void require_root() {
    if (::geteuid() != 0)
        FAIL("this test gives repositories to other users and runs trunkgate as root and as them: "
             "run it as root (CI does)");
}

// `trunkgate ARGS` as root, in the sandbox, expecting exit `status`.
run_result as_root(const git_sandbox& sandbox, const std::vector<std::string>& args,
                   int status = 0) {
    const auto ran = sandbox.trunkgate(args);
    INFO("trunkgate " << args.front() << ": " << ran.all());
    CHECK(ran.status == status);
    return ran;
}

} // namespace

TEST_CASE("ownership: root acts as the repository's owner and leaves nothing of its own",
          "[e2e][ownership]") {
    require_root();
    const auto owner = ensure_user("www-data");
    http_receiver receiver(receiver_mode::absent);
    git_sandbox sandbox;
    const auto policy = sandbox.dir() + "/events.toml";
    write_file(policy, "[events]\n[[events.endpoint]]\nurl = \"" + receiver.url() +
                           "\"\ntimeout_ms = 2000\n");
    // Served as root first: a push leaves events in the spool (the receiver is away).
    as_root(sandbox, {"install", "--policy", policy, sandbox.server()});
    const auto tip = sandbox.commit("feat: first");
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    REQUIRE(wait_until(
        [&] {
            const auto listed =
                sandbox.trunkgate({"events", "--repo", sandbox.server(), "--format", "json"});
            const auto listing = json::parse(listed.out);
            return listing["events"].size() == 1 && listing["events"][0]["attempts"] == 1;
        },
        10s));
    // Then the repository becomes www-data's, without its hooks and push options, so that
    // install has something to write.
    write_file(sandbox.server() + "/config",
               "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n");
    REQUIRE(run({"rm", sandbox.server() + "/hooks/pre-receive",
                 sandbox.server() + "/hooks/post-receive"})
                .status == 0);
    open_up(sandbox.dir());
    chown_tree(sandbox.server(), owner);
    REQUIRE(not_owned_by(sandbox.server(), owner).empty());

    // Each command root runs works, as www-data.
    const auto installed = as_root(sandbox, {"install", "--policy", policy, sandbox.server()});
    CHECK_THAT(installed.out, Contains("pre-receive: installed"));
    CHECK_THAT(installed.out, Contains("post-receive: installed"));
    CHECK_THAT(installed.out, Contains("receive.advertisePushOptions: set to true"));
    CHECK(installed.err.empty()); // nothing said about acting as the owner
    const auto listed =
        as_root(sandbox, {"events", "--repo", sandbox.server(), "--format", "json"});
    const auto listing = json::parse(listed.out);
    REQUIRE(listing["events"].size() == 1);
    const auto id = listing["events"][0]["id"].get<std::string>();
    as_root(sandbox, {"events", "redeliver", "--repo", sandbox.server(), id});
    receiver.set_mode(receiver_mode::answer, 200);
    const auto delivered = as_root(sandbox, {"deliver", "--repo", sandbox.server()});
    CHECK_THAT(delivered.out, Contains("delivered " + id));
    CHECK(receiver.request_count() == 1);
    const auto set = as_root(sandbox, {"status", "set", "--repo", sandbox.server(), tip, "build",
                                       "success", "--description", "as root"});
    CHECK_THAT(set.out, Contains("build  success"));
    const auto got = as_root(sandbox, {"status", "get", "--repo", sandbox.server(), tip});
    CHECK_THAT(got.out, Contains("build  success  as root"));
    // Root's HOME is private, as /root is: git config is looked for in the owner's HOME instead.
    temp_dir root_home; // 0700
    write_file(root_home / ".gitconfig", "[user]\n\tname = root\n");
    const auto private_home = sandbox.trunkgate({"status", "get", "--repo", sandbox.server(), tip},
                                                "", {{"HOME", root_home.path()}});
    INFO(private_home.all());
    CHECK(private_home.status == 0);
    as_root(sandbox, {"approve", "--repo", sandbox.server(), tip});
    const auto audit = as_root(sandbox, {"audit", "--repo", sandbox.server()});
    CHECK_THAT(audit.out, Contains("accept  refs/heads/main"));
    as_root(sandbox, {"check", "--repo", sandbox.server(), tip, tip, "refs/heads/main"});

    // Nothing root-owned was left anywhere in the repository.
    INFO("files not owned by " << owner);
    CHECK(not_owned_by(sandbox.server(), owner) == "");
    // ... and www-data's own run finds everything usable.
    const auto own_run = run_as(
        owner, {bin_path("trunkgate"), "deliver", "--repo", sandbox.server()}, sandbox.dir());
    INFO(own_run.all());
    CHECK(own_run.status == 0);
    CHECK_THAT(own_run.out, Contains("0 delivered, 0 retrying, 0 failed, 0 dead, 0 busy, "
                                     "0 unreadable"));
}

TEST_CASE("ownership: root serves repositories of several users, each as its owner",
          "[e2e][ownership]") {
    require_root();
    const std::string owners[] = {ensure_user("www-data"), ensure_user("nobody")};
    temp_dir dir;
    open_up(dir.path());
    const std::string repos[] = {dir / "web.git", dir / "other.git", dir / "root.git"};
    for (const auto& repo : repos)
        REQUIRE(run({"git", "init", "-q", "--bare", repo}).status == 0);
    chown_tree(repos[0], owners[0]);
    chown_tree(repos[1], owners[1]);

    const auto installed =
        run({bin_path("trunkgate"), "install", repos[0], repos[1], repos[2]}, dir.path());
    INFO(installed.all());
    CHECK(installed.status == 0);
    for (const auto& repo : repos)
        CHECK_THAT(installed.out, Contains(repo + ": pre-receive: installed"));
    const auto delivered = run({bin_path("trunkgate"), "deliver", "--all-under", dir.path()});
    INFO(delivered.all());
    CHECK(delivered.status == 0);
    const auto listed = run({bin_path("trunkgate"), "events", "--repo", repos[1]});
    CHECK(listed.status == 0);

    CHECK(not_owned_by(repos[0], owners[0]) == "");
    CHECK(not_owned_by(repos[1], owners[1]) == "");
    CHECK(not_owned_by(repos[2], "root") == "");
}

TEST_CASE("ownership: someone who is neither root nor the owner is refused with the owner named",
          "[e2e][ownership]") {
    require_root();
    const auto owner = ensure_user("www-data");
    const auto stranger = ensure_user("nobody");
    git_sandbox sandbox;
    sandbox.install();
    const auto tip = sandbox.commit("feat: first");
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    open_up(sandbox.dir());
    chown_tree(sandbox.server(), owner);
    const auto trunkgate = bin_path("trunkgate");

    SECTION("a command that writes") {
        for (const auto& args : std::vector<std::vector<std::string>>{
                 {"deliver", "--repo", sandbox.server()},
                 {"events", "--repo", sandbox.server()},
                 {"status", "set", "--repo", sandbox.server(), tip, "build", "success"},
                 {"install", sandbox.server()}}) {
            std::vector<std::string> argv{trunkgate};
            argv.insert(argv.end(), args.begin(), args.end());
            const auto refused = run_as(stranger, argv, sandbox.dir());
            INFO(refused.all());
            CHECK(refused.status == 2);
            CHECK_THAT(refused.err, Contains(sandbox.server() + " belongs to " + owner +
                                             ", not to " + stranger));
            CHECK_THAT(refused.err,
                       Contains("runuser -u " + owner + " -- " + trunkgate + " " + args.front()));
            CHECK_THAT(refused.err, !Contains("not a git repository"));
        }
    }
    SECTION("a command that only reads, which libgit2 will not open for another user") {
        const auto refused =
            run_as(stranger, {trunkgate, "audit", "--repo", sandbox.server()}, sandbox.dir());
        INFO(refused.all());
        CHECK(refused.status == 2);
        CHECK_THAT(refused.err, Contains("belongs to " + owner));
        CHECK_THAT(refused.err, Contains("libgit2: "));
        CHECK_THAT(refused.err, Contains("runuser -u " + owner + " -- " + trunkgate +
                                         " audit --repo " + sandbox.server()));
    }
    SECTION("a repository root owns: run it as root") {
        git_sandbox rooted;
        open_up(rooted.dir());
        const auto refused =
            run_as(stranger, {trunkgate, "deliver", "--repo", rooted.server()}, rooted.dir());
        INFO(refused.all());
        CHECK(refused.status == 2);
        CHECK_THAT(refused.err, Contains(rooted.server() + " belongs to root, not to " + stranger));
        CHECK_THAT(refused.err,
                   Contains("run it as root: " + trunkgate + " deliver --repo " + rooted.server()));
        CHECK(not_owned_by(rooted.server(), "root") == "");
    }
    // Nothing was written by the refused runs.
    CHECK(not_owned_by(sandbox.server(), owner) == "");
}

TEST_CASE("ownership: a repository libgit2 cannot open shows libgit2's message",
          "[e2e][ownership]") {
    git_sandbox sandbox;
    sandbox.install();
    write_file(sandbox.server() + "/config", "[core\n\tbare = true\n");
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"audit", "--repo", sandbox.server()},
                                               {"deliver", "--repo", sandbox.server()},
                                               {"install", sandbox.server()}}) {
        const auto failed = sandbox.trunkgate(args);
        INFO(failed.all());
        CHECK(failed.status == 3);
        CHECK_THAT(failed.err, Contains("failed to parse config file: missing ']' in section "
                                        "header (in " +
                                        sandbox.server() + "/config:1)"));
        CHECK_THAT(failed.err, !Contains("not a git repository"));
        CHECK_THAT(failed.err, !Contains("not in a git repository"));
    }
    // deliver names the broken repository and still serves the next one.
    git_sandbox good;
    good.install();
    const auto both =
        sandbox.trunkgate({"deliver", "--repo", sandbox.server(), "--repo", good.server()});
    INFO(both.all());
    CHECK(both.status == 3);
    CHECK_THAT(both.err, Contains(sandbox.server() + ": error: cannot open the repository"));
    CHECK_THAT(both.out, Contains(good.server() + ": 0 delivered, 0 retrying, 0 failed, 0 dead"));
    const auto missing = sandbox.trunkgate({"audit", "--repo", sandbox.dir() + "/nothing-here"});
    CHECK(missing.status == 2);
    CHECK_THAT(missing.err, Contains("is not in a git repository"));
}
