#pragma once
// The CI statuses the report judges deployments and trunk by: read from the status notes, once
// per commit.

#include <git2.h>

#include <string>
#include <vector>

#include "trunkgate/checks/status.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/policy/policy.hpp"

namespace trunkgate {

/// The statuses of commits, read once each from the status notes. A damaged note reads as empty
/// and adds a line to `notes`.
class status_cache {
  public:
    status_cache(git_repository* repo, const checks_policy& checks, std::vector<std::string>& notes)
        : repo_(repo), notes_ref_(checks.notes_ref), notes_(notes) {}

    /// The statuses of `commit`; the reference stays valid as long as the cache.
    const status_map& of(const git_oid& commit);

  private:
    git_repository* repo_;
    std::string notes_ref_;
    std::vector<std::string>& notes_;
    oid_map<status_map> cache_;
};

/// The checks of `required` that fail in `statuses`: failure, error, or a state trunkgate does
/// not know; also the missing ones when `missing_fails`. Pending is never failing.
std::vector<unmet_check> failing_checks(const std::vector<std::string>& required,
                                        const status_map& statuses, bool missing_fails);

} // namespace trunkgate
