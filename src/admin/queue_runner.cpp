#include "trunkgate/admin/queue_runner.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include "trunkgate/events/delivery.hpp"
#include "trunkgate/gate/audit.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/queue/queue.hpp"
#include "trunkgate/util/process.hpp"
#include "trunkgate/util/text.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

namespace {

// The detached runner's log is kept to about this size: it starts anew (the old one becomes
// runner.log.1) when it is larger.
constexpr off_t runner_log_limit = 1 << 20;

std::int64_t now_seconds() {
    return current_time();
}

std::string queue_dir(const std::string& git_dir) {
    return git_dir + "trunkgate/queue";
}

bool has_automatic_queue(const policy& rules_policy) {
    for (const auto& rule : rules_policy.queues)
        if (rule.automatic_runner)
            return true;
    return false;
}

std::ofstream open_runner_log(const std::string& dir) {
    const auto path = dir + "/runner.log";
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0 && info.st_size > runner_log_limit)
        std::rename(path.c_str(), (path + ".1").c_str());
    return std::ofstream(path, std::ios::app);
}

} // namespace

void publish_queue_updates(git_repository* repo, const std::string& git_dir,
                           const policy& rules_policy, const std::vector<ref_update>& updates,
                           std::ostream& out, std::ostream& err, const env_lookup& env) {
    if (updates.empty() || rules_policy.events.endpoints.empty())
        return;
    const auto now = now_seconds();
    const spool queue(spool_dir_for(rules_policy, git_dir));
    const event_context context{"trunkgate-queue", {}, git_dir, now};
    const auto queued = queue_push_events(queue, repo, rules_policy, updates, context, now);
    if (!queued.problem.empty())
        err << "trunkgate: push events of the queue were not all queued: "
            << printable(queued.problem) << "\n";
    delivery_options options;
    options.now = now;
    options.max_age_hours = rules_policy.events.max_age_hours;
    options.ignore_schedule = true;
    for (const auto& entry : queued.queued)
        options.only_ids.push_back(entry.id);
    const auto client = make_curl_client();
    for (const auto& line : deliver_due(queue, *client, env, options).lines)
        out << printable(line) << "\n";
}

bool run_queue_until_settled(git_repository* repo, const std::string& git_dir,
                             const policy& rules_policy, std::ostream& out, std::ostream& err,
                             const env_lookup& env) {
    queue_store store(queue_dir(git_dir));
    do {
        queue_run_options options;
        options.now = now_seconds();
        const auto report = run_queue(repo, rules_policy, store, options);
        if (report.busy)
            return false;
        for (const auto& line : report.lines)
            out << line << "\n";
        out.flush(); // before the audit record: whoever sees the landing finds its lines too
        if (!report.landings.empty())
            append_audit(git_dir, landed_line(options.now, std::nullopt, "trunkgate-queue",
                                              report.landings, report.landed));
        publish_queue_updates(repo, git_dir, rules_policy, report.updates, out, err, env);
        // Asked again during the pass (a status, a push): pass once more. Checked after the
        // runner let go, so that a start which found it busy is either seen here or got it.
    } while (store.run_requested());
    return true;
}

std::string start_queue_runner(const std::string& git_dir, const policy& rules_policy,
                               const env_lookup& env) {
    if (!has_automatic_queue(rules_policy))
        return "";
    try {
        const queue_store store(queue_dir(git_dir));
        store.request_run();
        run_detached([&] {
            auto log = open_runner_log(store.dir());
            log << iso8601(now_seconds(), 0) << " queue run\n";
            try {
                const libgit2_guard libgit2;
                const auto repo = open_repository_at(git_dir, false);
                if (!run_queue_until_settled(repo.get(), git_dir, rules_policy, log, log, env))
                    log << "another queue run is at work; it passes once more\n";
            } catch (const std::exception& e) {
                log << "error: " << printable(e.what()) << "\n";
                throw;
            }
        });
        return "";
    } catch (const std::exception& e) {
        return std::string("the queue's runner was not started: ") + e.what();
    }
}

} // namespace trunkgate
