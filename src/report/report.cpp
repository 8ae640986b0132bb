#include "trunkgate/report/report.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

#include "trunkgate/history/commit_nodes.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/history/history.hpp"
#include "trunkgate/history/refs.hpp"
#include "trunkgate/policy/glob.hpp"
#include "trunkgate/queue/store.hpp"
#include "trunkgate/report/report_facts.hpp"
#include "trunkgate/report/report_walks.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/files.hpp"

namespace trunkgate {

namespace {

constexpr std::int64_t day_seconds = 86400;
constexpr std::int64_t week_seconds = 7 * day_seconds;

std::int64_t floor_div(std::int64_t value, std::int64_t by) {
    return value / by - (value % by < 0 ? 1 : 0);
}

std::int64_t day_start(std::int64_t time) {
    return floor_div(time, day_seconds) * day_seconds;
}

// 1970-01-01 was a Thursday, three days after a Monday.
std::int64_t week_start(std::int64_t time) {
    const auto day = floor_div(time, day_seconds);
    return (day - ((day % 7 + 7 + 3) % 7)) * day_seconds;
}

bool in_period(std::int64_t time, const report_period& period) {
    return time >= period.since && time < period.until;
}

// One entry per day (or week) of the period, oldest first, with the count of `times` in it.
std::vector<period_count> count_by(const std::vector<std::int64_t>& times,
                                   const report_period& period,
                                   std::int64_t (*start_of)(std::int64_t), std::int64_t step) {
    std::vector<period_count> counts;
    if (period.until <= period.since)
        return counts;
    for (auto start = start_of(period.since); start <= start_of(period.until - 1); start += step)
        counts.push_back({start, 0});
    for (const auto time : times) {
        const auto index = (start_of(time) - counts.front().start) / step;
        if (index >= 0 && index < static_cast<std::int64_t>(counts.size()))
            ++counts[static_cast<std::size_t>(index)].count;
    }
    return counts;
}

// ---- what one pass over the moves finds ----

struct trunk_landing {
    std::int64_t time = 0;
    std::vector<std::string> pushers;
    bool queued = false;
    std::int64_t size = 0;
};

struct deploy_move {
    const ref_move* move = nullptr;
    std::vector<std::uint32_t> first_deployed; ///< kept for moves at or after `since`
};

struct deploy_history {
    std::string ref;
    std::vector<deploy_move> moves; ///< deletions left out
};

struct history_pass {
    std::vector<trunk_landing> landings;
    std::vector<ended_branch> ended;
    std::vector<deploy_history> deploys;
    std::map<std::string, const ref_move*> last_push;
    std::vector<const ref_move*> trunk_moves;
};

struct branch_life {
    std::int64_t created = 0;
    std::uint32_t tip = 0;
};

class history_walker {
  public:
    history_walker(git_repository* repo, const commit_graph* graph, const policy& rules_policy,
                   const report_period& period,
                   const std::map<std::string, std::string>& queue_pushers,
                   const std::vector<std::string>& deploy_refs)
        : nodes_(repo, graph), trunk_(nodes_), policy_(rules_policy), period_(period),
          queue_pushers_(queue_pushers) {
        for (const auto& ref : deploy_refs) {
            deploys_.push_back({ref, reach_set(nodes_), false});
            result_.deploys.push_back({ref, {}});
        }
    }

    history_pass walk(const std::deque<ref_move>& moves) {
        for (const auto& move : moves) {
            if (move.ref == policy_.trunk_ref())
                move_trunk(move);
            else if (const auto deploy = deploy_index(move.ref))
                move_deploy_ref(*deploy, move);
            else
                move_branch(move);
            result_.last_push[move.ref] = &move;
        }
        return std::move(result_);
    }

    commit_nodes& nodes() { return nodes_; }

  private:
    struct deploy_state {
        std::string ref;
        reach_set set;
        bool seen = false;
    };

    std::optional<std::size_t> deploy_index(const std::string& ref) const {
        for (std::size_t i = 0; i < deploys_.size(); ++i)
            if (deploys_[i].ref == ref)
                return i;
        return std::nullopt;
    }

