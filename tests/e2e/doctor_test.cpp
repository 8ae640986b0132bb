// End-to-end: `trunkgate doctor` finds each problem of issue 10 planted in a fresh repository,
// names it by its id on one line with its fix, and exits 1; a healthy repository gives exit 0 and
// no problem line. Ownership problems need a repository owned by someone else: those tests chown
// it to `nobody` and need root (CI runs them as root).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/doctor_support.hpp"
#include "support/gates_support.hpp"
#include "support/http_receiver.hpp"
#include "support/queue_support.hpp"
#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using namespace trunkgate::testing::doctoring;
using Catch::Contains;
using Catch::StartsWith;
using nlohmann::json;

namespace {

void write_executable(const std::string& path, const std::string& text) {
    write_file(path, text);
    REQUIRE(::chmod(path.c_str(), 0755) == 0);
}

void require_root() {
    if (::geteuid() != 0)
        FAIL("this test makes a repository owned by another user: run it as root (CI does)");
}

uid_t nobody_uid() {
    const passwd* entry = ::getpwnam("nobody");
    REQUIRE(entry != nullptr);
    return entry->pw_uid;
}

// Hands the server repository (everything in it) to `nobody`, as a repository served by
// www-data is handed to it, in a directory everyone may enter (as /srv/git).
void give_to_nobody(const git_sandbox& sandbox) {
    const auto given = run({"chown", "-R", "nobody:", sandbox.server()});
    REQUIRE(given.status == 0);
    REQUIRE(::chmod(sandbox.dir().c_str(), 0755) == 0);
}

void chown_root(const std::string& path) {
    REQUIRE(::chown(path.c_str(), 0, 0) == 0);
}

// An installed repository with one accepted push (so the audit log exists), as in production.
void installed_with_a_push(git_sandbox& sandbox, const std::string& policy = "") {
    sandbox.install(policy);
    sandbox.commit("feat: first", "a.txt");
    const auto pushed = sandbox.push({"origin", "main"});
    INFO(pushed.all());
    REQUIRE(pushed.status == 0);
}

const std::string trunkgate_program = bin_path("trunkgate");

// A policy with one endpoint at `url`, delivered while the pusher waits (so a push leaves its
// entry in the spool as the receiver left it).
std::string events_policy(const std::string& url) {
    return "[events]\ndeliver = \"inline\"\n\n[[events.endpoint]]\nurl = \"" + url +
           "\"\ntimeout_ms = 2000\n";
}

std::string only_entry(const std::string& dir) {
    const auto listed = run({"find", dir, "-name", "*.json"});
    const auto found = lines_of(listed.out);
    REQUIRE(found.size() == 1);
    return found[0];
}

} // namespace

TEST_CASE("doctor: a healthy repository gives exit 0 and no problem line", "[e2e][doctor]") {
    git_sandbox sandbox;
    installed_with_a_push(sandbox);
    const auto checked = doctor(sandbox, {sandbox.server()});
    INFO(checked.all());
    CHECK(checked.status == 0);
    CHECK(checked.out == sandbox.server() + ": ok\n");
    CHECK(checked.err.empty());

    const auto as_json = doctor(sandbox, {sandbox.server(), "--format", "json"});
    CHECK(as_json.status == 0);
    const auto report = json::parse(as_json.out);
    CHECK(report["healthy"] == true);
    REQUIRE(report["repositories"].size() == 1);
    const auto& repository = report["repositories"][0];
    CHECK(repository["repository"] == sandbox.server());
    CHECK(repository["git_dir"] == sandbox.server() + "/");
    CHECK(repository["owner"] == ::getpwuid(::geteuid())->pw_name);
    CHECK(repository["healthy"] == true);
    CHECK(repository["problems"] == json::array());
    CHECK(repository["notes"] == json::array());

    SECTION("the repository containing the current directory is the default") {
        const auto here = run({trunkgate_program, "doctor"}, sandbox.server(),
                              sandbox.environment({{"TRUNKGATE_DOCTOR_SCHEDULE_PATHS", "/none"}}));
        CHECK(here.status == 0);
        CHECK(here.out == ".: ok\n");
    }
}

