// End-to-end: `trunkgate doctor` on the commit-graph (issue 13). A history of 10,000 commits or
// more without a graph gets the note commit-graph-missing with the command that writes one; a
// graph git's own reader would ignore or the hooks would not use gets commit-graph-unused with the
// reason; a graph whose checksum fails gets the problem commit-graph-corrupt. Histories are made
// by git fast-import, graphs by git commit-graph, and each fix doctor gives is run to see that it
// clears what it was given for.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "support/doctor_support.hpp"
#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using namespace trunkgate::testing::doctoring;
using Catch::Contains;
using nlohmann::json;

namespace {

// docs/cli.md, commit-graph-missing: from this many commits on.
constexpr int large_history = 10000;

// An installed repository with one accepted push, so its main exists.
void installed_with_a_push(git_sandbox& sandbox) {
    sandbox.install();
    sandbox.commit("feat: first", "a.txt");
    const auto pushed = sandbox.push({"origin", "main"});
    INFO(pushed.all());
    REQUIRE(pushed.status == 0);
}

// `git ARGS` in the server repository, required to succeed.
void server_git(const git_sandbox& sandbox, const std::vector<std::string>& args) {
    const auto done = sandbox.git_in(sandbox.server(), args);
    INFO(done.all());
    REQUIRE(done.status == 0);
}

// Appends `count` empty commits to the server's main with git fast-import.
void import_commits(const git_sandbox& sandbox, int count) {
    std::string stream;
    for (int i = 0; i < count; ++i) {
        stream += "commit refs/heads/main\ncommitter Bulk <bulk@example.com> " +
                  std::to_string(1700000000 + i) + " +0000\ndata 5\nbulk\n";
        if (i == 0)
            stream += "from " + sandbox.server_rev("main") + "\n";
        stream += "\n";
    }
    // glibc gives the heap back after each commit fast-import frees and takes it again for the
    // next, two brk calls a commit: on a Firecracker VM, where brk costs about 100 us, 10,000
    // commits took 18 s; with a trim threshold 0.3 s.
    const auto imported = run(
        {"git", "--git-dir=" + sandbox.server(), "fast-import", "--quiet"}, sandbox.dir(),
        sandbox.environment({{"GLIBC_TUNABLES", "glibc.malloc.trim_threshold=268435456"}}), stream);
    INFO(imported.all());
    REQUIRE(imported.status == 0);
}

int commit_count(const git_sandbox& sandbox) {
    const auto counted = sandbox.git_in(sandbox.server(), {"rev-list", "--count", "main"});
    REQUIRE(counted.status == 0);
    return std::stoi(counted.out);
}

// What follows "; fix: " on a doctor line.
std::string fix_of(const std::string& line) {
    const auto at = line.find("; fix: ");
    REQUIRE(at != std::string::npos);
    return line.substr(at + 7);
}

// Runs a fix doctor gave, as a shell would.
void run_fix(const git_sandbox& sandbox, const std::string& fix) {
    const auto fixed = run({"sh", "-c", fix}, sandbox.dir(), sandbox.environment());
    INFO(fix + "\n" + fixed.all());
    REQUIRE(fixed.status == 0);
}

// The one finding `id` in the JSON report's `list` ("problems" or "notes").
json finding(const git_sandbox& sandbox, const std::string& list, const std::string& id) {
    const auto as_json = doctor(sandbox, {sandbox.server(), "--format", "json"});
    const auto report = json::parse(as_json.out);
    REQUIRE(report["repositories"].size() == 1);
    json found;
    for (const auto& each : report["repositories"][0][list])
        if (each["id"] == id) {
            REQUIRE(found.is_null());
            found = each;
        }
    INFO(as_json.out);
    REQUIRE(!found.is_null());
    return found;
}

void make_writable(const std::string& path) {
    REQUIRE(::chmod(path.c_str(), 0644) == 0); // git writes its graphs 0444
}

void flip_middle_byte(const std::string& path) {
    make_writable(path);
    auto bytes = read_file(path);
    REQUIRE(bytes.size() > 4096);
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0xff);
    write_file(path, bytes);
}

std::string only_chain_layer(const std::string& server) {
    const auto chain = read_file(server + "/objects/info/commit-graphs/commit-graph-chain");
    const auto layers = lines_of(chain);
    REQUIRE(layers.size() == 1);
    return server + "/objects/info/commit-graphs/graph-" + layers[0] + ".graph";
}

} // namespace

TEST_CASE("doctor: commit-graph-missing from 10,000 commits on, until a graph is written",
          "[e2e][doctor][commit-graph]") {
    git_sandbox sandbox;
    installed_with_a_push(sandbox);
    const auto server = sandbox.server();
    const auto write = "git --git-dir=" + server + " commit-graph write --reachable";

    import_commits(sandbox, large_history - 2);
    REQUIRE(commit_count(sandbox) == large_history - 1);
    const auto below = doctor(sandbox, {server});
    INFO(below.all());
    CHECK(below.status == 0);
    CHECK(below.out == server + ": ok\n");

    import_commits(sandbox, 1);
    REQUIRE(commit_count(sandbox) == large_history);
    const auto large = doctor(sandbox, {server});
    INFO(large.all());
    CHECK(large.status == 0); // a note: the hooks are right, only slower
    const auto lines = lines_of_id(large, "commit-graph-missing");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] ==
          server +
              ": [commit-graph-missing] note: the history has at least 10000 commits and no "
              "commit-graph (objects/info/commit-graph or "
              "objects/info/commit-graphs/commit-graph-chain): trunkgate's hooks, like git, read "
              "every commit object a walk passes, so a behind count or a [commits] rule on an old "
              "branch costs in proportion to the history; fix: " +
              write + "; to keep it current: git --git-dir=" + server +
              " maintenance start, or `git gc` now and then (gc.writeCommitGraph is true by "
              "default)");
    const auto note = finding(sandbox, "notes", "commit-graph-missing");
    CHECK(note["path"] == server + "/objects/info");
    CHECK_THAT(note["fix"].get<std::string>(), Catch::StartsWith(write + ";"));

    run_fix(sandbox, write);
    const auto written = doctor(sandbox, {server});
    INFO(written.all());
    CHECK(written.status == 0);
    CHECK(written.out == server + ": ok\n");
}