    std::vector<std::string> pushers_of(const ref_move& move) const {
        if (move.queue.empty())
            return {move.identity};
        std::vector<std::string> pushers;
        for (const auto& id : move.queue) {
            const auto found = queue_pushers_.find(id);
            const auto& pusher = found != queue_pushers_.end() ? found->second : move.identity;
            if (std::find(pushers.begin(), pushers.end(), pusher) == pushers.end())
                pushers.push_back(pusher);
        }
        return pushers;
    }

    void move_trunk(const ref_move& move) {
        result_.trunk_moves.push_back(&move);
        if (!trunk_seen_ && !move.created)
            trunk_.add(move.old_id);
        trunk_seen_ = true;
        if (move.deleted)
            return;
        const auto added = trunk_.add(move.new_id);
        end_merged_branches(added, move.time);
        if (in_period(move.time, period_))
            result_.landings.push_back({move.time, pushers_of(move), !move.queue.empty(),
                                        static_cast<std::int64_t>(added.size())});
    }

    void end_merged_branches(const std::vector<std::uint32_t>& added, std::int64_t time) {
        for (const auto node : added) {
            const auto found = branches_at_.find(node);
            if (found == branches_at_.end())
                continue;
            for (const auto& ref : found->second) {
                const auto life = lives_.find(ref);
                if (life != lives_.end() && life->second.tip == node)
                    end_life(life, time, "merged");
            }
            branches_at_.erase(found);
        }
    }

    void move_deploy_ref(std::size_t index, const ref_move& move) {
        auto& state = deploys_[index];
        if (!state.seen && !move.created)
            state.set.add(move.old_id);
        state.seen = true;
        if (move.deleted)
            return;
        auto added = state.set.add(move.new_id);
        if (move.time < period_.since)
            added.clear();
        result_.deploys[index].moves.push_back({&move, std::move(added)});
    }

    void move_branch(const ref_move& move) {
        if (!policy_.is_short_lived_branch(move.ref))
            return;
        auto life = lives_.find(move.ref);
        if (move.deleted) {
            if (life != lives_.end())
                end_life(life, move.time, "deleted");
            return;
        }
        if (move.created)
            life = lives_.insert_or_assign(move.ref, branch_life{move.time, 0}).first;
        if (life == lives_.end())
            return; // created before the log began: no lifetime
        life->second.tip = nodes_.node_for(move.new_id);
        branches_at_[life->second.tip].push_back(move.ref);
    }

    void end_life(std::map<std::string, branch_life>::iterator life, std::int64_t time,
                  const char* how) {
        if (in_period(time, period_))
            result_.ended.push_back({life->first, life->second.created, time, how});
        lives_.erase(life);
    }

    commit_nodes nodes_;
    reach_set trunk_;
    bool trunk_seen_ = false;
    std::vector<deploy_state> deploys_;
    const policy& policy_;
    const report_period& period_;
    const std::map<std::string, std::string>& queue_pushers_;
    std::map<std::string, branch_life> lives_;
    std::unordered_map<std::uint32_t, std::vector<std::string>> branches_at_;
    history_pass result_;
};

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
        active_days.insert(day_start(landing.time));
        for (const auto& pusher : landing.pushers) {
            ++by_pusher[pusher].first;
            by_pusher[pusher].second.insert(day_start(landing.time));
        }
    }
    figures.active_pushers = static_cast<std::int64_t>(by_pusher.size());
    figures.active_days = static_cast<std::int64_t>(active_days.size());
    figures.per_day = period.days() > 0 ? static_cast<double>(figures.landings) / period.days() : 0;
    figures.per_pusher_per_day = figures.active_pushers > 0
                                     ? figures.per_day / static_cast<double>(figures.active_pushers)
                                     : 0;
    figures.size = make_distribution(sizes);
    figures.days = count_by(times, period, day_start, day_seconds);
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

// ---- statuses ----

// The statuses of commits, read once each from the notes.
class status_cache {
  public:
    status_cache(git_repository* repo, const checks_policy& checks, std::vector<std::string>& notes)
        : repo_(repo), notes_ref_(checks.notes_ref), notes_(notes) {}

    const status_map& of(const git_oid& commit) {
        auto found = cache_.find(commit);
        if (found != cache_.end())
            return found->second;
        status_map statuses;
        try {
            statuses = read_statuses(repo_, notes_ref_, commit);
        } catch (const input_error& e) {
            notes_.push_back("the status note of " + to_hex(commit) +
                             " is damaged and was read as empty: " + e.what());
        }
        return cache_.emplace(commit, std::move(statuses)).first->second;
    }