TEST_CASE("doctor: hook wrappers and chained hooks", "[e2e][doctor][hooks]") {
    git_sandbox sandbox;
    installed_with_a_push(sandbox);
    const auto server = sandbox.server();
    const auto hooks = server + "/hooks/";
    const auto install_fix = "; fix: " + trunkgate_program + " install " + server;

    SECTION("hook-missing: no post-receive wrapper") {
        REQUIRE(::unlink((hooks + "post-receive").c_str()) == 0);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "hook-missing") ==
              server + ": [hook-missing] " + hooks +
                  "post-receive does not exist: no push event is sent and what landed is not "
                  "audited" +
                  install_fix);
    }
    SECTION("hook-missing: a pre-receive hook that is not trunkgate's") {
        write_executable(hooks + "pre-receive", "#!/bin/sh\nexit 0\n");
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK_THAT(problem_line(checked, server, "hook-missing"),
                   Contains(hooks + "pre-receive is not trunkgate's wrapper"));
    }
    SECTION("hook-not-executable") {
        REQUIRE(::chmod((hooks + "pre-receive").c_str(), 0644) == 0);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "hook-not-executable") ==
              server + ": [hook-not-executable] " + hooks +
                  "pre-receive is not run by git: root cannot execute it (owned by root, mode "
                  "0644); pushes are not checked and no decision is audited; fix: chmod a+x " +
                  hooks + "pre-receive");
    }
    SECTION("hook-missing-binary: the wrapper runs a program that is gone") {
        const auto wrapper = read_file(hooks + "pre-receive");
        write_executable(hooks + "pre-receive",
                         wrapper.substr(0, wrapper.find("exec ")) +
                             "exec /opt/trunkgate-old/bin/trunkgate-pre-receive --chain " + hooks +
                             "pre-receive.chained\n");
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "hook-missing-binary") ==
              server + ": [hook-missing-binary] " + hooks +
                  "pre-receive runs /opt/trunkgate-old/bin/trunkgate-pre-receive, which does not "
                  "exist; every push through it fails" +
                  install_fix);
    }
    SECTION("hook-other-version: the wrapper runs another version's program") {
        const auto other = sandbox.dir() + "/old/bin/trunkgate-post-receive";
        write_executable(other, "#!/bin/sh\n# built by an older trunkgate\n: '\ntrunkgate-"
                                "version: 0.0.9\n'\nexit 0\n");
        const auto wrapper = read_file(hooks + "post-receive");
        write_executable(hooks + "post-receive", wrapper.substr(0, wrapper.find("exec ")) +
                                                     "exec '" + other + "' --chain '" + hooks +
                                                     "post-receive.chained'\n");
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        const auto line = problem_line(checked, server, "hook-other-version");
        CHECK_THAT(line, Contains(hooks + "post-receive runs " + other +
                                  ", trunkgate 0.0.9; this "
                                  "trunkgate is 0.1.0"));
        CHECK_THAT(line, Contains(install_fix));

        SECTION("a program without a version marker is another version too") {
            write_executable(other, "#!/bin/sh\nexit 0\n");
            const auto unmarked = doctor(sandbox, {server});
            CHECK(unmarked.status == 1);
            CHECK_THAT(problem_line(unmarked, server, "hook-other-version"),
                       Contains("which does not say its version"));
        }
    }
    SECTION("hook-other-repository: a repository copied with its wrappers") {
        const auto copy = sandbox.dir() + "/copy.git";
        REQUIRE(run({"cp", "-a", server, copy}).status == 0);
        const auto checked = doctor(sandbox, {copy});
        CHECK(checked.status == 1);
        const auto found = lines_of_id(checked, "hook-other-repository");
        REQUIRE(found.size() == 2);
        CHECK(found[0] ==
              copy + ": [hook-other-repository] " + copy + "/hooks/pre-receive chains " + hooks +
                  "pre-receive.chained, which is not this repository's (was the "
                  "repository copied or moved?); " +
                  copy + "/hooks/pre-receive.chained does not run; fix: " + trunkgate_program +
                  " install " + copy);
    }
    SECTION("chained-hook-not-executable") {
        write_file(hooks + "pre-receive.chained", "#!/bin/sh\necho legacy\n");
        REQUIRE(::chmod((hooks + "pre-receive.chained").c_str(), 0644) == 0);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "chained-hook-not-executable") ==
              server + ": [chained-hook-not-executable] " + hooks +
                  "pre-receive.chained is skipped: root cannot execute it (owned by root, mode "
                  "0644) (trunkgate skips a chained hook that is not executable, as git does); "
                  "fix: chmod a+x " +
                  hooks + "pre-receive.chained");
    }
    SECTION("chained-hook-missing: a symbolic link to a hook that is gone") {
        REQUIRE(::symlink("/srv/hooks/legacy-post-receive",
                          (hooks + "post-receive.chained").c_str()) == 0);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "chained-hook-missing") ==
              server + ": [chained-hook-missing] " + hooks +
                  "post-receive.chained is a symbolic link to /srv/hooks/legacy-post-receive, "
                  "which does not exist: the hook that should run after trunkgate is skipped; "
                  "fix: restore what it points to, or remove the link: rm " +
                  hooks + "post-receive.chained");
    }
}

