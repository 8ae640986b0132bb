// deliver and events: sending what a repository's spool holds, and listing it.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <sys/stat.h>

#include "trunkgate/admin/fleet.hpp"
#include "trunkgate/cli/commands.hpp"
#include "trunkgate/cli/repositories.hpp"
#include "trunkgate/events/delivery.hpp"
#include "trunkgate/events/spool.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/history/policy_lookup.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/http.hpp"
#include "trunkgate/util/text.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

namespace {

// A repository's policy and spool, for the event commands.
struct repository_spool {
    std::string path;
    policy rules_policy;
    std::optional<spool> queue;
};

// A repository's policy, and its spool when it has events configured or queued (nullopt otherwise).
repository_spool open_spool(const std::string& path, const env_lookup& env,
                            bool only_if_used = false) {
    const auto repo = open_repository_at(path, true);
    const auto dir = git_dir(repo.get());
    repository_spool opened{path, load_repository_policy(repo.get(), env), std::nullopt};
    const auto spool_dir = spool_dir_for(opened.rules_policy, dir);
    struct stat info {};
    if (only_if_used && opened.rules_policy.events.endpoints.empty() &&
        ::stat(spool_dir.c_str(), &info) != 0)
        return opened;
    opened.queue.emplace(spool_dir);
    return opened;
}

// Delivers what is due in one repository's spool; its exit status (docs/cli.md).
int deliver_repository(const cli_io& streams, const std::string& path, bool discovered,
                       http_client& client) {
    int status = exit_ok;
    try {
        // Below --all-under, a repository without trunkgate or without events is not ours to
        // touch: no spool is created and nothing is reported.
        auto opened = open_spool(path, streams.env, discovered);
        if (!opened.queue)
            return exit_ok;
        // Pushes whose hook died before it queued them: queued now, or reported as lost.
        for (const auto& line : opened.queue->recover_staged()) {
            streams.out << printable(path) << ": " << printable(line) << "\n";
            if (line.rfind("push ", 0) == 0)
                status = std::max<int>(status, exit_rejected);
        }
        delivery_options options;
        options.now = static_cast<std::int64_t>(std::time(nullptr));
        options.max_age_hours = opened.rules_policy.events.max_age_hours;
        const auto report = deliver_due(*opened.queue, client, streams.env, options);
        for (const auto& line : report.lines)
            streams.out << printable(path) << ": " << printable(line) << "\n";
        streams.out << printable(path) << ": " << report.delivered << " delivered, "
                    << report.retrying << " retrying, " << report.failed << " failed, "
                    << report.dead << " dead, " << report.busy << " busy, " << report.unreadable
                    << " unreadable\n";
        // Anything waiting for a retry, failed, given up on or unreadable is worth a look (an
        // entry another run is sending right now is that run's business).
        const auto left = opened.queue->list("queue").entries;
        const bool unresolved =
            std::any_of(left.begin(), left.end(), [&](const spool_entry& entry) {
                return entry.state == "failed" ||
                       (entry.attempts > 0 && entry.next_try > options.now);
            });
        if (report.dead || report.unreadable || unresolved)
            status = std::max<int>(status, exit_rejected);
    } catch (const missing_policy_error& e) {
        if (discovered)
            return exit_ok;
        streams.err << "trunkgate: " << printable(path) << ": " << e.what() << "\n";
        return exit_error;
    } catch (const policy_error& e) {
        streams.err << "trunkgate: " << printable(path) << ": " << e.what() << "\n";
        return exit_error;
    } catch (const internal_error& e) {
        // A repository libgit2 cannot read (a damaged config), or a spool that cannot be listed
        // or written, does not stop the others.
        streams.err << "trunkgate: " << printable(path) << ": error: " << printable(e.what())
                    << "\n";
        return exit_error;
    } catch (const input_error& e) {
        streams.err << "trunkgate: " << e.what() << "\n";
        return exit_usage;
    }
    return status;
}

std::string format_time(std::int64_t time) {
    return time ? iso8601(time, 0) : "";
}

} // namespace

int cmd_deliver(const cli_io& streams, const parsed_args& parsed) {
    int status = exit_ok;
    const auto repos = named_and_found_repositories(streams, parsed, status);
    const auto& paths = repos.paths;
    const auto decisions = decide_owners(paths, true, [](const std::string& path) {
        return std::vector<std::string>{"deliver", "--repo", path};
    });
    const auto client = make_curl_client();
    for (std::size_t i = 0; i < paths.size(); ++i) {
        const auto& path = paths[i];
        const bool discovered = repos.found(i);
        const auto& decision = decisions[i];
        // Below --all-under, another user's repository that never had trunkgate is none of
        // ours, as one without a policy is; one that has is refused (exit 2), never skipped.
        if (discovered && !decision.refusal.empty() && !has_trunkgate(decision.git_dir))
            continue;
        const int served = serve_as_owner(streams, decision, [&](const cli_io& out) {
            if (!decision.become)
                return deliver_repository(out, path, discovered, *client);
            const auto own = make_curl_client(); // a child acting as the owner: its own
            return deliver_repository(out, path, discovered, *own);
        });
        // A --repo that is no repository stops the run, as a usage error does.
        if (served == exit_usage && decision.refusal.empty() && !discovered)
            return exit_usage;
        status = std::max(status, served);
    }
    return status;
}

