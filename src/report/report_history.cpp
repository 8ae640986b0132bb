#include "trunkgate/report/report_history.hpp"

#include <algorithm>
#include <optional>
#include <unordered_map>

#include "trunkgate/report/report_walks.hpp"

namespace trunkgate {

namespace {

struct branch_life {
    std::int64_t created = 0;
    std::uint32_t tip = 0;
};

class history_walker {
  public:
    history_walker(commit_nodes& nodes, const policy& rules_policy, const report_period& period,
                   const std::map<std::string, std::string>& queue_pushers,
                   const std::vector<std::string>& deploy_refs)
        : nodes_(nodes), trunk_(nodes_), policy_(rules_policy), period_(period),
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
        if (period_.contains(move.time))
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
        if (period_.contains(time))
            result_.ended.push_back({life->first, life->second.created, time, how});
        lives_.erase(life);
    }

    commit_nodes& nodes_;
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

} // namespace

history_pass walk_history(commit_nodes& nodes, const policy& rules_policy,
                          const report_period& period,
                          const std::map<std::string, std::string>& queue_pushers,
                          const std::vector<std::string>& deploy_refs,
                          const std::deque<ref_move>& moves) {
    return history_walker(nodes, rules_policy, period, queue_pushers, deploy_refs).walk(moves);
}

} // namespace trunkgate