TEST_CASE("doctor: the policy and git config", "[e2e][doctor][policy]") {
    git_sandbox sandbox;
    installed_with_a_push(sandbox);
    const auto server = sandbox.server();

    SECTION("policy-invalid: what `trunkgate policy lint` says") {
        sandbox.write_server_policy("[branches]\nmax_behnd = 3\n");
        const auto linted = sandbox.trunkgate({"policy", "lint", server + "/trunkgate.toml"});
        REQUIRE(linted.status == 3);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "policy-invalid") ==
              server + ": [policy-invalid] " + linted.err.substr(0, linted.err.size() - 1) +
                  " (the pre-receive hook rejects every push with policy-error); fix: correct "
                  "it, then: " +
                  trunkgate_program + " policy lint " + server + "/trunkgate.toml");
    }
    SECTION("policy-missing: hooks without a policy") {
        REQUIRE(::unlink((server + "/trunkgate.toml").c_str()) == 0);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK_THAT(problem_line(checked, server, "policy-missing"),
                   Contains("the pre-receive hook rejects every push (policy-error); fix: " +
                            trunkgate_program + " install " + server));
    }
    SECTION("push-options-off") {
        REQUIRE(
            sandbox.git_in(server, {"config", "receive.advertisePushOptions", "false"}).status ==
            0);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "push-options-off") ==
              server +
                  ": [push-options-off] receive.advertisePushOptions is not true: git refuses "
                  "`git push -o` (no trunkgate.bypass, no push options in events); fix: "
                  "git --git-dir=" +
                  server +
                  " config receive.advertisePushOptions true (gitolite: `config "
                  "receive.advertisePushOptions = true` in gitolite.conf)");
    }
    SECTION("proc-receive-refs is a note: worth knowing, exit 0") {
        // refs/for is trunkgate's own (the merge queue); another prefix is someone else's hook.
        REQUIRE(
            sandbox.git_in(server, {"config", "receive.procReceiveRefs", "refs/review"}).status ==
            0);
        const auto checked = doctor(sandbox, {server});
        INFO(checked.all());
        CHECK(checked.status == 0);
        const auto found = lines_of_id(checked, "proc-receive-refs");
        REQUIRE(found.size() == 1);
        CHECK_THAT(found[0], StartsWith(server + ": [proc-receive-refs] note: "
                                                 "receive.procReceiveRefs = refs/review: a "
                                                 "proc-receive hook, not git, updates the refs"));
        CHECK_THAT(checked.out, Contains(server + ": ok\n"));
        const auto report = json::parse(doctor(sandbox, {server, "--format", "json"}).out);
        CHECK(report["healthy"] == true);
        CHECK(report["repositories"][0]["notes"][0]["id"] == "proc-receive-refs");
    }
    SECTION("not-installed: a repository trunkgate was never installed into") {
        git_sandbox fresh;
        const auto checked = doctor(fresh, {fresh.server()});
        CHECK(checked.status == 1);
        CHECK(checked.out == fresh.server() +
                                 ": [not-installed] trunkgate is not installed here (no policy, "
                                 "no hooks); fix: " +
                                 trunkgate_program + " install " + fresh.server() + "\n");
    }
    SECTION("not-a-repository, with libgit2's reason") {
        const auto empty = sandbox.dir() + "/empty";
        write_file(empty + "/README", "");
        const auto checked = doctor(sandbox, {empty});
        CHECK(checked.status == 1);
        CHECK_THAT(problem_line(checked, empty, "not-a-repository"),
                   Contains("libgit2 cannot open it as a git repository: could not find "
                            "repository"));
    }
}

