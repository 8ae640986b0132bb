// End-to-end: a spool entry the deliverer cannot read, parse or lock is never taken for one that
// is gone. With real permissions (root leaves root:root files in a repository served by
// www-data, as a `trunkgate deliver` run once by root did), `trunkgate deliver` sends the other
// events in order, names each bad entry with the reason and exits 1; `trunkgate events` lists
// them as `unreadable`; events.log has them; nothing is deleted; once fixed, they go out.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include "support/http_receiver.hpp"
#include "support/sandbox.hpp"
#include "support/users.hpp"

using namespace trunkgate::testing;
using namespace std::chrono_literals;
using Catch::Contains;
using json = nlohmann::json;

namespace {

std::string spool_dir(const git_sandbox& sandbox) {
    return sandbox.server() + "/trunkgate/spool";
}

// The ids of the queued events in queue order, once the push's background deliverer has tried
// each of them (the receiver refuses connections).
std::vector<std::string> queued_ids(const git_sandbox& sandbox, std::size_t count) {
    std::vector<std::string> ids;
    run_result listed;
    const bool tried = wait_until(
        [&] {
            listed = sandbox.trunkgate({"events", "--repo", sandbox.server(), "--format", "json"});
            if (listed.status != 0)
                return false;
            ids.clear();
            const auto listing = json::parse(listed.out);
            for (const auto& event : listing["events"])
                if (event["attempts"] == 1)
                    ids.push_back(event["id"]);
            return ids.size() == count;
        },
        10s);
    INFO(listed.all());
    REQUIRE(tried);
    return ids;
}

std::string entry_path(const git_sandbox& sandbox, const std::string& id) {
    return spool_dir(sandbox) + "/queue/" + id + ".json";
}

void give_to_root(const std::string& path, mode_t mode) {
    REQUIRE(::chown(path.c_str(), 0, 0) == 0);
    REQUIRE(::chmod(path.c_str(), mode) == 0);
}

} // namespace

