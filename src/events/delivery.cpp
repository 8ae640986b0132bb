#include "trunkgate/events/delivery.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <syslog.h>
#include <unistd.h>

#include "trunkgate/events/github_shape.hpp"
#include "trunkgate/policy/glob.hpp"
#include "trunkgate/util/system_log.hpp"

namespace trunkgate {

std::string spool_dir_for(const policy& rules_policy, const std::string& git_dir) {
    const auto& dir = rules_policy.events.spool_dir;
    return dir.front() == '/' ? dir : git_dir + dir;
}

namespace {

// What the pusher is told about an event that does not list every pushed commit.
void add_notices(std::vector<std::string>& notices, const push_event& event,
                 const events_policy& events) {
    if (event.over_limit)
        notices.push_back("the event for " + event.ref + " is larger than " +
                          "[events] max_payload_bytes (" +
                          std::to_string(events.max_payload_bytes) +
                          ") even with no commit listed; sent as it is");
    else if (event.dropped_commits > 0)
        notices.push_back(
            "the event for " + event.ref + " was trimmed to [events] max_payload_bytes (" +
            std::to_string(events.max_payload_bytes) + "): the " +
            std::to_string(event.dropped_commits) + " oldest listed commits left out of `commits`");
    if (event.total_commits > events.max_commits)
        notices.push_back("the event for " + event.ref + " lists the newest " +
                          std::to_string(events.max_commits) + " of " +
                          std::to_string(event.total_commits) + " pushed commits ([events] " +
                          "max_commits = " + std::to_string(events.max_commits) +
                          "); X-Trunkgate-Total-Commits has the count");
}

// The headers that depend on the endpoint and the push, fixed when the event is queued so every
// retry sends the same ones (docs/events.md, "Headers").
std::vector<std::string> delivery_headers(const endpoint_policy& endpoint, const push_event& event,
                                          const event_context& context) {
    const auto repository = std::to_string(event.repository_id);
    std::vector<std::string> headers = {
        "User-Agent: " + (endpoint.user_agent.empty() ? default_user_agent() : endpoint.user_agent),
        "X-GitHub-Hook-ID: " + std::to_string(stable_id("hook", repository + " " + endpoint.url)),
        "X-GitHub-Hook-Installation-Target-Type: repository",
        "X-GitHub-Hook-Installation-Target-ID: " + repository,
        "X-Trunkgate-Total-Commits: " + std::to_string(event.total_commits),
        std::string("X-Trunkgate-Ci-Skip: ") +
            (asks_ci_skip(context.push_options) ? "true" : "false")};
    if (!context.push_options.empty()) // JSON with every non-ASCII byte escaped: one header line
        headers.push_back("X-Trunkgate-Push-Options: " +
                          nlohmann::json(context.push_options)
                              .dump(-1, ' ', true, nlohmann::json::error_handler_t::replace));
    return headers;
}

} // namespace

std::string default_user_agent() {
    return "GitHub-Hookshot/trunkgate-" TRUNKGATE_VERSION;
}

queue_result queue_push_events(const spool& queue, git_repository* repo, const policy& rules_policy,
                               const std::vector<ref_update>& updates, const event_context& context,
                               std::int64_t now) {
    const auto& events = rules_policy.events;
    queue_result result;
    // Microseconds, then position: a later push sorts after this one, and this push in its order
    // (all of one endpoint's deliveries before the next endpoint's, as they always were).
    const std::int64_t first_order = std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count() *
                                     1000;
    const auto refs = static_cast<std::int64_t>(updates.size());
    std::vector<spool_entry> staged_entries;
    staged_push staged(queue, updates.size());
    try {
        std::int64_t position = 0;
        build_push_events(repo, rules_policy, updates, context, [&](push_event&& event) {
            add_notices(result.notices, event, events);
            for (std::size_t endpoint_index = 0; endpoint_index < events.endpoints.size();
                 ++endpoint_index) {
                const auto& endpoint = events.endpoints[endpoint_index];
                if (!glob_match_any(endpoint.refs, event.ref))
                    continue;
                spool_entry entry;
                entry.id = new_uuid();
                entry.ref = event.ref;
                entry.url = endpoint.url;
                entry.secret_env = endpoint.secret_env;
                entry.secret_file = endpoint.secret_file;
                entry.auth_env = endpoint.auth_env;
                entry.auth_file = endpoint.auth_file;
                entry.ca_file = endpoint.ca_file;
                entry.timeout_ms = endpoint.timeout_ms;
                entry.headers = delivery_headers(endpoint, event, context);
                entry.created_at = now;
                entry.order =
                    first_order + static_cast<std::int64_t>(endpoint_index) * refs + position;
                entry.next_try = now;
                const bool extended = endpoint.payload == payload_format::github_trunkgate;
                entry.body = extended ? with_trunkgate_fields(event.body, event.total_commits,
                                                              context.push_options)
                                      : std::move(event.body);
                staged.add(entry);
                if (!extended)
                    event.body = std::move(entry.body); // for the next endpoint
                entry.body.clear();                     // only ids and targets stay in memory
                staged_entries.push_back(std::move(entry));
            }
            ++position;
        });
        if (staged.size() == 0)
            return result; // no endpoint wants these refs: nothing to stage or report
        staged.seal();
    } catch (const std::exception& e) {
        staged.discard();
        result.problem = e.what();
        result.expected = staged_entries.size();
        return result;
    }
    result.expected = staged_entries.size();
    // Entries go out in queue order; staging wrote them in push order.
    std::sort(staged_entries.begin(), staged_entries.end(),
              [](const spool_entry& a, const spool_entry& b) { return a.order < b.order; });
    const auto published = staged.publish();
    result.problem = published.problem;
    std::set<std::string> in_queue(published.published.begin(), published.published.end());
    std::vector<std::string> lines;
    for (auto& entry : staged_entries)
        if (in_queue.count(entry.id)) {
            lines.push_back("queued " + entry.id + " " + entry.ref + " for " +
                            redact_url(entry.url));
            result.queued.push_back(std::move(entry));
        }
    queue.log_lines(lines);
    if (!result.problem.empty()) {
        const auto line =
            "push " + staged.id() + ": " + std::to_string(result.queued.size()) + " of " +
            std::to_string(result.expected) +
            " events queued, the rest still staged for `trunkgate deliver`: " + result.problem;
        queue.log(line);
        system_log(LOG_WARNING, queue.dir() + ": " + line);
    }
    return result;
}

void record_unqueued(const std::string& spool_dir, const std::string& git_dir,
                     std::size_t ref_count, const std::string& problem) {
    const auto line = "push events NOT queued for " + git_dir + " (" + std::to_string(ref_count) +
                      (ref_count == 1 ? " ref" : " refs") + "): " + problem;
    system_log(LOG_ERR, line);
    // events.log too, when the spool can still take one short line (staged entries are gone).
    const auto log_path = spool_dir + "/events.log";
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return;
    char stamp[32];
    const std::time_t clock = std::time(nullptr);
    std::tm parts{};
    gmtime_r(&clock, &parts);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ ", &parts);
    const std::string text = stamp + line + "\n";
    [[maybe_unused]] const auto ignored = ::write(fd, text.data(), text.size());
    ::close(fd);
}

std::int64_t backoff_seconds(std::int64_t attempts, double jitter) {
    const std::int64_t base = 15, cap = 3600;
    std::int64_t delay = base;
    for (std::int64_t i = 1; i < attempts && delay < cap; ++i)
        delay *= 2;
    delay = std::min(delay, cap);
    return std::max<std::int64_t>(
        1, static_cast<std::int64_t>(static_cast<double>(delay) * (0.75 + jitter / 2)));
}

namespace {

// A value the entry names by an environment variable or a file (a signing secret, Basic auth
// credentials), or an error saying what is missing, never the value. Neither named: empty.
bool resolve_named(const std::string& env_name, const std::string& file, const char* what,
                   const env_lookup& env, std::string& value, std::string& problem) {
    if (!env_name.empty()) {
        const auto found = env(env_name);
        if (!found || found->empty()) {
            problem = std::string(what) + " variable " + env_name + " is not set for the deliverer";
            return false;
        }
        value = *found;
    } else if (!file.empty()) {
        std::ifstream in(file, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        if (!in && !in.eof()) {
            problem = std::string("cannot read the ") + what + " file " + file;
            return false;
        }
        value = text.str();
        while (!value.empty() && (value.back() == '\n' || value.back() == '\r'))
            value.pop_back();
        if (value.empty()) {
            problem = std::string("the ") + what + " file " + file + " is empty or unreadable";
            return false;
        }
    }
    return true;
}

struct credentials {
    std::string secret;     ///< HMAC key, empty when the endpoint signs nothing
    std::string basic_auth; ///< "user:password", empty when none
};

bool resolve_credentials(const spool_entry& entry, const env_lookup& env, credentials& found,
                         std::string& problem) {
    return resolve_named(entry.secret_env, entry.secret_file, "secret", env, found.secret,
                         problem) &&
           resolve_named(entry.auth_env, entry.auth_file, "auth", env, found.basic_auth, problem);
}

http_request request_for(const spool_entry& entry, const credentials& found) {
    const auto& secret = found.secret;
    http_request request;
    request.url = entry.url;
    request.basic_auth = found.basic_auth;
    request.body = entry.body;
    request.timeout_ms = static_cast<long>(entry.timeout_ms);
    request.ca_file = entry.ca_file;
    request.headers = {"Content-Type: application/json", "X-GitHub-Event: push",
                       "X-GitHub-Delivery: " + entry.id, "X-Trunkgate-Delivery: " + entry.id,
                       "Expect:"};
    if (entry.headers.empty()) // queued before headers were stored with the entry
        request.headers.push_back("User-Agent: " + default_user_agent());
    request.headers.insert(request.headers.end(), entry.headers.begin(), entry.headers.end());
    if (!secret.empty()) {
        request.headers.push_back("X-Hub-Signature: sha1=" + hmac_sha1_hex(secret, entry.body));
        request.headers.push_back("X-Hub-Signature-256: sha256=" +
                                  hmac_sha256_hex(secret, entry.body));
    }
    return request;
}

enum class outcome { delivered, retry, permanent };

outcome classify(const http_response& response) {
    if (response.status >= 200 && response.status < 300)
        return outcome::delivered;
    if (response.status == 0 || response.status == 408 || response.status == 429 ||
        response.status >= 500)
        return outcome::retry;
    return outcome::permanent; // other 4xx, and redirects, which are never followed
}

std::string describe(const http_response& response, const std::string& url) {
    if (response.status == 0) {
        // libcurl's messages name hosts, never credentials; strip the URL form to be sure.
        auto error = response.error;
        for (auto at = error.find(url); at != std::string::npos; at = error.find(url))
            error.replace(at, url.size(), redact_url(url));
        return error;
    }
    return "HTTP " + std::to_string(response.status);
}

void attempt(claimed_entry& claimed, http_client& client, const env_lookup& env,
             const delivery_options& options, std::mt19937_64& random, delivery_report& report,
             const spool& queue) {
    auto& entry = claimed.entry();
    const auto target = redact_url(entry.url);
    ++entry.attempts;
    credentials found;
    std::string problem;
    http_response response;
    if (!resolve_credentials(entry, env, found, problem))
        response.error = problem;
    else
        response = client.post(request_for(entry, found));
    entry.last_status = response.status;
    const auto result = classify(response);
    if (result == outcome::delivered) {
        entry.last_error.clear();
        entry.delivered_at = options.now;
        entry.state = "delivered";
        claimed.retire("delivered");
        ++report.delivered;
        report.lines.push_back("delivered " + entry.id + " " + entry.ref + " to " + target +
                               " (HTTP " + std::to_string(response.status) + ")");
        queue.log(report.lines.back());
        return;
    }
    entry.last_error = describe(response, entry.url);
    if (result == outcome::permanent) {
        entry.state = "failed";
        ++report.failed;
        report.lines.push_back("failed " + entry.id + " " + entry.ref + " at " + target + ": " +
                               entry.last_error + " (kept; `trunkgate events redeliver " +
                               entry.id + "` sends it again)");
    } else {
        entry.next_try =
            options.now +
            backoff_seconds(entry.attempts, std::uniform_real_distribution<>(0, 1)(random));
        ++report.retrying;
        report.lines.push_back("will retry " + entry.id + " " + entry.ref + " at " + target + ": " +
                               entry.last_error);
    }
    claimed.save();
    queue.log(report.lines.back());
}

bool is_expired(const spool_entry& entry, const delivery_options& options) {
    return options.now - entry.created_at > options.max_age_hours * 3600;
}

// Due for an attempt (or for dead/): expired, or queued and past its next try.
bool is_due(const spool_entry& entry, const delivery_options& options) {
    if (is_expired(entry, options))
        return true;
    return entry.state != "failed" && (options.ignore_schedule || entry.next_try <= options.now);
}

} // namespace

delivery_report deliver_due(const spool& queue, http_client& client, const env_lookup& env,
                            const delivery_options& options) {
    delivery_report report;
    std::mt19937_64 random(std::random_device{}());
    const auto wanted = [&](const std::string& id) {
        return options.only_ids.empty() ||
               std::find(options.only_ids.begin(), options.only_ids.end(), id) !=
                   options.only_ids.end();
    };
    // Reported on every run until someone fixes it: an event nobody can read is not gone.
    const auto report_unreadable = [&](const std::string& id, const std::string& reason) {
        ++report.unreadable;
        report.lines.push_back("unreadable " + id + ": " + reason);
        queue.log("unreadable queue/" + id + ".json: " + reason +
                  " (left in place; `trunkgate events` lists it)");
    };
    const auto listing = queue.list("queue");
    for (const auto& bad : listing.unreadable)
        if (wanted(bad.id))
            report_unreadable(bad.id, bad.reason);
    for (const auto& listed : listing.entries) {
        if (!wanted(listed.id))
            continue;
        if (!is_due(listed, options))
            continue;
        std::optional<claimed_entry> claimed;
        try {
            if (auto locked = queue.claim(listed.id))
                claimed.emplace(std::move(*locked));
        } catch (const entry_error& e) {
            report_unreadable(listed.id, e.what());
            continue;
        }
        if (!claimed) {
            ++report.busy;
            continue;
        }
        // Judge the entry as it is now: another run may have tried it since it was listed.
        if (!is_due(claimed->entry(), options))
            continue;
        if (is_expired(claimed->entry(), options)) {
            claimed->entry().state = "dead";
            claimed->retire("dead");
            ++report.dead;
            report.lines.push_back("gave up on " + listed.id + " " + listed.ref + " after " +
                                   std::to_string(options.max_age_hours) +
                                   " hours (moved to dead/; last error: " +
                                   (listed.last_error.empty() ? "none" : listed.last_error) + ")");
            queue.log(report.lines.back());
            continue;
        }
        attempt(*claimed, client, env, options, random, report, queue);
    }
    if (report.delivered > 0)
        queue.prune_delivered(options.delivered_kept);
    return report;
}

} // namespace trunkgate
