#pragma once
// The policy of a repository, found the way the hooks find it (docs/policy.md, "Where the policy
// is found"): TRUNKGATE_POLICY, then git config trunkgate.policy, then $GIT_DIR/trunkgate.toml,
// then the server-wide policy.

#include <git2.h>

#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/identity.hpp"

namespace trunkgate {

/// Loads the policy of `repo`, looking up TRUNKGATE_POLICY in `env`. Throws what load_policy
/// throws: missing_policy_error when there is none, policy_error when it does not load.
policy load_repository_policy(git_repository* repo, const env_lookup& env);

} // namespace trunkgate