TEST_CASE("doctor: a repository owned by the user git runs as, checked by root",
          "[e2e][doctor][ownership]") {
    require_root();
    git_sandbox sandbox;
    installed_with_a_push(sandbox);
    const auto server = sandbox.server();
    give_to_nobody(sandbox);
    const auto state = server + "/trunkgate";

    SECTION("healthy: root is told it must act as the owner (a note), exit 0") {
        const auto checked = doctor(sandbox, {server});
        INFO(checked.all());
        CHECK(checked.status == 0);
        const auto found = lines_of_id(checked, "owner-only");
        REQUIRE(found.size() == 1);
        CHECK_THAT(found[0],
                   StartsWith(server + ": [owner-only] note: libgit2 opens it only for its "
                                       "owner nobody, not for root, who runs this"));
        CHECK_THAT(found[0], Contains("; fix: runuser -u nobody -- " + trunkgate_program +
                                      " audit --repo " + server));
        CHECK(lines_of(checked.out).size() == 2); // the note and "ok"
        CHECK_THAT(checked.out, Contains(server + ": ok\n"));
    }
    SECTION("state-wrong-owner: a root-owned file in $GIT_DIR/trunkgate") {
        write_file(state + "/spool/events.log", "written by root\n");
        chown_root(state + "/spool");
        chown_root(state + "/spool/events.log");
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "state-wrong-owner") ==
              server + ": [state-wrong-owner] 2 files under " + state +
                  " belong to someone other than nobody (first: " + state +
                  "/spool, owned by root, mode 0755): nobody's hooks and deliverer may not be "
                  "able to read, lock or replace them; fix: chown -R nobody: " +
                  state);
    }
    SECTION("state-not-writable: a file the owner cannot write") {
        write_file(state + "/notes.txt", "kept\n");
        REQUIRE(::chown((state + "/notes.txt").c_str(), nobody_uid(), static_cast<gid_t>(-1)) == 0);
        REQUIRE(::chmod((state + "/notes.txt").c_str(), 0444) == 0);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "state-not-writable") ==
              server + ": [state-not-writable] 1 file under " + state +
                  " is not readable and writable by nobody (first: " + state +
                  "/notes.txt, owned by nobody, mode 0444); fix: runuser -u nobody -- chmod -R "
                  "u+rwX " +
                  state);
    }
    SECTION("audit-log-not-writable: a root-owned audit log") {
        chown_root(state + "/audit.log");
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "audit-log-not-writable") ==
              server + ": [audit-log-not-writable] " + state +
                  "/audit.log: nobody cannot read and write it (owned by root, mode 0640): "
                  "every push is rejected (\"the audit log cannot be written, so no decision is "
                  "taken\"); fix: chown nobody: " +
                  state + "/audit.log && chmod u+rw " + state + "/audit.log");
        // What the doctor predicts is what a push as the owner meets.
        CHECK(lines_of_id(checked, "state-wrong-owner").empty());
    }
    SECTION("policy-unreadable: a policy only root can read") {
        chown_root(server + "/trunkgate.toml");
        REQUIRE(::chmod((server + "/trunkgate.toml").c_str(), 0600) == 0);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "policy-unreadable") ==
              server + ": [policy-unreadable] " + server +
                  "/trunkgate.toml loads for root, but not for nobody, who runs the hooks: nobody "
                  "cannot read it (owned by root, mode 0600); fix: chmod a+r " +
                  server + "/trunkgate.toml");
    }
    SECTION("safe-directory: the repository directory is root's, its content nobody's") {
        chown_root(server);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "safe-directory") ==
              server + ": [safe-directory] " + server +
                  " belongs to root but its objects to nobody, who serves it: git refuses such a "
                  "repository (\"dubious ownership\"), and so does libgit2 in trunkgate's hooks "
                  "(libgit2 1.5 ignores safe.directory = *); fix: chown nobody: " +
                  server);
    }
}

TEST_CASE("doctor: safe-directory: libgit2 refuses the repository to a user who does not own it",
          "[e2e][doctor][ownership]") {
    require_root();
    git_sandbox sandbox;
    installed_with_a_push(sandbox);
    const auto server = sandbox.server();
    // nobody must reach the repository and the programs to be refused by ownership alone.
    REQUIRE(::chmod(sandbox.dir().c_str(), 0755) == 0);
    const auto checked =
        run({"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", trunkgate_program,
             "doctor", server},
            "/", {{"HOME", "/nonexistent"}, {"TRUNKGATE_DOCTOR_SCHEDULE_PATHS", "/nonexistent"}});
    CHECK(checked.status == 1);
    CHECK_THAT(problem_line(checked, server, "safe-directory"),
               StartsWith(server + ": [safe-directory] libgit2 refuses to open it for nobody: it "
                                   "belongs to root (libgit2 says: "));
    CHECK_THAT(problem_line(checked, server, "safe-directory"),
               Contains("; fix: run them as its owner: sudo -u root " + trunkgate_program +
                        " doctor " + server +
                        ", or trust it for nobody: git config --global --add safe.directory " +
                        server + " (libgit2 1.5 ignores safe.directory = *)"));
}

