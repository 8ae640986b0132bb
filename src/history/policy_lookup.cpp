#include "trunkgate/history/policy_lookup.hpp"

#include "trunkgate/history/git.hpp"

namespace trunkgate {

policy load_repository_policy(git_repository* repo, const env_lookup& env) {
    return load_policy(locate_policy(env("TRUNKGATE_POLICY"),
                                     config_string(repo, "trunkgate.policy"), git_dir(repo)));
}

} // namespace trunkgate
