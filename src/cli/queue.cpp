// queue: the merge queue of a repository: list it, add to it, cancel from it, move it.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>

#include "trunkgate/cli/commands.hpp"
#include "trunkgate/cli/repositories.hpp"
#include "trunkgate/events/delivery.hpp"
#include "trunkgate/gate/audit.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/history/policy_lookup.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/queue/queue.hpp"
#include "trunkgate/util/text.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

namespace {

// The repository a queue command acts on, its policy and its queue's journal.
struct queue_repository {
    repository_ptr repo;
    std::string git_dir;
    policy rules_policy;
    queue_store store;
};

queue_repository open_queue(const cli_io& streams, const std::string& path) {
    auto repo = open_repository_at(path, true);
    const auto dir = git_dir(repo.get());
    auto rules_policy = load_repository_policy(repo.get(), streams.env);
    return {std::move(repo), dir, std::move(rules_policy), queue_store(dir + "trunkgate/queue")};
}

std::string full_branch(const std::string& name) {
    return name.rfind("refs/", 0) == 0 ? name : "refs/heads/" + name;
}

std::string time_text(std::int64_t time) {
    return time ? iso8601(time, 0) : "";
}

nlohmann::ordered_json entry_json(const queue_entry& entry, std::size_t position) {
    return {{"id", entry.id},
            {"target", entry.target},
            {"position", position ? nlohmann::ordered_json(position) : nullptr},
            {"state", to_string(entry.state)},
            {"commit", entry.commit},
            {"speculative", entry.speculative},
            {"speculative_ref",
             entry.speculative.empty() ? std::string() : speculative_ref(entry.target, entry.id)},
            {"pusher", entry.pusher},
            {"topic", entry.topic},
            {"priority", entry.priority},
            {"enqueued_at", time_text(entry.enqueued_at)},
            {"checks", entry.checks},
            {"builds", entry.builds},
            {"reason", entry.reason},
            {"ended_at", time_text(entry.ended_at)}};
}

std::string entry_line(const queue_entry& entry, std::size_t position) {
    std::string line = (position ? std::to_string(position) : std::string("-")) + "  " + entry.id +
                       "  " + std::string(to_string(entry.state)) + "  " +
                       entry.commit.substr(0, 7);
    if (!entry.speculative.empty())
        line += " -> " + entry.speculative.substr(0, 7);
    line += "  " + printable(entry.pusher) + "  " + time_text(entry.enqueued_at);
    for (const auto& [context, state] : entry.checks)
        line += "  " + printable(context) + "=" + state;
    if (!entry.reason.empty())
        line += "  (" + printable(entry.reason) + ")";
    return line;
}

int list_queue(const cli_io& streams, queue_repository& opened, const std::string& format) {
    std::vector<std::string> unreadable;
    const auto entries = opened.store.entries({}, &unreadable);
    for (const auto& problem : unreadable)
        streams.err << "trunkgate: " << printable(problem) << "\n";
    if (format == "json") {
        auto queues = nlohmann::ordered_json::array();
        for (const auto& rule : opened.rules_policy.queues) {
            auto listed = nlohmann::ordered_json::array();
            std::size_t position = 0;
            for (const auto& entry : entries)
                if (entry.target == rule.target)
                    listed.push_back(entry_json(entry, is_active(entry.state) ? ++position : 0));
            queues.push_back({{"target", rule.target},
                              {"method", to_string(rule.method)},
                              {"entries", std::move(listed)}});
        }
        streams.out << nlohmann::ordered_json{{"queues", queues}}.dump(
                           -1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                    << "\n";
        return unreadable.empty() ? exit_ok : exit_error;
    }
    if (opened.rules_policy.queues.empty())
        streams.out << "no [[queue]] in the policy\n";
    for (const auto& rule : opened.rules_policy.queues) {
        streams.out << rule.target << "  (" << to_string(rule.method) << ", max_parallel "
                    << rule.max_parallel << ")\n";
        std::size_t position = 0;
        for (const auto& entry : entries)
            if (entry.target == rule.target)
                streams.out << "  " << entry_line(entry, is_active(entry.state) ? ++position : 0)
                            << "\n";
    }
    return unreadable.empty() ? exit_ok : exit_error;
}

int add_to_queue(const cli_io& streams, const parsed_args& parsed, queue_repository& opened) {
    const auto target = parsed.option("--target");
    if (!target || parsed.positionals.size() != 2)
        throw usage_error("usage: trunkgate queue add [--repo DIR] --target BRANCH COMMIT "
                          "[--topic TOPIC] [--priority]");
    change_request request;
    request.target = full_branch(*target);
    request.commit = parsed.positionals[1];
    request.topic = parsed.option("--topic").value_or("");
    request.pusher = resolve_identity(opened.rules_policy.identity_env, streams.env);
    request.priority = parsed.has("--priority");
    const auto made = enqueue_change(opened.repo.get(), opened.rules_policy, opened.store, request,
                                     static_cast<std::int64_t>(std::time(nullptr)));
    if (made.priority_denied)
        streams.err << "trunkgate: " << printable(request.pusher)
                    << " may not ask for priority ([[queue]] priority); queued at the end\n";
    streams.out << "queued for " << request.target << " at position " << made.position << " (id "
                << made.entry.id << ")"
                << (made.replaced.empty() ? "" : "; it replaces " + made.replaced) << "\n";
    return exit_ok;
}

// Records what the run landed in the audit log and queues push events for every ref it moved.
void record_run(const cli_io& streams, queue_repository& opened, const queue_run_report& report,
                std::int64_t now) {
    if (!report.landings.empty())
        append_audit(opened.git_dir,
                     landed_line(now, std::nullopt, "trunkgate-queue", report.landings));
    if (report.updates.empty() || opened.rules_policy.events.endpoints.empty())
        return;
    const spool queue(spool_dir_for(opened.rules_policy, opened.git_dir));
    const event_context context{"trunkgate-queue", {}, opened.git_dir, now};
    const auto queued = queue_push_events(queue, opened.repo.get(), opened.rules_policy,
                                          report.updates, context, now);
    if (!queued.problem.empty())
        streams.err << "trunkgate: push events of the queue were not all queued: "
                    << printable(queued.problem) << "\n";
    delivery_options options;
    options.now = now;
    options.max_age_hours = opened.rules_policy.events.max_age_hours;
    options.ignore_schedule = true;
    for (const auto& entry : queued.queued)
        options.only_ids.push_back(entry.id);
    const auto client = make_curl_client();
    for (const auto& line : deliver_due(queue, *client, streams.env, options).lines)
        streams.out << printable(line) << "\n";
}

int run_queue_once(const cli_io& streams, const std::string& path) {
    auto opened = open_queue(streams, path);
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    queue_run_options options;
    options.now = now;
    const auto report = run_queue(opened.repo.get(), opened.rules_policy, opened.store, options);
    if (report.busy) {
        streams.out << printable(path) << ": another queue run is at work; nothing to do\n";
        return exit_ok;
    }
    for (const auto& line : report.lines)
        streams.out << printable(path) << ": " << line << "\n";
    record_run(streams, opened, report, now);
    return exit_ok;
}

} // namespace

int cmd_queue(const cli_io& streams, const parsed_args& parsed) {
    const auto& args = parsed.positionals;
    const std::string action = args.empty() ? "" : args[0];
    const auto repos = parsed.values("--repo");
    if (action == "run") {
        if (args.size() != 1)
            throw usage_error("usage: trunkgate queue run [--repo DIR]...");
        auto paths = repos.empty() ? std::vector<std::string>{"."} : repos;
        const auto decisions = decide_owners(paths, true, [](const std::string& path) {
            return std::vector<std::string>{"queue", "run", "--repo", path};
        });
        int status = exit_ok;
        for (std::size_t i = 0; i < paths.size(); ++i)
            status = std::max(status, serve_as_owner(streams, decisions[i], [&](const cli_io& out) {
                                  return run_queue_once(out, paths[i]);
                              }));
        return status;
    }
    if (repos.size() > 1)
        throw usage_error("queue " + action + " takes one --repo");
    const auto path = repos.empty() ? std::string(".") : repos.front();
    act_as_owner(streams, path, !action.empty());
    auto opened = open_queue(streams, path);
    if (action.empty()) {
        const auto format = parsed.option("--format").value_or("text");
        require_text_or_json(format);
        return list_queue(streams, opened, format);
    }
    if (action == "add")
        return add_to_queue(streams, parsed, opened);
    if (action == "cancel" && args.size() == 2) {
        const auto by = resolve_identity(opened.rules_policy.identity_env, streams.env);
        const auto now = static_cast<std::int64_t>(std::time(nullptr));
        queue_run_report cancelled;
        cancelled.updates =
            cancel_change(opened.repo.get(), opened.rules_policy, opened.store, args[1], by, now);
        // CI hears that the speculative branch is gone, as it hears of every branch the queue
        // moves.
        record_run(streams, opened, cancelled, now);
        streams.out << "cancelled " << args[1] << "\n";
        return exit_ok;
    }
    throw usage_error("usage: trunkgate queue [add|cancel|run] ... (see trunkgate queue --help)");
}

} // namespace trunkgate