TEST_CASE("doctor: the spool: backlog, failed, dead, unreadable and abandoned events",
          "[e2e][doctor][spool]") {
    git_sandbox sandbox;
    http_receiver receiver(receiver_mode::answer, 404);
    installed_with_a_push(sandbox, events_policy(receiver.url()));
    const auto server = sandbox.server();
    const auto spool = server + "/trunkgate/spool";
    // The event of the push was refused (404): it waits in queue/ as `failed`.
    const auto entry_path = only_entry(spool + "/queue");
    auto entry = json::parse(read_file(entry_path));
    REQUIRE(entry["state"] == "failed");
    const std::string id = entry["id"];
    // A timer that serves the repository, so only the spool is at fault.
    write_file(sandbox.dir() + "/schedule/crontab", "* * * * * root " + trunkgate_program +
                                                        " deliver --all-under " + sandbox.dir() +
                                                        " >/dev/null\n");

    SECTION("spool-failed: a delivery the receiver refused") {
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "spool-failed") ==
              server +
                  ": [spool-failed] 1 delivery was refused by the receiver (4xx) and waits "
                  "for a redelivery (first: " +
                  id +
                  " for refs/heads/main, last error: HTTP 404); fix: once the receiver is "
                  "fixed: " +
                  trunkgate_program + " events redeliver --repo " + server + " " + id);
    }
    SECTION("spool-backlog: a delivery waiting longer than --backlog-minutes") {
        entry["state"] = "queued";
        entry["created_at"] = entry["created_at"].get<long long>() - 7200;
        write_file(entry_path, entry.dump() + "\n");
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        const auto line = problem_line(checked, server, "spool-backlog");
        CHECK_THAT(line, StartsWith(server +
                                    ": [spool-backlog] 1 delivery has waited more "
                                    "than 60 minutes (oldest: " +
                                    id + " for refs/heads/main, last error: HTTP 404, queued "));
        CHECK_THAT(line, Contains(", 1 attempts); fix: see why with " + trunkgate_program +
                                  " events --repo " + server + ", then send them: " +
                                  trunkgate_program + " deliver --repo " + server));
        CHECK(doctor(sandbox, {server, "--backlog-minutes", "180"}).status == 0);
    }
    SECTION("spool-dead: a delivery given up on") {
        REQUIRE(::rename(entry_path.c_str(), (spool + "/dead/" + id + ".json").c_str()) == 0);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "spool-dead") ==
              server +
                  ": [spool-dead] 1 delivery was given up on after [events] max_age_hours, "
                  "kept in dead/ (first: " +
                  id + " for refs/heads/main, last error: HTTP 404); fix: send one again: " +
                  trunkgate_program + " events redeliver --repo " + server + " " + id +
                  ", or remove it: rm " + spool + "/dead/" + id + ".json");
    }
    SECTION("spool-unreadable: an entry that does not parse") {
        REQUIRE(::unlink(entry_path.c_str()) == 0);
        const auto damaged = spool + "/queue/0b5e8d3c-6f1a-4c2e-9d7b-3a1f0e2d4c5b.json";
        write_file(damaged, "{\"id\": \"0b5e8d3c\", \"body\": ");
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        const auto line = problem_line(checked, server, "spool-unreadable");
        CHECK_THAT(line, StartsWith(server + ": [spool-unreadable] 1 spool entry in " + spool +
                                    " cannot be parsed, so it is never delivered (first: " +
                                    damaged + ": malformed spool entry: "));
        CHECK_THAT(line, Contains("; fix: look at it and take it out of the queue (deliverers read "
                                  "only queue/, delivered/ and dead/): mv " +
                                  damaged + " " + spool +
                                  "/0b5e8d3c-6f1a-4c2e-9d7b-3a1f0e2d4c5b.json.damaged"));
    }
    SECTION("spool-unreadable: an entry root left that the owner cannot read") {
        require_root();
        give_to_nobody(sandbox);
        chown_root(entry_path);
        REQUIRE(::chmod(entry_path.c_str(), 0640) == 0);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "spool-unreadable") ==
              server + ": [spool-unreadable] 1 spool entry in " + spool +
                  " cannot be read by nobody, so it is never delivered (first: " + entry_path +
                  ": nobody cannot read and write it (owned by root, mode 0640)); fix: chown -R "
                  "nobody: " +
                  spool + " && runuser -u nobody -- chmod -R u+rwX " + spool);
        CHECK(lines_of_id(checked, "state-wrong-owner").size() == 1);
    }
    SECTION("spool-abandoned: a push whose hook was stopped while staging") {
        write_file(spool + "/abandoned/5f0c2a9e-1b7d-4e3a-8c6f-2d9b0a1e3f4c/refs", "1\n");
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK_THAT(problem_line(checked, server, "spool-abandoned"),
                   Contains("1 push's events were abandoned by a hook stopped while staging "
                            "them; they are never delivered (first: " +
                            spool + "/abandoned/5f0c2a9e-1b7d-4e3a-8c6f-2d9b0a1e3f4c)"));
    }
    SECTION("redelivered and delivered, the spool is healthy") {
        receiver.set_mode(receiver_mode::answer, 200);
        REQUIRE(sandbox.trunkgate({"events", "redeliver", "--repo", server, id}).status == 0);
        REQUIRE(sandbox.trunkgate({"deliver", "--repo", server}).status == 0);
        const auto checked = doctor(sandbox, {server});
        INFO(checked.all());
        CHECK(checked.status == 0);
        CHECK(checked.out == server + ": ok\n");
    }
}

