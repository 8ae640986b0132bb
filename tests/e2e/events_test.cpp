// End-to-end: push events from the post-receive hook, to a real receiver (adnanh/webhook) and to
// a receiver of our own that fails in each way a network can. The push never waits on the
// receiver, no event is lost, and once the receiver is back each event arrives once, signed,
// with its original delivery id and body.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>

#include "support/http_receiver.hpp"
#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using namespace std::chrono_literals;
using Catch::Contains;
using json = nlohmann::json;
using std::chrono::steady_clock;

namespace {

const std::string secret_variable = "TRUNKGATE_WEBHOOK_SECRET";
// Distinctive, so a leak anywhere is found by a plain substring search.
const std::string secret = "tg-secret-7f3a9c51e2";

std::map<std::string, std::string> with_secret(const std::string& value = secret) {
    return {{secret_variable, value}};
}

std::string events_policy(const std::string& url, const std::string& deliver = "background",
                          long timeout_ms = 2000) {
    return "[events]\ndeliver = \"" + deliver + "\"\n\n[[events.endpoint]]\nurl = \"" + url +
           "\"\nsecret_env = \"" + secret_variable +
           "\"\ntimeout_ms = " + std::to_string(timeout_ms) + "\n";
}

std::string spool_dir(const git_sandbox& sandbox) {
    return sandbox.server() + "/trunkgate/spool";
}

// The entries of one spool area ("queue", "delivered", "dead") as their files hold them,
// sorted by delivery id.
std::vector<json> spooled(const git_sandbox& sandbox, const std::string& area) {
    std::vector<json> entries;
    std::error_code missing;
    for (const auto& file :
         std::filesystem::directory_iterator(spool_dir(sandbox) + "/" + area, missing)) {
        const auto name = file.path().filename().string();
        if (name[0] == '.' || file.path().extension() != ".json")
            continue;
        // Entries are replaced by rename, so a file is whole or gone (moved on meanwhile).
        const auto text = read_file(file.path().string());
        if (!text.empty())
            entries.push_back(json::parse(text));
    }
    std::sort(entries.begin(), entries.end(),
              [](const json& a, const json& b) { return a["id"] < b["id"]; });
    return entries;
}

// Waits until `count` entries are queued and each has been tried at least once (the detached
// deliverer of the push has written its outcome back).
bool wait_for_attempts(const git_sandbox& sandbox, std::size_t count,
                       std::chrono::milliseconds timeout) {
    return wait_until(
        [&] {
            const auto queued = spooled(sandbox, "queue");
            return queued.size() == count &&
                   std::all_of(queued.begin(), queued.end(),
                               [](const json& entry) { return entry["attempts"] >= 1; });
        },
        timeout);
}

// Waits until `count` entries are in delivered/ and none is left in queue/ (an entry is written
// to delivered/ before it leaves the queue).
bool wait_for_delivered(const git_sandbox& sandbox, std::size_t count,
                        std::chrono::milliseconds timeout) {
    return wait_until(
        [&] {
            return spooled(sandbox, "delivered").size() == count &&
                   spooled(sandbox, "queue").empty();
        },
        timeout);
}

json events_listing(const git_sandbox& sandbox) {
    const auto listed =
        sandbox.trunkgate({"events", "--repo", sandbox.server(), "--format", "json"});
    INFO(listed.all());
    REQUIRE(listed.status == 0);
    return json::parse(listed.out);
}

run_result deliver(const git_sandbox& sandbox,
                   const std::map<std::string, std::string>& env = with_secret()) {
    return sandbox.trunkgate({"deliver", "--repo", sandbox.server()}, "", env);
}

void redeliver(const git_sandbox& sandbox, const std::string& id) {
    const auto queued = sandbox.trunkgate({"events", "redeliver", "--repo", sandbox.server(), id});
    INFO(queued.all());
    REQUIRE(queued.status == 0);
}

std::vector<received_request> since(const std::vector<received_request>& requests,
                                    std::size_t first) {
    return {requests.begin() + static_cast<std::ptrdiff_t>(std::min(first, requests.size())),
            requests.end()};
}

std::size_t count_with_id(const std::vector<received_request>& requests, const std::string& id) {
    return static_cast<std::size_t>(
        std::count_if(requests.begin(), requests.end(), [&](const received_request& request) {
            return request.header("X-GitHub-Delivery") == id;
        }));
}

// "0.1.0", from `trunkgate version`.
std::string trunkgate_version() {
    static const std::string version = [] {
        const auto shown = run({bin_path("trunkgate"), "version"}).out; // trunkgate 0.1.0 (...)
        const auto start = shown.find(' ') + 1;
        return shown.substr(start, shown.find(' ', start) - start);
    }();
    return version;
}

// The request is the spooled event `entry`, sent as GitHub sends a push event, signed with
// `key`.
void check_is_delivery_of(const received_request& request, const json& entry,
                          const std::string& key = secret) {
    INFO("delivery " << entry["id"].get<std::string>());
    CHECK(request.method == "POST");
    CHECK(request.target == "/hooks/push");
    CHECK(request.header("Content-Type") == "application/json");
    CHECK(request.header("User-Agent") == "GitHub-Hookshot/trunkgate-" + trunkgate_version());
    CHECK(request.header("X-GitHub-Event") == "push");
    CHECK(request.header("X-GitHub-Delivery") == entry["id"]);
    CHECK(request.header("X-Trunkgate-Delivery") == entry["id"]);
    CHECK(request.body == entry["body"].get<std::string>());
    CHECK(request.header("X-Hub-Signature-256") == hub_signature(key, request.body));
    CHECK(request.header("X-Hub-Signature") == hub_signature(key, request.body, "sha1"));
    const auto repository_id = json::parse(request.body)["repository"]["id"];
    CHECK(request.header("X-GitHub-Hook-Installation-Target-Type") == "repository");
    CHECK(request.header("X-GitHub-Hook-Installation-Target-ID") == repository_id.dump());
    CHECK(std::stoll(request.header("X-GitHub-Hook-ID")) > 0);
}

// ---------------------------------------------------------------------------------------------
// adnanh/webhook, as a pipeline backend would run it.

// webhook on a free loopback port with one hook, "push", that runs only for a payload signed
// with `hmac_secret` and records the fields it is passed, one per line, in received/<id>.<pid>.
// Killed when it goes out of scope.
class webhook_server {
  public:
    explicit webhook_server(const std::string& hmac_secret) {
        const auto script = dir_ / "record.sh";
        write_file(dir_ / "received/.keep", "");
        write_file(script, "#!/bin/sh\nset -e\ndir='" + dir_ / "received" +
                               "'\nprintf '%s\\n' \"$@\" > \"$dir/.$1.$$\"\n"
                               "mv \"$dir/.$1.$$\" \"$dir/$1.$$\"\n");
        std::filesystem::permissions(script, std::filesystem::perms::owner_all);
        const auto payload = [](const std::string& name) {
            return json{{"source", "payload"}, {"name", name}};
        };
        const json hooks = json::array(
            {{{"id", "push"},
              {"execute-command", script},
              {"command-working-directory", dir_.path()},
              {"pass-arguments-to-command",
               {{{"source", "header"}, {"name", "X-GitHub-Delivery"}},
                {{"source", "header"}, {"name", "X-GitHub-Event"}},
                payload("ref"),
                payload("before"),
                payload("after"),
                payload("created"),
                {{"source", "header"}, {"name", "X-Trunkgate-Total-Commits"}},
                payload("commits.0.id"),
                payload("commits"),
                payload("head_commit.id"),
                payload("pusher.name"),
                payload("repository.full_name")}},
              // An unsigned request is refused too (webhook answers 200 by default).
              {"trigger-rule-mismatch-http-response-code", 403},
              // Both signatures, each checked by webhook itself.
              {"trigger-rule",
               {{"and",
                 json::array(
                     {{{"match",
                        {{"type", "payload-hmac-sha256"},
                         {"secret", hmac_secret},
                         {"parameter", {{"source", "header"}, {"name", "X-Hub-Signature-256"}}}}}},
                      {{"match",
                        {{"type", "payload-hmac-sha1"},
                         {"secret", hmac_secret},
                         {"parameter",
                          {{"source", "header"}, {"name", "X-Hub-Signature"}}}}}}})}}}}});
        write_file(dir_ / "hooks.json", hooks.dump(2));
        // unused_port() can race with another program taking the port: try a few.
        for (int attempt = 0; attempt < 3; ++attempt) {
            port_ = unused_port();
            process_ = std::make_unique<background_process>(
                std::vector<std::string>{"webhook", "-hooks", dir_ / "hooks.json", "-ip",
                                         "127.0.0.1", "-port", std::to_string(port_), "-verbose"},
                dir_.path(), std::map<std::string, std::string>{}, dir_ / "webhook.log");
            if (wait_for_port(port_, 5s))
                return;
            process_.reset();
        }
        throw std::runtime_error("webhook did not start (Debian package webhook; scripts/test "
                                 "installs it): " +
                                 log());
    }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hooks/push"; }
    std::string log() const { return read_file(dir_ / "webhook.log"); }

