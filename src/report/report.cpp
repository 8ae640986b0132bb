#include "trunkgate/report/report.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "trunkgate/history/commit_nodes.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/history/refs.hpp"
#include "trunkgate/policy/glob.hpp"
#include "trunkgate/queue/store.hpp"
#include "trunkgate/report/report_deployments.hpp"
#include "trunkgate/report/report_facts.hpp"
#include "trunkgate/report/report_history.hpp"
#include "trunkgate/report/report_statuses.hpp"
#include "trunkgate/report/report_walks.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/files.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

namespace {

// ---- integration ----

integration_figures integration_of(const history_pass& pass, const policy& rules_policy,
                                   const report_period& period) {
    integration_figures figures;
    figures.trunk_ref = rules_policy.trunk_ref();
    std::vector<std::int64_t> times;
    std::vector<std::int64_t> sizes;
    std::set<std::int64_t> active_days;
    std::map<std::string, std::pair<std::int64_t, std::set<std::int64_t>>> by_pusher;
    for (const auto& landing : pass.landings) {
        ++figures.landings;
        ++(landing.queued ? figures.queued : figures.direct);
        times.push_back(landing.time);
        sizes.push_back(landing.size);
        active_days.insert(utc_day_start(landing.time));
        for (const auto& pusher : landing.pushers) {
            ++by_pusher[pusher].first;
            by_pusher[pusher].second.insert(utc_day_start(landing.time));
        }
    }
    figures.active_pushers = static_cast<std::int64_t>(by_pusher.size());
    figures.active_days = static_cast<std::int64_t>(active_days.size());
    figures.per_day = period.days() > 0 ? static_cast<double>(figures.landings) / period.days() : 0;
    figures.per_pusher_per_day = figures.active_pushers > 0
                                     ? figures.per_day / static_cast<double>(figures.active_pushers)
                                     : 0;
    figures.size = make_distribution(sizes);
    figures.days = counts_per_day(times, period);
    for (const auto& [identity, counts] : by_pusher) {
        const auto days = static_cast<std::int64_t>(counts.second.size());
        figures.pushers.push_back(
            {identity, counts.first, days,
             static_cast<double>(days) / static_cast<double>(figures.active_days)});
    }
    std::stable_sort(
        figures.pushers.begin(), figures.pushers.end(),
        [](const pusher_figures& a, const pusher_figures& b) { return a.landings > b.landings; });
    return figures;
}

// ---- branches ----

std::vector<std::string> limits_exceeded(const branch_policy& limits, const live_branch& branch) {
    std::vector<std::string> over;
    if (limits.max_age_days && branch.oldest_time &&
        branch.age_seconds > *limits.max_age_days * day_seconds)
        over.push_back("branch-age");
    if (limits.max_behind && branch.behind > *limits.max_behind)
        over.push_back("up-to-date");
    if (limits.max_ahead && branch.ahead > *limits.max_ahead)
        over.push_back("branch-size");
    return over;
}

void measure_live_branch(const git_oid& tip, trunk_ancestry& ancestry, std::int64_t now,
                         live_branch& branch) {
    const auto measured = ancestry.measure(tip);
    branch.behind = measured.behind;
    branch.ahead = measured.ahead;
    branch.oldest_time = measured.oldest_time;
    if (branch.oldest_time)
        branch.age_seconds = std::max<std::int64_t>(0, now - *branch.oldest_time);
}

std::vector<live_branch> live_branches(git_repository* repo, const policy& rules_policy,
                                       const report_period& period, const history_pass& pass,
                                       commit_nodes& nodes, std::vector<std::string>& notes) {
    const auto trunk = read_ref(repo, rules_policy.trunk_ref());
    std::optional<trunk_ancestry> ancestry;
    if (trunk)
        ancestry.emplace(nodes, *trunk);
    std::vector<live_branch> live;
    for_each_ref_commit(repo, "refs/heads/*", [&](std::string_view name, const git_oid& tip) {
        if (!rules_policy.is_short_lived_branch(name))
            return;
        live_branch branch;
        branch.ref = std::string(name);
        if (trunk)
            measure_live_branch(tip, *ancestry, period.now, branch);
        const auto pushed = pass.last_push.find(branch.ref);
        if (pushed != pass.last_push.end()) {
            branch.last_push_time = pushed->second->time;
            branch.last_pusher = pushed->second->identity;
        }
        branch.over_limits = limits_exceeded(rules_policy.branches, branch);
        live.push_back(std::move(branch));
    });
    if (!trunk && !live.empty())
        notes.push_back(rules_policy.trunk_ref() +
                        " does not exist: branches are not measured against trunk");
    std::sort(live.begin(), live.end(), [](const live_branch& a, const live_branch& b) {
        if (a.over_limits.empty() != b.over_limits.empty())
            return !a.over_limits.empty();
        if (a.age_seconds != b.age_seconds)
            return a.age_seconds > b.age_seconds;
        return a.ref < b.ref;
    });
    return live;
}

branch_figures branches_of(git_repository* repo, const policy& rules_policy,
                           const report_period& period, const history_pass& pass,
                           commit_nodes& nodes, std::vector<std::string>& notes) {
    branch_figures figures;
    figures.max_age_days = rules_policy.branches.max_age_days;
    figures.live = live_branches(repo, rules_policy, period, pass, nodes, notes);
    figures.ended = pass.ended;
    std::vector<std::int64_t> lifetimes;
    for (const auto& ended : figures.ended)
        lifetimes.push_back(ended.ended - ended.created);
    figures.lifetime = make_distribution(lifetimes);
    figures.lifetime_ranges = duration_ranges(lifetimes);
    return figures;
}

// ---- trunk health ----

// The trunk's tip at `since`: the last move before it, or the first move's old value.
std::optional<git_oid> tip_at_start(const std::vector<const ref_move*>& moves,
                                    const report_period& period) {
    std::optional<git_oid> tip;
    for (const auto* move : moves) {
        if (move->time >= period.since)
            return tip ? tip
                       : (move->created ? std::nullopt : std::optional<git_oid>(move->old_id));
        tip = move->deleted ? std::nullopt : std::optional<git_oid>(move->new_id);
    }
    return tip;
}

// Trunk is observed from the period's start, or from the log's first record if that is later:
// before it trunkgate saw nothing, and trunk may not have been at the first record's old value,
// or existed at all.
trunk_health_figures trunk_health_of(const history_pass& pass, const policy& rules_policy,
                                     const report_period& period,
                                     std::optional<std::int64_t> log_began, status_cache& statuses,
                                     std::vector<std::string>& notes) {
    trunk_health_figures figures;
    figures.required_checks = rules_policy.required_checks(rules_policy.trunk_ref());
    const auto end = std::min(period.until, period.now);
    auto tip = tip_at_start(pass.trunk_moves, period);
    auto from = std::max(period.since, log_began.value_or(end));
    const auto close_span = [&](std::int64_t to) {
        if (!tip || to <= from)
            return;
        figures.observed_seconds += to - from;
        auto unmet = failing_checks(figures.required_checks, statuses.of(*tip), true);
        if (figures.required_checks.empty() || unmet.empty())
            return;
        figures.red_seconds += to - from;
        figures.red.push_back({from, to, to_hex(*tip), std::move(unmet)});
    };
    for (const auto* move : pass.trunk_moves) {
        if (move->time < period.since || move->time >= end)
            continue;
        close_span(move->time);
        from = move->time;
        tip = move->deleted ? std::nullopt : std::optional<git_oid>(move->new_id);
    }
    close_span(end);
    if (figures.required_checks.empty())
        notes.push_back("trunk has no required checks, so it is never red");
    else if (figures.observed_seconds > 0)
        figures.red_share = static_cast<double>(figures.red_seconds) /
                            static_cast<double>(figures.observed_seconds);
    return figures;
}

// ---- queue ----

std::string ejection_reason(const std::string& reason) {
    if (reason.rfind("check ", 0) == 0)
        return "check-failed";
    if (reason.rfind("no verdict from CI", 0) == 0)
        return "check-timeout";
    if (reason.find("(conflicts: ") != std::string::npos)
        return "conflict";
    if (reason.rfind("its commits are gone", 0) == 0)
        return "change-missing";
    if (reason.rfind("nothing to land", 0) == 0)
        return "nothing-to-land";
    return "other";
}

// CI builds of `ended` entries: the distinct speculative commits they were built in. An entry
// from a journal older than that list counts its builds shared out over its batch.
std::int64_t ci_builds(const std::vector<const queue_entry*>& ended) {
    std::set<std::string> built;
    double unlisted = 0;
    for (const auto* entry : ended) {
        built.insert(entry->built.begin(), entry->built.end());
        if (entry->built.empty())
            unlisted +=
                static_cast<double>(entry->builds) / static_cast<double>(batch_size_of(*entry));
    }
    return static_cast<std::int64_t>(built.size()) + std::llround(unlisted);
}

queue_figures queue_of(const std::vector<queue_entry>& entries, const report_period& period) {
    queue_figures figures;
    std::vector<std::int64_t> to_land;
    std::map<std::string, std::int64_t> ejections;
    std::vector<const queue_entry*> ended;
    for (const auto& entry : entries) {
        if (is_active(entry.state) || !period.contains(entry.ended_at))
            continue;
        ended.push_back(&entry);
        if (entry.state == queue_state::landed) {
            ++figures.landed;
            to_land.push_back(entry.ended_at - entry.enqueued_at);
        } else if (entry.state == queue_state::ejected) {
            ++figures.ejected;
            ++ejections[ejection_reason(entry.reason)];
        } else {
            ++figures.cancelled;
        }
    }
    figures.builds = ci_builds(ended);
    figures.time_to_land = make_distribution(to_land);
    for (const auto& [reason, count] : ejections)
        figures.ejections.push_back({reason, count});
    std::stable_sort(
        figures.ejections.begin(), figures.ejections.end(),
        [](const reason_count& a, const reason_count& b) { return a.count > b.count; });
    if (figures.landed > 0)
        figures.builds_per_landed =
            static_cast<double>(figures.builds) / static_cast<double>(figures.landed);
    return figures;
}

// ---- assembling ----

// The deploy refs the log records, in the order of the patterns, then by name.
std::vector<std::string> deploy_refs_in(const std::deque<ref_move>& moves,
                                        const std::vector<std::string>& patterns) {
    std::vector<std::string> refs;
    for (const auto& pattern : patterns) {
        std::set<std::string> matched;
        for (const auto& move : moves)
            if (glob_match(pattern, move.ref) &&
                std::find(refs.begin(), refs.end(), move.ref) == refs.end())
                matched.insert(move.ref);
        refs.insert(refs.end(), matched.begin(), matched.end());
    }
    return refs;
}

std::vector<queue_entry> journal_entries(const std::string& git_dir,
                                         std::vector<std::string>& notes) {
    const auto dir = git_dir + "trunkgate/queue";
    if (!file_exists(dir))
        return {};
    std::vector<std::string> unreadable;
    auto entries = queue_store(dir).entries({}, &unreadable);
    for (const auto& name : unreadable)
        notes.push_back("queue entry " + name + " cannot be read and was skipped");
    return entries;
}

std::vector<rule_count> rejections_of(const audit_facts& facts) {
    std::vector<rule_count> counts;
    for (const auto& [rule, pushes] : facts.blocking_rules)
        counts.push_back({rule, pushes});
    std::stable_sort(counts.begin(), counts.end(),
                     [](const rule_count& a, const rule_count& b) { return a.pushes > b.pushes; });
    return counts;
}

} // namespace