TEST_CASE("doctor: the deliver timer, when events are configured", "[e2e][doctor][timer]") {
    git_sandbox sandbox;
    http_receiver receiver(receiver_mode::answer, 200);
    installed_with_a_push(sandbox, events_policy(receiver.url()));
    const auto server = sandbox.server();
    const auto units = sandbox.dir() + "/schedule";
    const auto service_text = [&](const std::string& where) {
        return "[Service]\nType=oneshot\nUser=root\nExecStart=" + trunkgate_program +
               " deliver --all-under " + where + "\n";
    };
    const std::string timer_text = "[Timer]\nOnUnitActiveSec=1min\n\n[Install]\n"
                                   "WantedBy=timers.target\n";

    SECTION("deliver-timer-missing: nothing runs trunkgate deliver") {
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        const auto line = problem_line(checked, server, "deliver-timer-missing");
        CHECK_THAT(line, StartsWith(server +
                                    ": [deliver-timer-missing] [[events.endpoint]] is "
                                    "set, but nothing runs `trunkgate deliver` (no "
                                    "systemd timer or cron job in " +
                                    units + ")"));
        CHECK_THAT(line, Contains("/trunkgate-deliver.service"));
        CHECK_THAT(line, Contains("systemctl enable --now trunkgate-deliver.timer"));
    }
    SECTION("deliver-timer-missing: a timer that is not enabled") {
        write_file(units + "/trunkgate-deliver.service", service_text(sandbox.dir()));
        write_file(units + "/trunkgate-deliver.timer", timer_text);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK_THAT(problem_line(checked, server, "deliver-timer-missing"),
                   Contains("(trunkgate-deliver.timer (for " + units +
                            "/trunkgate-deliver.service) is not enabled)"));
    }
    SECTION("enabled and serving the repository: healthy") {
        write_file(units + "/trunkgate-deliver.service", service_text(sandbox.dir()));
        write_file(units + "/trunkgate-deliver.timer", timer_text);
        write_file(units + "/timers.target.wants/trunkgate-deliver.timer", timer_text);
        const auto checked = doctor(sandbox, {server});
        INFO(checked.all());
        CHECK(checked.status == 0);
        CHECK(checked.out == server + ": ok\n");

        SECTION("deliver-timer-elsewhere: it serves another tree") {
            write_file(units + "/trunkgate-deliver.service", service_text("/srv/git"));
            const auto elsewhere = doctor(sandbox, {server});
            CHECK(elsewhere.status == 1);
            CHECK(problem_line(elsewhere, server, "deliver-timer-elsewhere") ==
                  server + ": [deliver-timer-elsewhere] trunkgate deliver runs from " + units +
                      "/trunkgate-deliver.service (ExecStart=" + trunkgate_program +
                      " deliver --all-under /srv/git), which does not serve " + server +
                      "; fix: add the repository to that line: ExecStart=" + trunkgate_program +
                      " deliver --all-under /srv/git --all-under " + sandbox.dir());
        }
    }
    SECTION("a cron line serving the repository: healthy") {
        write_file(units + "/crontab", "# m h dom mon dow user command\n* * * * * root " +
                                           trunkgate_program + " deliver --repo " + server +
                                           " >/dev/null\n");
        CHECK(doctor(sandbox, {server}).status == 0);
    }
}

namespace {

bool file_exists(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0;
}

// A repository with a merge queue on main (queue_support's policy) and one change queued by a
// push to refs/for/main, so the journal exists.
void queued_with_a_push(git_sandbox& sandbox) {
    trunkgate::testing::queues::start_queue(sandbox, trunkgate::testing::queues::queue_policy);
    sandbox.commit("feat: queued", "b.txt");
    const auto pushed =
        sandbox.push({"origin", "HEAD:refs/for/main"}, trunkgate::testing::gates::as("alice"));
    INFO(pushed.all());
    REQUIRE(pushed.status == 0);
    REQUIRE(file_exists(sandbox.server() + "/trunkgate/queue/entries/q-0001.json"));
}

} // namespace

