#include "trunkgate/report/report_deployments.hpp"

#include <algorithm>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "trunkgate/history/git.hpp"
#include "trunkgate/history/history.hpp"

namespace trunkgate {

namespace {

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
            if (!period_.contains(move.time))
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
        figures.days = counts_per_day(times, period_);
        figures.weeks = counts_per_week(times, period_);
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

} // namespace

std::vector<deploy_ref_figures> judge_deployments(git_repository* repo, const policy& rules_policy,
                                                  const report_period& period, commit_nodes& nodes,
                                                  status_cache& statuses,
                                                  const std::vector<deploy_history>& deploys) {
    deployment_judge judge(repo, rules_policy, period, nodes, statuses);
    std::vector<deploy_ref_figures> figures;
    for (const auto& history : deploys)
        figures.push_back(judge.judge(history));
    return figures;
}

} // namespace trunkgate