    /// The argument lines of each time the hook ran for delivery `id`.
    std::vector<std::vector<std::string>> runs_for(const std::string& id) const {
        std::vector<std::vector<std::string>> runs;
        for (const auto& file : std::filesystem::directory_iterator(dir_ / "received")) {
            const auto name = file.path().filename().string();
            if (name.rfind(id + ".", 0) != 0)
                continue;
            std::vector<std::string> lines;
            std::istringstream text(read_file(file.path().string()));
            for (std::string line; std::getline(text, line);)
                lines.push_back(line);
            runs.push_back(lines);
        }
        return runs;
    }

  private:
    temp_dir dir_;
    int port_ = 0;
    std::unique_ptr<background_process> process_; // destroyed (killed) before dir_
};

// The fields webhook passed to the hook, by name.
struct recorded_push {
    std::string delivery, event, ref, before, after, created, total_commits, first_commit;
    json commits;
    std::string head_commit, pusher, full_name;
};

recorded_push parse_run(const std::vector<std::string>& lines) {
    REQUIRE(lines.size() == 12);
    return {lines[0], lines[1],  lines[2],
            lines[3], lines[4],  lines[5],
            lines[6], lines[7],  json::parse(lines[8]),
            lines[9], lines[10], lines[11]};
}

// The single run of the hook for delivery `id`, once webhook has run it (it answers first).
recorded_push single_run(const webhook_server& webhook, const std::string& id) {
    if (!wait_until([&] { return !webhook.runs_for(id).empty(); }, 5s))
        FAIL("webhook never ran the hook for " << id << "; its log:\n" << webhook.log());
    const auto runs = webhook.runs_for(id);
    REQUIRE(runs.size() == 1);
    return parse_run(runs.front());
}

std::vector<std::string> commit_ids(const json& commits) {
    std::vector<std::string> ids;
    for (const auto& commit : commits)
        ids.push_back(commit["id"]);
    return ids;
}

} // namespace