TEST_CASE("doctor: the merge queue's way in, when the policy has a [[queue]]",
          "[e2e][doctor][queue]") {
    git_sandbox sandbox;
    queued_with_a_push(sandbox);
    const auto server = sandbox.server();
    const auto hook = server + "/hooks/proc-receive";
    const auto install_fix = trunkgate_program + " install " + server;

    SECTION("healthy: the hook, refs/for routed, required checks, the journal") {
        const auto checked = doctor(sandbox, {server});
        INFO(checked.all());
        CHECK(checked.status == 0);
        CHECK(checked.out == server + ": ok\n");
    }
    SECTION("hook-missing: no proc-receive wrapper") {
        REQUIRE(::unlink(hook.c_str()) == 0);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "hook-missing") ==
              server + ": [hook-missing] " + hook +
                  " does not exist: a push to refs/for/<branch> does not enter the merge queue; "
                  "fix: " +
                  install_fix);
    }
    SECTION("hook-missing: a proc-receive hook that is not trunkgate's, which install keeps") {
        write_executable(hook, "#!/bin/sh\nexec /usr/local/bin/review-proc-receive\n");
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "hook-missing") ==
              server + ": [hook-missing] " + hook +
                  " is not trunkgate's wrapper: a push to refs/for/<branch> does not enter the "
                  "merge queue (a proc-receive hook cannot be chained: install leaves yours "
                  "alone, and it answers for refs/for); fix: if the merge queue is to take "
                  "refs/for: mv " +
                  hook + " " + hook + ".orig && " + install_fix);
        // The fix it gives works: install then puts trunkgate's wrapper in place.
        REQUIRE(::rename(hook.c_str(), (hook + ".orig").c_str()) == 0);
        REQUIRE(sandbox.trunkgate({"install", server}).status == 0);
        CHECK(doctor(sandbox, {server}).status == 0);
    }
    SECTION("hook-not-executable: proc-receive") {
        REQUIRE(::chmod(hook.c_str(), 0644) == 0);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "hook-not-executable") ==
              server + ": [hook-not-executable] " + hook +
                  " is not run by git: root cannot execute it (owned by root, mode 0644); a push "
                  "to refs/for/<branch> does not enter the merge queue; fix: chmod a+x " +
                  hook);
    }
    SECTION("queue-refs-off: receive.procReceiveRefs is not set") {
        REQUIRE(
            sandbox.git_in(server, {"config", "--unset-all", "receive.procReceiveRefs"}).status ==
            0);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "queue-refs-off") ==
              server +
                  ": [queue-refs-off] receive.procReceiveRefs is not set: git creates "
                  "refs/for/<branch> as an ordinary ref instead of handing the push to the "
                  "proc-receive hook, so nothing enters the merge queue; fix: git --git-dir=" +
                  server +
                  " config --add receive.procReceiveRefs refs/for (gitolite: `config "
                  "receive.procReceiveRefs = refs/for` in gitolite.conf, with "
                  "receive\\.procReceiveRefs in GIT_CONFIG_KEYS)");
        // What it says is what git does: the push creates a ref, and nothing is queued.
        sandbox.commit("feat: not queued", "c.txt");
        const auto pushed =
            sandbox.push({"origin", "HEAD:refs/for/main"}, trunkgate::testing::gates::as("alice"));
        INFO(pushed.all());
        CHECK(!sandbox.server_rev("refs/for/main").empty());
        CHECK(!file_exists(server + "/trunkgate/queue/entries/q-0002.json"));
    }
    SECTION("queue-refs-off: values that do not route the creation of refs/for/<branch>") {
        for (const std::string value :
             {"refs/review", "d:refs/for", "m:refs/for", "!:refs/for", "!:refs", "refs/for/main"}) {
            INFO(value);
            REQUIRE(
                sandbox
                    .git_in(server, {"config", "--replace-all", "receive.procReceiveRefs", value})
                    .status == 0);
            const auto checked = doctor(sandbox, {server});
            CHECK(checked.status == 1);
            CHECK_THAT(problem_line(checked, server, "queue-refs-off"),
                       StartsWith(server + ": [queue-refs-off] receive.procReceiveRefs (" + value +
                                  ") does not route refs/for: git creates"));
        }
    }
    SECTION("values that do route it, as git's receive-pack matches them") {
        for (const std::string value :
             {"refs/for/", "a:refs/for", "ad:refs/for", "refs", "!:refs/heads"}) {
            INFO(value);
            REQUIRE(
                sandbox
                    .git_in(server, {"config", "--replace-all", "receive.procReceiveRefs", value})
                    .status == 0);
            const auto checked = doctor(sandbox, {server});
            INFO(checked.all());
            CHECK(checked.status == 0); // proc-receive-refs is a note
            CHECK(lines_of_id(checked, "queue-refs-off").empty());
        }
    }
    SECTION("queue-no-required-checks: the queue's target has no required_checks") {
        sandbox.write_server_policy("[[protect]]\nrefs = [\"refs/heads/main\"]\n\n[[queue]]\n"
                                    "target = \"refs/heads/main\"\nrunner = \"manual\"\n");
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "queue-no-required-checks") ==
              server +
                  ": [queue-no-required-checks] [[queue]] refs/heads/main has no required_checks "
                  "in the [[protect]] entries that match it: `trunkgate queue run` lands nothing "
                  "there, so changes pushed to refs/for/ wait for ever; fix: add the CI contexts "
                  "that must pass to its [[protect]] entry (required_checks = [\"build\"]) in " +
                  server + "/trunkgate.toml, then: " + trunkgate_program + " policy lint " +
                  server + "/trunkgate.toml");
        // What it says is what the runner does.
        const auto ran = sandbox.trunkgate({"queue", "run", "--repo", server});
        CHECK_THAT(ran.out, Contains("has no required_checks in its [[protect]] entries; its "
                                     "queue lands nothing until it has some"));
    }
}

