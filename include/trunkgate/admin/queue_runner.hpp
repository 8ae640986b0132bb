#pragma once
// Moving a repository's merge queues as a service: a pass of run_queue() with what it owes the
// rest of trunkgate (audit records, push events), repeated while new runs are asked for, and the
// detached start after every push and status (docs/queue.md, "Who moves the queue").

#include <git2.h>

#include <ostream>
#include <string>
#include <vector>

#include "trunkgate/history/ref_update.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/identity.hpp"

namespace trunkgate {

/// Runs the queues of the repository at `git_dir` until no new run was asked for meanwhile.
/// After each pass, its landings go to the audit log (as trunkgate-queue) and, with
/// [[events.endpoint]], push events for every branch it created, moved or deleted are queued and
/// delivered at once. Lines for people go to `out`, problems to `err`. Returns false when
/// another runner was at work (it passes once more for this one). Throws libgit2_error,
/// file_error and internal_error.
bool run_queue_until_settled(git_repository* repo, const std::string& git_dir,
                             const policy& rules_policy, std::ostream& out, std::ostream& err,
                             const env_lookup& env);

/// With a [[queue]] whose runner is "auto": asks for a queue run of the repository at
/// `git_dir` and starts one, detached (the caller does not wait; its lines go to
/// $GIT_DIR/trunkgate/queue/runner.log). Does nothing otherwise. Returns a problem for people,
/// or "" when all went well: it never throws, since what started it (a push, a status) has
/// already happened and must not fail for it.
std::string start_queue_runner(const std::string& git_dir, const policy& rules_policy,
                               const env_lookup& env);

/// Records what the queue did without a run (queue cancel): push events for `updates`.
void publish_queue_updates(git_repository* repo, const std::string& git_dir,
                           const policy& rules_policy, const std::vector<ref_update>& updates,
                           std::ostream& out, std::ostream& err, const env_lookup& env);

} // namespace trunkgate