TEST_CASE("events: a push reaches adnanh/webhook signed and complete", "[e2e][events]") {
    webhook_server webhook(secret);
    git_sandbox sandbox;
    sandbox.install(events_policy(webhook.url()));

    const auto first = sandbox.commit("feat: first");
    const auto created = sandbox.push({"origin", "main"}, with_secret());
    REQUIRE(created.status == 0);
    CHECK_THAT(created.err, Contains("remote: trunkgate: 1 event queued for 127.0.0.1:"));
    REQUIRE(wait_for_delivered(sandbox, 1, 5s));
    const auto creation_id = spooled(sandbox, "delivered").front()["id"].get<std::string>();
    const auto creation = single_run(webhook, creation_id);
    CHECK(creation.delivery == creation_id);
    CHECK(creation.event == "push");
    CHECK(creation.ref == "refs/heads/main");
    CHECK(creation.before == zero_id);
    CHECK(creation.after == first);
    CHECK(creation.created == "true");
    CHECK(creation.first_commit == first);

    const auto second = sandbox.commit("feat: second");
    const auto third = sandbox.commit("fix: third");
    const auto updated = sandbox.push({"origin", "main"}, with_secret());
    REQUIRE(updated.status == 0);
    REQUIRE(wait_for_delivered(sandbox, 2, 5s));
    std::string update_id;
    for (const auto& entry : spooled(sandbox, "delivered"))
        if (entry["id"] != creation_id)
            update_id = entry["id"];
    const auto update = single_run(webhook, update_id);
    CHECK(update.ref == "refs/heads/main");
    CHECK(update.before == first);
    CHECK(update.after == third);
    CHECK(update.created == "false");
    CHECK(update.total_commits == "2");
    CHECK(update.first_commit == second);
    CHECK(commit_ids(update.commits) == std::vector<std::string>{second, third});
    CHECK(update.commits[1]["message"] == "fix: third"); // no trailing newline, as GitHub
    CHECK(update.head_commit == third);
    CHECK(update.pusher == "dev");
    // No [repository] full_name: the parent directory's name and the repository's.
    CHECK(update.full_name == std::filesystem::path(sandbox.dir()).filename().string() + "/server");
    CHECK(spooled(sandbox, "queue").empty());

    SECTION("a wrong secret is refused, and the event waits for the right one") {
        const auto fourth = sandbox.commit("feat: fourth");
        const auto pushed = sandbox.push({"origin", "main"}, with_secret("not-the-secret"));
        REQUIRE(pushed.status == 0);
        CHECK(sandbox.server_rev("refs/heads/main") == fourth);
        REQUIRE(wait_for_attempts(sandbox, 1, 5s));
        const auto refused = spooled(sandbox, "queue").front();
        // webhook answers 500 for a signature that does not match: retried later, not lost.
        CHECK(refused["state"] == "queued");
        CHECK(refused["last_status"] == 500);
        CHECK(refused["last_error"] == "HTTP 500");
        const auto id = refused["id"].get<std::string>();
        CHECK(webhook.runs_for(id).empty());
        const auto listing = events_listing(sandbox);
        REQUIRE(listing["events"].size() == 1);
        CHECK(listing["events"][0]["id"] == id);
        CHECK(listing["events"][0]["last_error"] == "HTTP 500");

        redeliver(sandbox, id);
        const auto sent = deliver(sandbox);
        INFO(sent.all());
        CHECK(sent.status == 0);
        CHECK_THAT(sent.out, Contains("1 delivered, 0 retrying"));
        const auto arrived = single_run(webhook, id);
        CHECK(arrived.delivery == id);
        CHECK(arrived.before == third);
        CHECK(arrived.after == fourth);
        CHECK(spooled(sandbox, "queue").empty());
    }

    SECTION("an unsigned event is refused and kept as failed") {
        sandbox.write_server_policy("[events]\n[[events.endpoint]]\nurl = \"" + webhook.url() +
                                    "\"\n");
        sandbox.commit("feat: unsigned");
        REQUIRE(sandbox.push({"origin", "main"}).status == 0);
        REQUIRE(wait_for_attempts(sandbox, 1, 5s));
        const auto refused = spooled(sandbox, "queue").front();
        CHECK(refused["state"] == "failed");
        CHECK(refused["last_error"] == "HTTP 403");
        CHECK(webhook.runs_for(refused["id"]).empty());
    }
}