TEST_CASE("doctor: without a [[queue]], no proc-receive hook and no refs/for are fine",
          "[e2e][doctor][queue]") {
    // install sets both up whether or not the policy has a queue; doctor asks for them only when
    // it has one.
    git_sandbox sandbox;
    installed_with_a_push(sandbox);
    const auto server = sandbox.server();
    REQUIRE(::unlink((server + "/hooks/proc-receive").c_str()) == 0);
    REQUIRE(sandbox.git_in(server, {"config", "--unset-all", "receive.procReceiveRefs"}).status ==
            0);
    const auto checked = doctor(sandbox, {server});
    INFO(checked.all());
    CHECK(checked.status == 0);
    CHECK(checked.out == server + ": ok\n");
}

TEST_CASE("doctor: the merge queue's journal, owned by the user git runs as, checked by root",
          "[e2e][doctor][queue][ownership]") {
    require_root();
    git_sandbox sandbox;
    queued_with_a_push(sandbox);
    const auto server = sandbox.server();
    const auto journal = server + "/trunkgate/queue";
    const auto entry = journal + "/entries/q-0001.json";
    give_to_nobody(sandbox);

    SECTION("healthy: only the owner-only note") {
        const auto checked = doctor(sandbox, {server});
        INFO(checked.all());
        CHECK(checked.status == 0);
        CHECK(lines_of(checked.out).size() == 2);
    }
    SECTION("queue-journal-wrong-owner: an entry root wrote") {
        chown_root(entry);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "queue-journal-wrong-owner") ==
              server + ": [queue-journal-wrong-owner] 1 file of the merge queue's journal " +
                  journal + " belongs to someone other than nobody (first: " + entry +
                  ", owned by root, mode 0640): the proc-receive hook, which runs as nobody, "
                  "cannot queue a push to refs/for/, and `trunkgate queue run` as nobody cannot "
                  "record what it does; fix: chown -R nobody: " +
                  journal);
        // Its own check: not counted again among $GIT_DIR/trunkgate's files.
        CHECK(lines_of_id(checked, "state-wrong-owner").empty());
    }
    SECTION("queue-journal-not-writable: a journal directory the owner cannot write") {
        REQUIRE(::chmod((journal + "/entries").c_str(), 0555) == 0);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        CHECK(problem_line(checked, server, "queue-journal-not-writable") ==
              server + ": [queue-journal-not-writable] 1 file of the merge queue's journal " +
                  journal + " is not readable and writable by nobody (first: " + journal +
                  "/entries, owned by nobody, mode 0555): the proc-receive hook, which runs as "
                  "nobody, cannot queue a push to refs/for/, and `trunkgate queue run` as nobody "
                  "cannot record what it does; fix: runuser -u nobody -- chmod -R u+rwX " +
                  journal);
        CHECK(lines_of_id(checked, "state-not-writable").empty());
    }
}

TEST_CASE("doctor: --all-under finds trunkgate's repositories only, and usage errors exit 2",
          "[e2e][doctor]") {
    git_sandbox sandbox;
    installed_with_a_push(sandbox);
    git_sandbox other; // not trunkgate's: skipped below --all-under
    const auto tree = sandbox.dir() + "/tree";
    REQUIRE(run({"mkdir", "-p", tree + "/team"}).status == 0);
    REQUIRE(run({"cp", "-a", sandbox.server(), tree + "/team/app.git"}).status == 0);
    REQUIRE(run({"cp", "-a", other.server(), tree + "/plain.git"}).status == 0);
    // The copy's wrappers chain the original's hooks; install rewrites them.
    REQUIRE(sandbox.trunkgate({"install", tree + "/team/app.git"}).status == 0);

    const auto checked = doctor(sandbox, {"--all-under", tree});
    INFO(checked.all());
    CHECK(checked.status == 0);
    CHECK(checked.out == tree + "/team/app.git: ok\n");

    REQUIRE(::unlink((tree + "/team/app.git/hooks/post-receive").c_str()) == 0);
    const auto broken = doctor(sandbox, {"--all-under", tree, "--format", "json"});
    CHECK(broken.status == 1);
    const auto report = json::parse(broken.out);
    CHECK(report["healthy"] == false);
    REQUIRE(report["repositories"].size() == 1);
    CHECK(report["repositories"][0]["problems"][0]["id"] == "hook-missing");
    CHECK(report["repositories"][0]["problems"][0]["path"] ==
          tree + "/team/app.git/hooks/post-receive");

    CHECK(doctor(sandbox, {"--format", "xml"}).status == 2);
    CHECK(doctor(sandbox, {"--all-under", sandbox.dir() + "/nonexistent"}).status == 2);
    CHECK(doctor(sandbox, {"--backlog-minutes", "0"}).status == 2);
    CHECK(doctor(sandbox, {"--no-such-option"}).status == 2);
}