TEST_CASE("events: entries the deliverer cannot read, parse or lock are reported, never lost",
          "[e2e][events][ownership]") {
    if (::geteuid() != 0)
        FAIL("this test leaves root-owned files in a repository served by www-data: run it as "
             "root (CI does)");
    const auto owner = ensure_user("www-data");
    http_receiver receiver(receiver_mode::absent);
    git_sandbox sandbox;
    sandbox.install("[events]\n[[events.endpoint]]\nurl = \"" + receiver.url() +
                    "\"\ntimeout_ms = 2000\n");
    sandbox.commit("feat: base");
    std::vector<std::string> refspecs{"origin"};
    for (int i = 0; i < 5; ++i)
        refspecs.push_back("HEAD:refs/heads/feature/f" + std::to_string(i));
    const auto pushed = sandbox.push(refspecs);
    INFO(pushed.all());
    REQUIRE(pushed.status == 0);
    const auto ids = queued_ids(sandbox, 5);
    // Due now again (the push's deliverer met a closed port), in the same queue order.
    for (const auto& id : ids)
        REQUIRE(sandbox.trunkgate({"events", "redeliver", "--repo", sandbox.server(), id}).status ==
                0);

    // The repository is www-data's, as a web server's is; then root leaves three bad entries.
    open_up(sandbox.dir());
    chown_tree(sandbox.server(), owner);
    const auto& root_owned = ids[1];
    const auto& corrupt = ids[2];
    const auto& unlockable = ids[3];
    give_to_root(entry_path(sandbox, root_owned), 0640);
    const auto corrupt_text = read_file(entry_path(sandbox, corrupt)).substr(0, 40);
    write_file(entry_path(sandbox, corrupt), corrupt_text);
    const auto lock = spool_dir(sandbox) + "/queue/" + unlockable + ".lock";
    write_file(lock, "");
    give_to_root(lock, 0600);

    receiver.set_mode(receiver_mode::answer, 200);
    const auto deliver = [&] {
        return run_as(owner, {bin_path("trunkgate"), "deliver", "--repo", sandbox.server()},
                      sandbox.dir());
    };
    const auto sent = deliver();
    INFO(sent.all());
    CHECK(sent.status == 1);
    const auto prefix = sandbox.server() + ": ";
    CHECK_THAT(sent.out, Contains(prefix + "unreadable " + root_owned +
                                  ": Permission denied (owner root, mode 0640, read as " + owner +
                                  "; run as the repository's owner)\n"));
    CHECK_THAT(sent.out, Contains(prefix + "unreadable " + corrupt +
                                  ": malformed spool entry: not JSON: "
                                  "[json.exception.parse_error.101]"));
    CHECK_THAT(sent.out,
               Contains(prefix + "unreadable " + unlockable + ": cannot open its lock file queue/" +
                        unlockable + ".lock: Permission denied (owner root, mode 0600, read as " +
                        owner));
    CHECK_THAT(sent.out, Contains("2 delivered, 0 retrying, 0 failed, 0 dead, 0 busy, "
                                  "3 unreadable"));

    // The good ones went out, in queue order; the bad ones are all still there.
    const auto requests = receiver.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].header("X-GitHub-Delivery") == ids[0]);
    CHECK(requests[1].header("X-GitHub-Delivery") == ids[4]);
    for (const auto& id : {root_owned, corrupt, unlockable})
        CHECK(std::filesystem::exists(entry_path(sandbox, id)));
    CHECK(read_file(entry_path(sandbox, corrupt)) == corrupt_text);

    // An admin sees them, with the reason, as the owner and in JSON.
    const auto listed = run_as(
        owner, {bin_path("trunkgate"), "events", "--repo", sandbox.server(), "--format", "json"},
        sandbox.dir());
    INFO(listed.all());
    REQUIRE(listed.status == 0);
    std::map<std::string, json> by_id;
    const auto listing = json::parse(listed.out);
    for (const auto& event : listing["events"])
        by_id[event["id"]] = event;
    REQUIRE(by_id.size() == 3);
    for (const auto& id : {root_owned, corrupt, unlockable}) {
        CHECK(by_id[id]["state"] == "unreadable");
        CHECK(by_id[id]["area"] == "queue");
    }
    CHECK_THAT(by_id[root_owned]["last_error"].get<std::string>(),
               Contains("Permission denied (owner root, mode 0640"));
    CHECK_THAT(by_id[corrupt]["last_error"].get<std::string>(),
               Contains("[json.exception.parse_error.101]"));
    CHECK_THAT(by_id[unlockable]["last_error"].get<std::string>(),
               Contains("cannot open its lock file"));
    const auto text =
        run_as(owner, {bin_path("trunkgate"), "events", "--repo", sandbox.server()}, sandbox.dir());
    CHECK_THAT(text.out, Contains(corrupt + "  unreadable  queue/" + corrupt + ".json  "));
    CHECK_THAT(text.out, Contains("0 waiting, failed or dead; 3 unreadable; 2 delivered"));
    // It cannot be redelivered either, and says why.
    const auto again = run_as(
        owner, {bin_path("trunkgate"), "events", "redeliver", "--repo", sandbox.server(), corrupt},
        sandbox.dir());
    CHECK(again.status == 3);
    CHECK_THAT(again.err, Contains("event " + corrupt + " cannot be read: malformed spool entry"));
    const auto log = read_file(spool_dir(sandbox) + "/events.log");
    for (const auto& id : {root_owned, corrupt, unlockable})
        CHECK_THAT(log, Contains("unreadable queue/" + id + ".json: "));

    // Once the owner is right again, those two go out; the corrupt one stays listed.
    chown_tree(sandbox.server(), owner);
    const auto fixed = deliver();
    INFO(fixed.all());
    CHECK(fixed.status == 1);
    CHECK_THAT(fixed.out, Contains("2 delivered, 0 retrying, 0 failed, 0 dead, 0 busy, "
                                   "1 unreadable"));
    REQUIRE(receiver.request_count() == 4);
    const auto later = receiver.requests();
    CHECK(later[2].header("X-GitHub-Delivery") == root_owned);
    CHECK(later[3].header("X-GitHub-Delivery") == unlockable);
    CHECK(std::filesystem::exists(entry_path(sandbox, corrupt)));
}