namespace {

// One way a receiver can fail, and what trunkgate must record about it.
struct fault {
    receiver_mode mode;
    int status;        ///< its answer in receiver_mode::answer; last_status (0: none came back)
    long timeout_ms;   ///< the endpoint's timeout
    std::string state; ///< queued (retried later) or failed (a permanent 4xx)
    std::string error; ///< part of last_error
};

// A push while the receiver fails in `broken` returns at once with its events spooled; once the
// receiver is back, `trunkgate deliver` sends each of them exactly once, as it was first sent.
void survives(const fault& broken) {
    http_receiver receiver(broken.mode, broken.status);
    git_sandbox sandbox;
    sandbox.install(events_policy(receiver.url(), "background", broken.timeout_ms));
    const auto tip = sandbox.commit("feat: first");

    const auto started = steady_clock::now();
    const auto pushed =
        sandbox.push({"origin", "main", "main:refs/heads/feature/x"}, with_secret());
    const auto took = steady_clock::now() - started;
    INFO(pushed.all());
    REQUIRE(pushed.status == 0);
    // Every request that reached the receiver so far is still waiting for its answer: the push
    // did not wait for the delivery (with a hanging receiver it would have waited timeout_ms for
    // each event, 6 s in all).
    if (broken.mode == receiver_mode::hang)
        CHECK(receiver.in_flight() == receiver.request_count());
    CHECK(took < 5s);
    CHECK(sandbox.server_rev("refs/heads/main") == tip);
    CHECK(sandbox.server_rev("refs/heads/feature/x") == tip);
    CHECK_THAT(remote_lines(pushed),
               Catch::VectorContains("trunkgate: 2 events queued for 127.0.0.1:" +
                                     std::to_string(receiver.port())));

    // The detached deliverer tried each once and wrote down why it failed.
    REQUIRE(wait_for_attempts(sandbox, 2, std::chrono::milliseconds(2 * broken.timeout_ms + 3000)));
    const auto queued = spooled(sandbox, "queue");
    std::set<std::string> refs;
    for (const auto& entry : queued) {
        INFO(entry.dump());
        refs.insert(entry["ref"].get<std::string>());
        CHECK(entry["state"] == broken.state);
        CHECK(entry["attempts"] == 1);
        CHECK(entry["last_status"] == broken.status);
        CHECK_FALSE(entry["last_error"].get<std::string>().empty());
        CHECK_THAT(entry["last_error"].get<std::string>(), Contains(broken.error));
    }
    CHECK(refs == std::set<std::string>{"refs/heads/main", "refs/heads/feature/x"});
    // ... and an admin sees it.
    const auto listing = events_listing(sandbox);
    REQUIRE(listing["events"].size() == 2);
    for (const auto& listed : listing["events"]) {
        CHECK(listed["state"] == broken.state);
        CHECK_THAT(listed["last_error"].get<std::string>(), Contains(broken.error));
    }
    if (broken.mode != receiver_mode::absent) {
        // The failed attempts carried the same ids and bodies the retries will carry.
        const auto tried = receiver.requests();
        CHECK(tried.size() == 2);
        for (const auto& entry : queued) {
            REQUIRE(count_with_id(tried, entry["id"]) == 1);
            for (const auto& request : tried)
                if (request.header("X-GitHub-Delivery") == entry["id"])
                    check_is_delivery_of(request, entry);
        }
    }

    receiver.set_mode(receiver_mode::answer, 200);
    const auto before_recovery = receiver.request_count();
    // Not due yet (backoff) or failed for good: a plain deliver leaves them alone.
    const auto early = deliver(sandbox);
    CHECK_THAT(early.out, Contains("0 delivered"));
    CHECK(receiver.request_count() == before_recovery);

    for (const auto& entry : queued)
        redeliver(sandbox, entry["id"]);
    const auto sent = deliver(sandbox);
    INFO(sent.all());
    CHECK(sent.status == 0);
    CHECK_THAT(sent.out, Contains("2 delivered, 0 retrying, 0 failed, 0 dead, 0 busy"));
    const auto recovered = since(receiver.requests(), before_recovery);
    CHECK(recovered.size() == 2);
    for (const auto& entry : queued) {
        REQUIRE(count_with_id(recovered, entry["id"]) == 1);
        for (const auto& request : recovered)
            if (request.header("X-GitHub-Delivery") == entry["id"])
                check_is_delivery_of(request, entry);
    }
    CHECK(spooled(sandbox, "queue").empty());
    CHECK(spooled(sandbox, "delivered").size() == 2);
    const auto after = events_listing(sandbox);
    CHECK(after["events"].empty());
    CHECK(after["delivered"] == 2);

    // Delivered is done: nothing is sent twice.
    const auto again = deliver(sandbox);
    CHECK(again.status == 0);
    CHECK(receiver.request_count() == before_recovery + 2);
}

} // namespace