report build_report(git_repository* repo, const std::string& git_dir, const policy& rules_policy,
                    const report_period& period) {
    report result;
    result.repository = git_dir.size() > 1 && git_dir.back() == '/'
                            ? git_dir.substr(0, git_dir.size() - 1)
                            : git_dir;
    result.period = period;
    const auto deploy_patterns = rules_policy.deploy_refs();
    auto facts = read_audit_facts(git_dir, period, [&](std::string_view ref) {
        return ref == rules_policy.trunk_ref() || glob_match_any(deploy_patterns, ref) ||
               rules_policy.is_short_lived_branch(ref);
    });
    result.notes = std::move(facts.notes);
    if (facts.log_began && *facts.log_began > period.since) {
        const auto began = iso8601(*facts.log_began, 0);
        result.notes.push_back("the audit log begins at " + began +
                               ", after the period's start: rates per day and week count days "
                               "trunkgate did not see (--since " +
                               began + " reports only what it saw)");
    }
    const auto entries = journal_entries(git_dir, result.notes);
    std::map<std::string, std::string> queue_pushers;
    for (const auto& entry : entries)
        queue_pushers.emplace(entry.id, entry.pusher);
    const auto deploy_refs = deploy_refs_in(facts.moves, deploy_patterns);
    const auto notes_before = result.notes.size();
    with_commit_graph(repo, [&](const commit_graph* graph) {
        result.notes.resize(notes_before); // a walk redone without the graph says it again
        status_cache statuses(repo, rules_policy.checks, result.notes);
        commit_nodes nodes(repo, graph);
        const auto pass =
            walk_history(nodes, rules_policy, period, queue_pushers, deploy_refs, facts.moves);
        result.integration = integration_of(pass, rules_policy, period);
        result.branches = branches_of(repo, rules_policy, period, pass, nodes, result.notes);
        result.deployments =
            judge_deployments(repo, rules_policy, period, nodes, statuses, pass.deploys);
        result.trunk_health =
            trunk_health_of(pass, rules_policy, period, facts.log_began, statuses, result.notes);
        return 0;
    });
    result.bypasses = std::move(facts.bypasses);
    result.rejected_pushes = facts.rejected_pushes;
    result.rejections = rejections_of(facts);
    if (!rules_policy.queues.empty() || !entries.empty())
        result.queue = queue_of(entries, period);
    if (rules_policy.checks.source != checks_policy::source_kind::notes)
        result.notes.push_back("statuses come from an HTTP API; the report reads only the "
                               "status notes for trunk red time and failed checks");
    return result;
}

} // namespace trunkgate
