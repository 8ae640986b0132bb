// trunkgate-post-receive: git's post-receive hook. Records the refs that landed in the audit log,
// builds one push event per updated ref, writes each durably to the spool, then delivers in the
// background (the push does not wait) or inline. The refs have already moved, so nothing here can
// reject a push; failures are reported, and an event that cannot be delivered stays queued for
// `trunkgate deliver`.
#include <algorithm>
#include <ctime>
#include <exception>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <syslog.h>

#include "trunkgate/admin/queue_runner.hpp"
#include "trunkgate/events/delivery.hpp"
#include "trunkgate/events/events.hpp"
#include "trunkgate/gate/audit.hpp"
#include "trunkgate/gate/push_id.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/history/policy_lookup.hpp"
#include "trunkgate/hook/hook_input.hpp"
#include "trunkgate/util/exit_code.hpp"
#include "trunkgate/util/identity.hpp"
#include "trunkgate/util/process.hpp"
#include "trunkgate/util/system_log.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace {

using namespace trunkgate;

// "trunkgate: 2 events queued for 127.0.0.1:9000", one line per endpoint.
void announce(const std::vector<spool_entry>& queued) {
    std::map<std::string, int> per_endpoint;
    for (const auto& entry : queued)
        ++per_endpoint[url_authority(entry.url)];
    for (const auto& [endpoint, count] : per_endpoint)
        std::cerr << "trunkgate: " << count << (count == 1 ? " event" : " events") << " queued for "
                  << endpoint << "\n";
}

void deliver(const spool& queue, const std::vector<spool_entry>& queued, const policy& rules_policy,
             bool report_to_pusher) {
    delivery_options options;
    options.now = static_cast<std::int64_t>(std::time(nullptr));
    options.max_age_hours = rules_policy.events.max_age_hours;
    options.ignore_schedule = report_to_pusher;
    if (report_to_pusher)
        for (const auto& entry : queued)
            options.only_ids.push_back(entry.id);
    const auto client = make_curl_client();
    const auto report = deliver_due(queue, *client, process_environment(), options);
    if (report_to_pusher)
        for (const auto& line : report.lines)
            std::cerr << "trunkgate: " << line << "\n";
}

// What landed could not be recorded: the pusher and the server's log are told, the push stands.
void report_unrecorded_landing(const std::string& where, const std::string& input,
                               const std::string& why) {
    std::string refs;
    std::istringstream lines(input);
    int shown = 0;
    for (std::string line; std::getline(lines, line) && shown < 20; ++shown)
        refs += (refs.empty() ? "" : "; ") + line;
    system_log(LOG_ERR, "post-receive in " + where +
                            ": the refs that landed were not recorded in the audit log: " + why +
                            " (landed: " + refs + ")");
    std::cerr << "trunkgate: what this push changed was NOT recorded in the audit log: " << why
              << " (the push itself went through; the repository admins find this in the system "
                 "log; tell them)\n";
}

// The update lines without the pushes that entered a merge queue (refs/for/<branch>): git
// reports them to post-receive because the proc-receive hook accepted them, but no ref moved.
std::vector<ref_update> moved_refs(const std::string& input, const policy* rules_policy) {
    std::istringstream lines(input);
    auto updates = parse_updates(lines);
    if (rules_policy)
        updates.erase(std::remove_if(updates.begin(), updates.end(),
                                     [&](const ref_update& update) {
                                         return rules_policy->queue_for_submission(update.ref);
                                     }),
                      updates.end());
    return updates;
}

// Appends the refs that moved (git gives post-receive exactly those) to the audit log, under the
// push id the pre-receive hook recorded its decision with, so `trunkgate audit` can show an
// accepted push that a later hook (git's update hook, gitolite's access rules) refused. Never
// throws: nothing can undo the push any more.
void record_landed(const std::string& dir, const std::string& input, const policy* rules_policy,
                   const std::string& identity) noexcept {
    try {
        const auto updates = moved_refs(input, rules_policy);
        if (updates.empty())
            return;
        append_audit(dir, landed_line(current_time(),
                                      current_push_id(), identity, updates));
    } catch (const std::exception& e) {
        report_unrecorded_landing(dir, input, e.what());
    }
}