TEST_CASE("events: receiver absent (connection refused): nothing is lost", "[e2e][events]") {
    survives({receiver_mode::absent, 0, 2000, "queued", "Failed to connect"});
}

TEST_CASE("events: receiver hanging: the push does not wait, nothing is lost", "[e2e][events]") {
    survives({receiver_mode::hang, 0, 3000, "queued", "timed out"});
}

TEST_CASE("events: receiver answering 500: retried later, nothing is lost", "[e2e][events]") {
    survives({receiver_mode::answer, 500, 2000, "queued", "HTTP 500"});
}

TEST_CASE("events: receiver answering 410: kept as failed until redelivered", "[e2e][events]") {
    survives({receiver_mode::answer, 410, 2000, "failed", "HTTP 410"});
}

TEST_CASE("events: receiver closing mid-response: nothing is lost", "[e2e][events]") {
    survives({receiver_mode::close_mid_response, 0, 2000, "queued", "Empty reply"});
}

TEST_CASE("events: receiver answering garbage: nothing is lost", "[e2e][events]") {
    survives({receiver_mode::garbage, 0, 2000, "queued", "HTTP/0.9"});
}

namespace {

// Pushes `count` new branches at once while nothing listens at `receiver`, and waits until the
// push's own deliverer has failed on each: `count` events queued, due again only after backoff.
std::vector<json> queue_while_absent(git_sandbox& sandbox, int count) {
    sandbox.commit("feat: base");
    std::vector<std::string> refspecs{"origin"};
    for (int i = 0; i < count; ++i)
        refspecs.push_back("HEAD:refs/heads/feature/f" + std::to_string(i));
    const auto pushed = sandbox.push(refspecs, with_secret());
    INFO(pushed.all());
    REQUIRE(pushed.status == 0);
    REQUIRE(wait_for_attempts(sandbox, static_cast<std::size_t>(count), 5s));
    return spooled(sandbox, "queue");
}

} // namespace

TEST_CASE("events: kill -9 of the deliverer mid-flight loses nothing", "[e2e][events]") {
    http_receiver receiver(receiver_mode::absent);
    git_sandbox sandbox;
    // A long timeout: the deliverer is still waiting on the receiver when it is killed.
    sandbox.install(events_policy(receiver.url(), "background", 20000));
    const auto queued = queue_while_absent(sandbox, 1);
    const auto& entry = queued.front();
    const auto id = entry["id"].get<std::string>();

    receiver.set_mode(receiver_mode::hang);
    redeliver(sandbox, id);
    {
        background_process deliverer({bin_path("trunkgate"), "deliver", "--repo", sandbox.server()},
                                     sandbox.clone(), sandbox.environment(with_secret()),
                                     sandbox.dir() + "/deliver.log");
        REQUIRE(receiver.wait_for_requests(1, 5s));
        CHECK(receiver.requests().front().header("X-GitHub-Delivery") == id);
        deliverer.kill(SIGKILL);
        CHECK(deliverer.wait() == 128 + SIGKILL);
    }

    // Still queued, whole, with its id and body; listed for the admin.
    const auto after_kill = spooled(sandbox, "queue");
    REQUIRE(after_kill.size() == 1);
    CHECK(after_kill.front()["id"] == id);
    CHECK(after_kill.front()["body"] == entry["body"]);
    CHECK(spooled(sandbox, "delivered").empty());
    const auto listing = events_listing(sandbox);
    REQUIRE(listing["events"].size() == 1);
    CHECK(listing["events"][0]["id"] == id);

    // The killed run's lock died with it: the next run sends the event, once.
    receiver.set_mode(receiver_mode::answer, 200);
    const auto before = receiver.request_count();
    const auto sent = deliver(sandbox);
    INFO(sent.all());
    CHECK(sent.status == 0);
    CHECK_THAT(sent.out, Contains("1 delivered, 0 retrying, 0 failed, 0 dead, 0 busy"));
    const auto recovered = since(receiver.requests(), before);
    REQUIRE(recovered.size() == 1);
    check_is_delivery_of(recovered.front(), entry);
    CHECK(spooled(sandbox, "queue").empty());
    CHECK(deliver(sandbox).status == 0);
    CHECK(receiver.request_count() == before + 1);
}

