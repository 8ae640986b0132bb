// queue: the merge queue of a repository: list it, add to it, cancel from it, move it.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

#include "trunkgate/admin/fleet.hpp"
#include "trunkgate/admin/queue_runner.hpp"
#include "trunkgate/cli/commands.hpp"
#include "trunkgate/cli/repositories.hpp"
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
            {"speculative_ref", entry.speculative.empty()
                                    ? std::string()
                                    : speculative_ref(entry.target, batch_of(entry))},
            {"batch", entry.speculative.empty() ? std::string() : batch_of(entry)},
            {"batch_size", entry.speculative.empty() ? 0 : batch_size_of(entry)},
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
    if (!entry.speculative.empty() && batch_size_of(entry) > 1)
        line += "  batch " + batch_of(entry) + " (" + std::to_string(batch_size_of(entry)) +
                " changes)";
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
                                     current_time());
    if (made.priority_denied)
        streams.err << "trunkgate: " << printable(request.pusher)
                    << " may not ask for priority ([[queue]] priority); queued at the end\n";
    streams.out << "queued for " << request.target << " at position " << made.position << " (id "
                << made.entry.id << ")"
                << (made.replaced.empty() ? "" : "; it replaces " + made.replaced) << "\n";
    return exit_ok;
}

// One repository's `queue run`: its lines, each prefixed with `path`. Below --all-under
// (`discovered`), a repository without a policy or without a [[queue]] is not the queue's
// business and is passed over in silence.
int run_queues_of(const cli_io& streams, const std::string& path, bool discovered) {
    try {
        const auto repo = open_repository_at(path, true);
        const auto dir = git_dir(repo.get());
        const auto rules_policy = load_repository_policy(repo.get(), streams.env);
        if (rules_policy.queues.empty()) {
            if (!discovered)
                streams.out << printable(path) << ": no [[queue]] in the policy; nothing to do\n";
            return exit_ok;
        }
        // Asked first: a runner at work finds the request after its pass and passes again.
        queue_store(dir + "trunkgate/queue").request_run();
        std::ostringstream lines;
        const bool ran =
            run_queue_until_settled(repo.get(), dir, rules_policy, lines, streams.err, streams.env);
        std::istringstream said(lines.str());
        for (std::string line; std::getline(said, line);)
            streams.out << printable(path) << ": " << line << "\n";
        if (!ran)
            streams.out << printable(path)
                        << ": another queue run is at work; it passes once more for this one\n";
    } catch (const missing_policy_error& e) {
        if (discovered)
            return exit_ok;
        streams.err << "trunkgate: " << printable(path) << ": " << e.what() << "\n";
        return exit_error;
    } catch (const input_error& e) {
        streams.err << "trunkgate: " << printable(path) << ": " << printable(e.what()) << "\n";
        return exit_usage;
    } catch (const std::exception& e) {
        // One repository that cannot be served does not stop the others.
        streams.err << "trunkgate: " << printable(path) << ": " << printable(e.what()) << "\n";
        return exit_error;
    }
    return exit_ok;
}

int run_queues(const cli_io& streams, const parsed_args& parsed) {
    int status = exit_ok;
    const auto repos = named_and_found_repositories(streams, parsed, status);
    const auto decisions = decide_owners(repos.paths, true, [](const std::string& path) {
        return std::vector<std::string>{"queue", "run", "--repo", path};
    });
    for (std::size_t i = 0; i < repos.paths.size(); ++i) {
        // Below --all-under, another user's repository that never had trunkgate is none of ours.
        if (repos.found(i) && !decisions[i].refusal.empty() && !has_trunkgate(decisions[i].git_dir))
            continue;
        status = std::max(status, serve_as_owner(streams, decisions[i], [&](const cli_io& out) {
                              return run_queues_of(out, repos.paths[i], repos.found(i));
                          }));
    }
    return status;
}

// After `queue add` and `queue cancel`: the runner builds what comes next (runner = "auto").
void start_runner(const cli_io& streams, const queue_repository& opened) {
    const auto problem = start_queue_runner(opened.git_dir, opened.rules_policy, streams.env);
    if (!problem.empty())
        streams.err << "trunkgate: " << printable(problem) << "\n";
}

} // namespace

int cmd_queue(const cli_io& streams, const parsed_args& parsed) {
    const auto& args = parsed.positionals;
    const std::string action = args.empty() ? "" : args[0];
    const auto repos = parsed.values("--repo");
    if (action == "run") {
        if (args.size() != 1)
            throw usage_error("usage: trunkgate queue run [--repo DIR]... [--all-under DIR]...");
        return run_queues(streams, parsed);
    }
    if (!parsed.values("--all-under").empty())
        throw usage_error("--all-under is for queue run only");
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
    if (action == "add") {
        const int status = add_to_queue(streams, parsed, opened);
        start_runner(streams, opened);
        return status;
    }
    if (action == "cancel" && args.size() == 2) {
        const auto by = resolve_identity(opened.rules_policy.identity_env, streams.env);
        const auto now = current_time();
        const auto deleted =
            cancel_change(opened.repo.get(), opened.rules_policy, opened.store, args[1], by, now);
        // CI hears that the speculative branch is gone, as it hears of every branch the queue
        // moves.
        publish_queue_updates(opened.repo.get(), opened.git_dir, opened.rules_policy, deleted,
                              streams.out, streams.err, streams.env);
        streams.out << "cancelled " << args[1] << "\n";
        start_runner(streams, opened); // what stood behind it is rebuilt
        return exit_ok;
    }
    throw usage_error("usage: trunkgate queue [add|cancel|run] ... (see trunkgate queue --help)");
}

} // namespace trunkgate