int cmd_events(const cli_io& streams, const parsed_args& parsed) {
    // Listing writes too: it creates the spool and queues what a dead hook had staged.
    const auto path = parsed.option("--repo").value_or(".");
    act_as_owner(streams, path, true);
    const auto opened = open_spool(path, streams.env);
    if (!parsed.positionals.empty()) {
        if (parsed.positionals.size() != 2 || parsed.positionals[0] != "redeliver")
            throw usage_error("usage: trunkgate events redeliver [--repo DIR] ID");
        const auto& id = parsed.positionals[1];
        bool requeued = false;
        try {
            requeued = opened.queue->requeue(id, static_cast<std::int64_t>(std::time(nullptr)));
        } catch (const entry_error& e) {
            streams.err << "trunkgate: error: event " << printable(id)
                        << " cannot be read: " << printable(e.what()) << "\n";
            return exit_error;
        }
        if (!requeued) {
            streams.err << "trunkgate: no event " << printable(id) << " in " << opened.queue->dir()
                        << "\n";
            return exit_usage;
        }
        streams.out << "queued " << id << " again; `trunkgate deliver` sends it\n";
        return exit_ok;
    }
    const auto format = parsed.option("--format").value_or("text");
    require_text_or_json(format);
    for (const auto& line : opened.queue->recover_staged())
        streams.err << "trunkgate: " << printable(line) << "\n";
    const auto abandoned = opened.queue->abandoned();
    auto queued = opened.queue->list("queue");
    auto dead = opened.queue->list("dead");
    const auto delivered = opened.queue->list("delivered");
    std::vector<std::pair<std::string, spool_entry>> listed; // area, entry
    for (auto& entry : queued.entries)
        listed.emplace_back("queue", std::move(entry));
    for (auto& entry : dead.entries) {
        entry.state = "dead";
        listed.emplace_back("dead", std::move(entry));
    }
    // Whatever cannot be read is listed too, wherever it is: an event must never go unseen.
    std::vector<unreadable_entry> unreadable = queued.unreadable;
    unreadable.insert(unreadable.end(), dead.unreadable.begin(), dead.unreadable.end());
    unreadable.insert(unreadable.end(), delivered.unreadable.begin(), delivered.unreadable.end());
    if (format == "json") {
        auto events = nlohmann::ordered_json::array();
        for (const auto& [area, entry] : listed)
            events.push_back(
                {{"id", entry.id},
                 {"state", entry.state},
                 {"area", area},
                 {"ref", entry.ref},
                 {"endpoint", redact_url(entry.url)},
                 {"attempts", entry.attempts},
                 {"created_at", format_time(entry.created_at)},
                 {"next_try", entry.state == "queued" ? format_time(entry.next_try) : ""},
                 {"last_status", entry.last_status},
                 {"last_error", entry.last_error}});
        for (const auto& bad : unreadable)
            events.push_back({{"id", bad.id},
                              {"state", "unreadable"},
                              {"area", bad.area},
                              {"ref", ""},
                              {"endpoint", ""},
                              {"attempts", 0},
                              {"created_at", ""},
                              {"next_try", ""},
                              {"last_status", 0},
                              {"last_error", bad.reason}});
        auto interrupted = nlohmann::ordered_json::array();
        for (const auto& [push_id, entries] : abandoned)
            interrupted.push_back({{"push", push_id}, {"staged", entries}});
        streams.out << nlohmann::ordered_json{{"events", events},
                                              {"delivered", delivered.entries.size()},
                                              {"abandoned", interrupted}}
                           .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                    << "\n";
        return exit_ok;
    }
    for (const auto& [area, entry] : listed)
        streams.out << entry.id << "  " << entry.state << "  attempts " << entry.attempts << "  "
                    << printable(entry.ref) << "  " << printable(redact_url(entry.url))
                    << (entry.state == "queued" ? "  next " + format_time(entry.next_try) : "")
                    << (entry.last_error.empty() ? ""
                                                 : "  last error: " + printable(entry.last_error))
                    << "\n";
    for (const auto& bad : unreadable)
        streams.out << printable(bad.id) << "  unreadable  " << bad.area << "/" << printable(bad.id)
                    << ".json  " << printable(bad.reason) << "\n";
    for (const auto& [push_id, entries] : abandoned)
        streams.out << "push " << push_id << "  abandoned  " << entries
                    << " deliveries staged by a hook that was stopped before it queued them ("
                    << opened.queue->dir() << "/abandoned/" << push_id << ")\n";
    streams.out << listed.size() << " waiting, failed or dead; "
                << (unreadable.empty() ? std::string()
                                       : std::to_string(unreadable.size()) + " unreadable; ")
                << delivered.entries.size() << " delivered (the most recent kept)"
                << (abandoned.empty()
                        ? std::string()
                        : "; " + std::to_string(abandoned.size()) + " interrupted pushes abandoned")
                << "\n";
    return exit_ok;
}

} // namespace trunkgate