TEST_CASE("events: concurrent deliver runs send each event once", "[e2e][events]") {
    http_receiver receiver(receiver_mode::absent);
    git_sandbox sandbox;
    sandbox.install(events_policy(receiver.url(), "background", 5000));
    const int count = 6;
    const auto queued = queue_while_absent(sandbox, count);
    REQUIRE(queued.size() == count);

    // Slow answers, and the first held until a second request is in: both runs are busy at the
    // same time, however late the second one starts.
    receiver.set_mode(receiver_mode::answer, 200);
    receiver.set_delay(150ms);
    receiver.plan({{200, 0ms, true}});
    for (const auto& entry : queued)
        redeliver(sandbox, entry["id"]);
    std::vector<std::unique_ptr<background_process>> runs;
    for (int run_number = 0; run_number < 2; ++run_number)
        runs.push_back(std::make_unique<background_process>(
            std::vector<std::string>{bin_path("trunkgate"), "deliver", "--repo", sandbox.server()},
            sandbox.clone(), sandbox.environment(with_secret()),
            sandbox.dir() + "/deliver" + std::to_string(run_number) + ".log"));
    CHECK(receiver.wait_for_requests(2, 30s));
    receiver.release_held();
    for (auto& run_process : runs)
        CHECK(run_process->wait() == 0);
    INFO(read_file(sandbox.dir() + "/deliver0.log") + read_file(sandbox.dir() + "/deliver1.log"));

    CHECK(receiver.max_in_flight() == 2); // the runs did overlap
    const auto received = receiver.requests();
    CHECK(received.size() == count);
    for (const auto& entry : queued) {
        REQUIRE(count_with_id(received, entry["id"]) == 1);
        for (const auto& request : received)
            if (request.header("X-GitHub-Delivery") == entry["id"])
                check_is_delivery_of(request, entry);
    }
    CHECK(spooled(sandbox, "queue").empty());
    CHECK(spooled(sandbox, "delivered").size() == count);
}

TEST_CASE("events: inline delivery tells the pusher what happened", "[e2e][events]") {
    http_receiver receiver;
    git_sandbox sandbox;
    sandbox.install(events_policy(receiver.url(), "inline", 2000));
    sandbox.commit("feat: first");
    const auto pushed = sandbox.push({"origin", "main"}, with_secret());
    INFO(pushed.all());
    REQUIRE(pushed.status == 0);
    // Sent before the push returned, and the pusher was told.
    REQUIRE(receiver.request_count() == 1);
    const auto delivered = spooled(sandbox, "delivered");
    REQUIRE(delivered.size() == 1);
    const auto id = delivered.front()["id"].get<std::string>();
    const auto lines = remote_lines(pushed);
    CHECK_THAT(lines, Catch::VectorContains("trunkgate: 1 event queued for 127.0.0.1:" +
                                            std::to_string(receiver.port())));
    CHECK_THAT(lines, Catch::VectorContains("trunkgate: delivered " + id + " refs/heads/main to " +
                                            receiver.url() + " (HTTP 200)"));
    check_is_delivery_of(receiver.requests().front(), delivered.front());

    SECTION("a failing receiver: the pusher is told it will be retried") {
        receiver.set_mode(receiver_mode::answer, 503);
        const auto tip = sandbox.commit("feat: second");
        const auto retried = sandbox.push({"origin", "main"}, with_secret());
        INFO(retried.all());
        REQUIRE(retried.status == 0);
        CHECK(sandbox.server_rev("refs/heads/main") == tip);
        const auto queued = spooled(sandbox, "queue");
        REQUIRE(queued.size() == 1);
        CHECK_THAT(remote_lines(retried),
                   Catch::VectorContains("trunkgate: will retry " +
                                         queued.front()["id"].get<std::string>() +
                                         " refs/heads/main at " + receiver.url() + ": HTTP 503"));
    }

    SECTION("a refusing receiver: the pusher is told how to send it again") {
        receiver.set_mode(receiver_mode::answer, 410);
        sandbox.commit("feat: second");
        const auto refused = sandbox.push({"origin", "main"}, with_secret());
        INFO(refused.all());
        REQUIRE(refused.status == 0);
        const auto queued = spooled(sandbox, "queue");
        REQUIRE(queued.size() == 1);
        CHECK(queued.front()["state"] == "failed");
        const auto failed_id = queued.front()["id"].get<std::string>();
        CHECK_THAT(remote_lines(refused),
                   Catch::VectorContains("trunkgate: failed " + failed_id + " refs/heads/main at " +
                                         receiver.url() +
                                         ": HTTP 410 (kept; `trunkgate events redeliver " +
                                         failed_id + "` sends it again)"));
    }

    SECTION("a hanging receiver: the push waits no longer than the timeout") {
        sandbox.write_server_policy(events_policy(receiver.url(), "inline", 500));
        receiver.set_mode(receiver_mode::hang);
        sandbox.commit("feat: second");
        const auto started = steady_clock::now();
        const auto waited = sandbox.push({"origin", "main"}, with_secret());
        const auto took = steady_clock::now() - started;
        INFO(waited.all());
        REQUIRE(waited.status == 0);
        CHECK(took >= 500ms);
        CHECK(took < 5s); // the push's own time, loaded, plus the 500 ms it waited
        CHECK_THAT(waited.err, Contains("remote: trunkgate: will retry ") && Contains("timed out"));
        CHECK(spooled(sandbox, "queue").size() == 1);
    }
}

