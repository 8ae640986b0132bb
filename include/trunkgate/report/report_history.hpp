#pragma once
// The report's one pass over the moves the audit log recorded (trunk, deploy refs, branches):
// trunk landings and their sizes, branch lives, and the commits each deployment deployed first.

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "trunkgate/history/commit_nodes.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/report/report.hpp"
#include "trunkgate/report/report_facts.hpp"

namespace trunkgate {

/// A move of trunk within the period.
struct trunk_landing {
    std::int64_t time = 0;
    std::vector<std::string> pushers;
    bool queued = false;
    std::int64_t size = 0; ///< commits that reached trunk for the first time
};

/// A move of a deploy ref, with the commits it deployed first (nodes of the walk's table).
struct deploy_move {
    const ref_move* move = nullptr;
    std::vector<std::uint32_t> first_deployed; ///< kept for moves at or after `since`
};

struct deploy_history {
    std::string ref;
    std::vector<deploy_move> moves; ///< deletions left out
};

/// What one pass over the log's moves finds.
struct history_pass {
    std::vector<trunk_landing> landings;
    std::vector<ended_branch> ended; ///< branch lives that ended within the period
    std::vector<deploy_history> deploys;
    std::map<std::string, const ref_move*> last_push; ///< each ref's last move
    std::vector<const ref_move*> trunk_moves;
};

/// Walks `moves` (log order) once, growing one reach set for trunk and one per deploy ref in
/// `nodes`: a commit is read once however often a ref moves. `queue_pushers` maps a queue entry
/// id to its pusher; `deploy_refs` are the deploy refs to follow. The pass points into `moves`.
/// Throws libgit2_error when a commit cannot be read.
history_pass walk_history(commit_nodes& nodes, const policy& rules_policy,
                          const report_period& period,
                          const std::map<std::string, std::string>& queue_pushers,
                          const std::vector<std::string>& deploy_refs,
                          const std::deque<ref_move>& moves);

} // namespace trunkgate
