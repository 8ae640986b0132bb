#pragma once
// The deployments of each deploy ref, judged: frequency, lead times, failures (rollback, revert,
// check) and time to restore (docs/report.md, "Deployments").

#include <git2.h>

#include <vector>

#include "trunkgate/history/commit_nodes.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/report/report.hpp"
#include "trunkgate/report/report_history.hpp"
#include "trunkgate/report/report_statuses.hpp"

namespace trunkgate {

/// The figures of each deploy ref of `deploys`, in their order. `nodes` is the table the history
/// pass filled. Throws libgit2_error when a commit cannot be read.
std::vector<deploy_ref_figures> judge_deployments(git_repository* repo, const policy& rules_policy,
                                                  const report_period& period, commit_nodes& nodes,
                                                  status_cache& statuses,
                                                  const std::vector<deploy_history>& deploys);

} // namespace trunkgate