TEST_CASE("events: secrets never show, credentials never reach the spool, query values are "
          "redacted",
          "[e2e][events]") {
    http_receiver receiver(receiver_mode::answer, 500);
    git_sandbox sandbox;
    const std::string password = "pw-8d2c41b7";
    const std::string token = "tok-5e0a17c3";
    const std::string auth_variable = "TRUNKGATE_WEBHOOK_AUTH";
    const std::string file_secret = "tg-file-secret-41b9e2";
    const auto secret_file = sandbox.dir() + "/webhook-secret";
    write_file(secret_file, file_secret + "\n");
    const auto port = std::to_string(receiver.port());
    const auto redacted = "http://127.0.0.1:" + port + "/hooks/push?token=***";

    // Credentials in the URL would be written to every spool entry: the policy refuses them.
    write_file(sandbox.dir() + "/in-url.toml", "[[events.endpoint]]\nurl = \"http://deploy:" +
                                                   password + "@127.0.0.1:" + port + "/x\"\n");
    const auto in_url = sandbox.trunkgate({"policy", "lint", sandbox.dir() + "/in-url.toml"});
    CHECK(in_url.status != 0);
    CHECK_THAT(in_url.all(), Contains("holds credentials") && Contains("auth_env"));
    CHECK(in_url.all().find(password) == std::string::npos);

    sandbox.install("[events]\ndeliver = \"inline\"\n\n"
                    "[[events.endpoint]]\nurl = \"" +
                    receiver.url("/hooks/push") + "?token=" + token + "\"\nsecret_env = \"" +
                    secret_variable + "\"\nauth_env = \"" + auth_variable +
                    "\"\n\n"
                    "[[events.endpoint]]\nurl = \"" +
                    receiver.url("/hooks/file") + "\"\nsecret_file = \"" + secret_file + "\"\n");
    std::string shown; // everything trunkgate printed in this test
    auto with_auth = with_secret();
    with_auth[auth_variable] = "deploy:" + password;

    sandbox.commit("feat: first");
    const auto pushed = sandbox.push({"origin", "main"}, with_auth);
    shown += pushed.all();
    INFO(pushed.all());
    REQUIRE(pushed.status == 0);
    CHECK_THAT(remote_lines(pushed),
               Catch::VectorContains("trunkgate: 2 events queued for 127.0.0.1:" + port));
    CHECK_THAT(pushed.err, Contains("will retry") && Contains(" at " + redacted + ": HTTP 500"));
    // Each endpoint signs with its own secret; auth_env's credentials authenticate.
    REQUIRE(receiver.request_count() == 2);
    for (const auto& request : receiver.requests()) {
        if (request.target == "/hooks/push?token=" + token) {
            CHECK(request.header("X-Hub-Signature-256") == hub_signature(secret, request.body));
            CHECK(request.header("Authorization") == "Basic ZGVwbG95OnB3LThkMmM0MWI3");
        } else {
            CHECK(request.target == "/hooks/file");
            CHECK(request.header("X-Hub-Signature-256") ==
                  hub_signature(file_secret, request.body));
        }
    }

    const auto listed = sandbox.trunkgate({"events", "--repo", sandbox.server()});
    shown += listed.all();
    CHECK_THAT(listed.out, Contains(redacted) && Contains("last error: HTTP 500"));
    const auto listed_json =
        sandbox.trunkgate({"events", "--repo", sandbox.server(), "--format", "json"});
    shown += listed_json.all();
    CHECK_THAT(listed_json.out, Contains("\"endpoint\":\"" + redacted + "\""));

    // A deliverer without the secret variable does not send that event unsigned.
    receiver.set_mode(receiver_mode::answer, 200);
    for (const auto& entry : spooled(sandbox, "queue"))
        redeliver(sandbox, entry["id"]);
    const auto before = receiver.request_count();
    const auto unsigned_run = deliver(sandbox, {});
    shown += unsigned_run.all();
    INFO(unsigned_run.all());
    CHECK(unsigned_run.status == 1);
    CHECK_THAT(unsigned_run.out, Contains("1 delivered, 1 retrying"));
    const auto sent = since(receiver.requests(), before);
    REQUIRE(sent.size() == 1);
    CHECK(sent.front().target == "/hooks/file");
    const auto waiting = spooled(sandbox, "queue");
    REQUIRE(waiting.size() == 1);
    CHECK(waiting.front()["last_error"] ==
          "secret variable " + secret_variable + " is not set for the deliverer");

    redeliver(sandbox, waiting.front()["id"]);
    const auto signed_run = deliver(sandbox, with_auth);
    shown += signed_run.all();
    CHECK_THAT(signed_run.out, Contains("1 delivered, 0 retrying"));
    CHECK(spooled(sandbox, "queue").empty());

    for (const auto& value : {secret, file_secret, password, token}) {
        INFO(value);
        CHECK(shown.find(value) == std::string::npos);
    }
    // Nor on disk: the spool holds where the secret comes from, never the secret itself.
    int files = 0;
    for (const auto& file : std::filesystem::recursive_directory_iterator(spool_dir(sandbox))) {
        if (!file.is_regular_file())
            continue;
        ++files;
        const auto content = read_file(file.path().string());
        INFO(file.path().string());
        CHECK(content.find(secret) == std::string::npos);
        CHECK(content.find(file_secret) == std::string::npos);
        CHECK(content.find(password) == std::string::npos);
    }
    CHECK(files >= 3); // two delivered entries and events.log
    const auto log = read_file(spool_dir(sandbox) + "/events.log");
    CHECK_THAT(log, Contains(redacted));
    CHECK(log.find(password) == std::string::npos);
    CHECK(log.find(token) == std::string::npos);
}