  private:
    git_repository* repo_;
    std::string notes_ref_;
    std::vector<std::string>& notes_;
    oid_map<status_map> cache_;
};

// The required checks of `statuses` that fail: failure, error, or a state trunkgate does not
// know; also missing ones when `missing_fails`.
std::vector<unmet_check> failing_checks(const std::vector<std::string>& required,
                                        const status_map& statuses, bool missing_fails) {
    auto unmet = unmet_checks(required, statuses);
    unmet.erase(std::remove_if(unmet.begin(), unmet.end(),
                               [&](const unmet_check& check) {
                                   return check.state == "pending" ||
                                          (check.state == "missing" && !missing_fails);
                               }),
                unmet.end());
    return unmet;
}

// ---- deployments ----

struct commit_facts {
    std::int64_t author_time = 0;
    std::optional<git_oid> reverts;
};

// "This reverts commit <40 hex>" anywhere in the message, as `git revert` writes it.
std::optional<git_oid> reverted_commit(const char* message) {
    static constexpr std::string_view marker = "This reverts commit ";
    const std::string_view text(message ? message : "");
    const auto at = text.find(marker);
    if (at == std::string_view::npos || text.size() < at + marker.size() + GIT_OID_HEXSZ)
        return std::nullopt;
    git_oid id;
    if (git_oid_fromstrn(&id, text.data() + at + marker.size(), GIT_OID_HEXSZ) != 0)
        return std::nullopt;
    return id;
}

commit_facts read_commit_facts(git_repository* repo, const git_oid& id) {
    commit_facts facts;
    const auto commit = find_commit(repo, id);
    if (!commit)
        return facts;
    facts.author_time = static_cast<std::int64_t>(git_commit_author(commit->get())->when.time);
    facts.reverts = reverted_commit(git_commit_message(commit->get()));
    return facts;
}

class deployment_judge {
  public:
    deployment_judge(git_repository* repo, const policy& rules_policy, const report_period& period,
                     commit_nodes& nodes, status_cache& statuses)
        : repo_(repo), policy_(rules_policy), period_(period), nodes_(nodes), statuses_(statuses) {}

    deploy_ref_figures judge(const deploy_history& history) {
        deploy_ref_figures figures;
        figures.ref = history.ref;
        read_first_deployed(history);
        const auto failures = failures_of(history);
        std::vector<std::int64_t> times;
        std::vector<std::int64_t> restores;
        for (std::size_t i = 0; i < history.moves.size(); ++i) {
            const auto& move = *history.moves[i].move;
            if (!in_period(move.time, period_))
                continue;
            times.push_back(move.time);
            deployment made{move.time,
                            move.identity,
                            to_hex(move.old_id),
                            to_hex(move.new_id),
                            static_cast<std::int64_t>(history.moves[i].first_deployed.size()),
                            failures[i],
                            std::nullopt};
            add_lead_times(history.moves[i], move.time);
            if (!made.failed_by.empty()) {
                ++figures.failed;
                made.restored_after = restored_after(history, failures, i);
                if (made.restored_after)
                    restores.push_back(*made.restored_after);
                else
                    ++figures.unrestored;
            }
            figures.deployments.push_back(std::move(made));
        }
        fill_frequency(figures, times);
        figures.lead_time = make_distribution(lead_times_);
        figures.lead_time_ranges = duration_ranges(lead_times_);
        if (!figures.deployments.empty())
            figures.change_failure_rate = static_cast<double>(figures.failed) /
                                          static_cast<double>(figures.deployments.size());
        figures.time_to_restore = make_distribution(restores);
        figures.bands = {deployment_frequency_band(figures.per_day),
                         lead_time_band(figures.lead_time.median),
                         change_failure_band(figures.change_failure_rate),
                         time_to_restore_band(figures.time_to_restore.median)};
        lead_times_.clear();
        return figures;
    }