TEST_CASE("doctor: a commit-graph the hooks cannot use, or whose checksum fails",
          "[e2e][doctor][commit-graph]") {
    git_sandbox sandbox;
    installed_with_a_push(sandbox);
    const auto server = sandbox.server();
    const auto graph = server + "/objects/info/commit-graph";
    const auto write = "git --git-dir=" + server + " commit-graph write --reachable";
    // Enough commits that the middle of the graph lies in its commit data, not in the fanout.
    import_commits(sandbox, 300);

    SECTION("a sound graph, single or chained: nothing to say") {
        server_git(sandbox, {"commit-graph", "write", "--reachable"});
        CHECK(doctor(sandbox, {server}).out == server + ": ok\n");
        REQUIRE(::unlink(graph.c_str()) == 0);
        server_git(sandbox, {"commit-graph", "write", "--reachable", "--split"});
        CHECK(doctor(sandbox, {server}).out == server + ": ok\n");
    }
    SECTION("commit-graph-corrupt: a flipped byte in the middle of the file") {
        server_git(sandbox, {"commit-graph", "write", "--reachable"});
        flip_middle_byte(graph);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1); // a problem: a wrong parent or date can give a wrong verdict
        const auto line = problem_line(checked, server, "commit-graph-corrupt");
        CHECK_THAT(line, Contains("[commit-graph-corrupt] " + graph +
                                  ": the checksum does not match the contents: "));
        CHECK(fix_of(line) == "rm -f " + graph + " && " + write);
        const auto problem = finding(sandbox, "problems", "commit-graph-corrupt");
        CHECK(problem["path"] == graph);

        run_fix(sandbox, fix_of(line));
        const auto fixed = doctor(sandbox, {server});
        INFO(fixed.all());
        CHECK(fixed.status == 0);
        CHECK(fixed.out == server + ": ok\n");
    }
    SECTION("commit-graph-corrupt: a flipped byte in a layer of a chain") {
        server_git(sandbox, {"commit-graph", "write", "--reachable", "--split"});
        const auto layer = only_chain_layer(server);
        flip_middle_byte(layer);
        const auto checked = doctor(sandbox, {server});
        CHECK(checked.status == 1);
        const auto line = problem_line(checked, server, "commit-graph-corrupt");
        CHECK_THAT(line, Contains(layer + ": the checksum does not match the contents"));
        CHECK(fix_of(line) == "rm -rf " + server + "/objects/info/commit-graphs && " + write);

        run_fix(sandbox, fix_of(line));
        CHECK(doctor(sandbox, {server}).out == server + ": ok\n");
    }
    SECTION("commit-graph-unused: a truncated graph, with the reason it fails validation") {
        server_git(sandbox, {"commit-graph", "write", "--reachable"});
        make_writable(graph);
        struct stat info {};
        REQUIRE(::stat(graph.c_str(), &info) == 0);
        REQUIRE(::truncate(graph.c_str(), info.st_size / 2) == 0);
        const auto checked = doctor(sandbox, {server});
        INFO(checked.all());
        CHECK(checked.status == 0); // a note: the hooks, like git, walk the objects instead
        const auto lines = lines_of_id(checked, "commit-graph-unused");
        REQUIRE(lines.size() == 1);
        CHECK_THAT(lines[0], Catch::StartsWith(server + ": [commit-graph-unused] note: " + graph +
                                               " is not used: " + graph + ": chunk "));
        CHECK_THAT(lines[0], Contains(" lies outside the file or out of order; "));
        CHECK(fix_of(lines[0]) == write);
        CHECK(finding(sandbox, "notes", "commit-graph-unused")["path"] == graph);

        run_fix(sandbox, write);
        CHECK(doctor(sandbox, {server}).out == server + ": ok\n");
    }
    SECTION("commit-graph-unused: core.commitGraph = false") {
        server_git(sandbox, {"commit-graph", "write", "--reachable"});
        server_git(sandbox, {"config", "core.commitGraph", "false"});
        const auto checked = doctor(sandbox, {server});
        INFO(checked.all());
        CHECK(checked.status == 0);
        const auto lines = lines_of_id(checked, "commit-graph-unused");
        REQUIRE(lines.size() == 1);
        CHECK(lines[0] == server + ": [commit-graph-unused] note: " + graph +
                              " is not used: core.commitGraph is false, so trunkgate's hooks, "
                              "like git, walk history through the commit objects (slower on a "
                              "long history); fix: git --git-dir=" +
                              server + " config --unset-all core.commitGraph");

        run_fix(sandbox, fix_of(lines[0]));
        CHECK(doctor(sandbox, {server}).out == server + ": ok\n");
    }
    SECTION("a small history without a graph: nothing to say") {
        CHECK(doctor(sandbox, {server}).out == server + ": ok\n");
    }
}