TEST_CASE("events: a run does not retry an event another run has just tried", "[e2e][events]") {
    http_receiver receiver(receiver_mode::absent);
    git_sandbox sandbox;
    sandbox.install(events_policy(receiver.url(), "background", 5000));
    auto queued = queue_while_absent(sandbox, 2);
    // Runs take entries in queue order (push order).
    std::sort(queued.begin(), queued.end(),
              [](const auto& a, const auto& b) { return a["order"] < b["order"]; });
    const auto first = queued[0]["id"].get<std::string>();
    const auto second = queued[1]["id"].get<std::string>();
    for (const auto& entry : queued)
        redeliver(sandbox, entry["id"]);

    // The slow run sends `first` and waits for its answer, held until the quick run is done;
    // meanwhile the quick run skips it (busy), tries `second`, fails (500) and schedules it for
    // later.
    receiver.set_mode(receiver_mode::answer, 500);
    receiver.plan({{200, 0ms, true}, {500, 0ms}});
    background_process slow({bin_path("trunkgate"), "deliver", "--repo", sandbox.server()},
                            sandbox.clone(), sandbox.environment(with_secret()),
                            sandbox.dir() + "/slow.log");
    REQUIRE(receiver.wait_for_requests(1, 30s));
    const auto quick = deliver(sandbox);
    receiver.release_held();
    INFO(quick.all());
    CHECK_THAT(quick.out, Contains("0 delivered, 1 retrying, 0 failed, 0 dead, 1 busy"));
    CHECK(slow.wait() == 1); // delivered `first`, but `second` still waits for its retry
    INFO(read_file(sandbox.dir() + "/slow.log"));

    // `second` is not due until its backoff ends: the slow run, which listed it before, leaves it.
    const auto received = receiver.requests();
    CHECK(count_with_id(received, first) == 1);
    CHECK(count_with_id(received, second) == 1);
    const auto waiting = spooled(sandbox, "queue");
    REQUIRE(waiting.size() == 1);
    CHECK(waiting.front()["id"] == second);
    CHECK(waiting.front()["attempts"] == 1);
}