  private:
    void fill_frequency(deploy_ref_figures& figures, const std::vector<std::int64_t>& times) {
        const auto days = period_.days();
        figures.per_day = days > 0 ? static_cast<double>(times.size()) / days : 0;
        figures.per_week = figures.per_day * 7;
        figures.days = count_by(times, period_, day_start, day_seconds);
        figures.weeks = count_by(times, period_, week_start, week_seconds);
    }

    void read_first_deployed(const deploy_history& history) {
        for (const auto& move : history.moves)
            for (const auto node : move.first_deployed)
                if (!facts_.count(node))
                    facts_.emplace(node, read_commit_facts(repo_, nodes_[node].id));
    }

    void add_lead_times(const deploy_move& move, std::int64_t time) {
        for (const auto node : move.first_deployed)
            lead_times_.push_back(std::max<std::int64_t>(0, time - facts_[node].author_time));
    }

    // Why each move failed: "rollback", "revert", "check".
    std::vector<std::vector<std::string>> failures_of(const deploy_history& history) {
        std::vector<std::vector<std::string>> failures(history.moves.size());
        const auto reverted = reverts_by_move(history);
        const auto required = policy_.required_checks(history.ref);
        const auto window = policy_.report.failure_window_days * day_seconds;
        for (std::size_t i = 0; i < history.moves.size(); ++i) {
            const auto& move = *history.moves[i].move;
            if (move.time < period_.since)
                continue;
            if (i + 1 < history.moves.size() &&
                !is_ancestor(repo_, move.new_id, history.moves[i + 1].move->new_id))
                failures[i].push_back("rollback");
            if (is_reverted(history, reverted, i, window))
                failures[i].push_back("revert");
            if (!failing_checks(required, statuses_.of(move.new_id), false).empty())
                failures[i].push_back("check");
        }
        return failures;
    }

    // For each reverted commit: the index of the first move that deployed its revert.
    oid_map<std::size_t> reverts_by_move(const deploy_history& history) {
        oid_map<std::size_t> reverted;
        for (std::size_t i = 0; i < history.moves.size(); ++i)
            for (const auto node : history.moves[i].first_deployed)
                if (const auto& target = facts_[node].reverts)
                    reverted.emplace(*target, i);
        return reverted;
    }

    bool is_reverted(const deploy_history& history, const oid_map<std::size_t>& reverted,
                     std::size_t index, std::int64_t window) {
        const auto time = history.moves[index].move->time;
        for (const auto node : history.moves[index].first_deployed) {
            const auto found = reverted.find(nodes_[node].id);
            if (found != reverted.end() && found->second > index &&
                history.moves[found->second].move->time - time <= window)
                return true;
        }
        return false;
    }

    static std::optional<std::int64_t>
    restored_after(const deploy_history& history,
                   const std::vector<std::vector<std::string>>& failures, std::size_t index) {
        for (auto next = index + 1; next < history.moves.size(); ++next)
            if (failures[next].empty())
                return history.moves[next].move->time - history.moves[index].move->time;
        return std::nullopt;
    }

    git_repository* repo_;
    const policy& policy_;
    const report_period& period_;
    commit_nodes& nodes_;
    status_cache& statuses_;
    std::unordered_map<std::uint32_t, commit_facts> facts_;
    std::vector<std::int64_t> lead_times_;
};

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
        if (is_active(entry.state) || !in_period(entry.ended_at, period))
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
    const auto entries = journal_entries(git_dir, result.notes);
    std::map<std::string, std::string> queue_pushers;
    for (const auto& entry : entries)
        queue_pushers.emplace(entry.id, entry.pusher);
    const auto deploy_refs = deploy_refs_in(facts.moves, deploy_patterns);
    const auto notes_before = result.notes.size();
    with_commit_graph(repo, [&](const commit_graph* graph) {
        result.notes.resize(notes_before); // a walk redone without the graph says it again
        status_cache statuses(repo, rules_policy.checks, result.notes);
        history_walker walker(repo, graph, rules_policy, period, queue_pushers, deploy_refs);
        const auto pass = walker.walk(facts.moves);
        result.integration = integration_of(pass, rules_policy, period);
        result.branches =
            branches_of(repo, rules_policy, period, pass, walker.nodes(), result.notes);
        deployment_judge judge(repo, rules_policy, period, walker.nodes(), statuses);
        result.deployments.clear();
        for (const auto& history : pass.deploys)
            result.deployments.push_back(judge.judge(history));
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
