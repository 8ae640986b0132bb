#include "trunkgate/delivery.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>

#include "trunkgate/glob.hpp"

namespace trunkgate {

std::string spool_dir_for(const policy& rules_policy, const std::string& git_dir) {
    const auto& dir = rules_policy.events.spool_dir;
    return dir.front() == '/' ? dir : git_dir + dir;
}

std::vector<spool_entry> enqueue_events(const spool& queue, const events_policy& events,
                                        const std::vector<push_event>& pushed, std::int64_t now) {
    std::vector<spool_entry> queued;
    // Microseconds, then position: a later push sorts after this one, and this push in its order.
    std::int64_t order = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count() *
                         1000;
    for (const auto& endpoint : events.endpoints) {
        for (const auto& event : pushed) {
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
            entry.body = event.body;
            entry.created_at = now;
            entry.order = order++;
            entry.next_try = now;
            queue.add(entry);
            queue.log("queued " + entry.id + " " + entry.ref + " for " + redact_url(entry.url));
            queued.push_back(std::move(entry));
        }
    }
    return queued;
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
    request.headers = {"Content-Type: application/json",
                       "User-Agent: trunkgate/" TRUNKGATE_VERSION,
                       "X-GitHub-Event: push",
                       "X-GitHub-Delivery: " + entry.id,
                       "X-Trunkgate-Delivery: " + entry.id,
                       "Expect:"};
    if (!secret.empty())
        request.headers.push_back("X-Hub-Signature-256: sha256=" +
                                  hmac_sha256_hex(secret, entry.body));
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
    for (const auto& listed : queue.list("queue")) {
        if (!options.only_ids.empty() && std::find(options.only_ids.begin(), options.only_ids.end(),
                                                   listed.id) == options.only_ids.end())
            continue;
        if (!is_due(listed, options))
            continue;
        auto claimed = queue.claim(listed.id);
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