int queue_events(git_repository* repo, const std::string& dir, const policy& rules_policy,
                 const std::string& input) {
    if (rules_policy.events.endpoints.empty())
        return exit_ok;
    const auto env = process_environment();
    const auto updates = moved_refs(input, &rules_policy);
    if (updates.empty())
        return exit_ok;
    const auto now = current_time();
    const event_context context{resolve_identity(rules_policy.identity_env, env),
                                read_push_options(env), dir, now};
    const auto spool_dir = spool_dir_for(rules_policy, dir);
    queue_result result;
    std::optional<spool> queue;
    try {
        queue.emplace(spool_dir);
        result = queue_push_events(*queue, repo, rules_policy, updates, context, now);
    } catch (const std::exception& e) {
        result.problem = e.what();
    }
    for (const auto& notice : result.notices)
        std::cerr << "trunkgate: " << notice << "\n";
    if (!result.problem.empty() && result.queued.empty()) {
        record_unqueued(spool_dir, dir, updates.size(), result.problem);
        std::cerr << "trunkgate: push events were NOT queued (none of the " << updates.size()
                  << (updates.size() == 1 ? " ref" : " refs") << "): " << result.problem
                  << " (the push itself went through; the repository admins find this in the "
                     "system log; tell them)\n";
        return exit_error;
    }
    if (result.queued.empty())
        return exit_ok;
    if (!result.problem.empty())
        std::cerr << "trunkgate: only " << result.queued.size() << " of " << result.expected
                  << " events were queued: " << result.problem << "; the other "
                  << result.expected - result.queued.size()
                  << " stay staged and the next `trunkgate deliver` queues them\n";
    announce(result.queued);
    if (rules_policy.events.deliver == delivery_mode::inline_wait)
        deliver(*queue, result.queued, rules_policy, true);
    else
        run_detached([&] { deliver(*queue, result.queued, rules_policy, false); });
    return result.problem.empty() ? exit_ok : exit_error;
}

// The repository's own directory, for its chained hook; "" when it cannot be opened (the
// events part has already said why, and --chain's hook still runs).
std::string repository_dir() {
    try {
        libgit2_guard libgit2;
        return git_dir(open_repository_from_env().get());
    } catch (const std::exception&) {
        return "";
    }
}

} // namespace

int main(int argc, char** argv) {
    const auto start = read_hook_input("trunkgate-post-receive", {argv + 1, argv + argc}, std::cin,
                                       std::cout, std::cerr);
    if (start.exit_now)
        return *start.exit_now;
    const auto& input = start.update_lines;
    int status = exit_ok;
    bool landing_recorded = false;
    try {
        libgit2_guard libgit2;
        const auto repo = open_repository_from_env();
        const auto dir = git_dir(repo.get());
        const auto env = process_environment();
        // The landed record comes first and needs no policy (only its identity variables): a
        // broken policy must not hide what landed.
        std::optional<policy> rules_policy;
        std::exception_ptr policy_failure;
        try {
            rules_policy = load_repository_policy(repo.get(), env);
        } catch (const policy_error&) {
            policy_failure = std::current_exception();
        }
        record_landed(
            dir, input, rules_policy ? &*rules_policy : nullptr,
            resolve_identity((rules_policy ? *rules_policy : policy{}).identity_env, env));
        landing_recorded = true;
        if (policy_failure)
            std::rethrow_exception(policy_failure);
        status = queue_events(repo.get(), dir, *rules_policy, input);
        // A push can change what the merge queue reads (a change, a status note, the target).
        const auto problem = start_queue_runner(dir, *rules_policy, env);
        if (!problem.empty()) {
            std::cerr << "trunkgate: " << problem << "\n";
            status = std::max<int>(status, exit_error);
        }
    } catch (const std::exception& e) {
        if (!landing_recorded)
            report_unrecorded_landing(process_environment()("GIT_DIR").value_or("a repository"),
                                      input, e.what());
        std::cerr << "trunkgate: push events were NOT queued: " << e.what()
                  << " (the push itself went through; tell the repository admins)\n";
        status = exit_error;
    }
    const auto dir = start.chain.repository_hook ? repository_dir() : std::string();
    for (const auto& hook : chained_hooks(start.chain, dir, "post-receive")) {
        try {
            if (run_with_input({hook}, input) != 0)
                status = exit_rejected;
        } catch (const std::exception& e) {
            std::cerr << "trunkgate: " << e.what() << "\n";
            status = exit_error;
        }
    }
    return status;
}
