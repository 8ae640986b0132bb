#pragma once
// The decision about a push: gather the facts once, run the rule table, apply [enforcement]
// levels and the policy mode.

#include <git2.h>

#include <string>
#include <vector>

#include "trunkgate/gate/finding.hpp"
#include "trunkgate/gate/push.hpp"
#include "trunkgate/history/ref_update.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/error.hpp"

namespace trunkgate {

struct verdict {
    findings found;             ///< levels applied; findings at level off are dropped
    bool evaluate_mode = false; ///< blocks were turned into warnings (mode = "evaluate")
    std::size_t demoted = 0;    ///< how many findings evaluate mode turned into warnings
    std::string policy_name;    ///< the policy file, as shown to the pusher
    std::string contact;        ///< [feedback] contact
    std::string bypass_reason;  ///< set when an allowed identity bypassed this push's blocks
    std::string bypassed_by;

    bool rejected() const;
    std::size_t demoted_by_bypass() const;
    std::size_t count(level severity) const;
};

/// Applies [enforcement] overrides and the mode to `raw` findings (all at their default level).
verdict judge(findings raw, const policy& rules_policy);

/// Honours `-o trunkgate.bypass=<reason>`: from an identity in [bypass] identities with a
/// non-empty reason, every block becomes a warning and the verdict records who and why; from
/// anyone else, or without a reason, it is itself a `bypass-denied` block.
void apply_bypass(verdict& result, const policy& rules_policy, const push_context& context);

/// Gathers the push, runs every rule and judges the result (bypass included). Throws libgit2_error.
verdict evaluate(git_repository* repo, const policy& rules_policy,
                 const std::vector<ref_update>& updates, const push_context& context);

/// The verdict for a push whose policy could not be loaded: one `policy-error` block.
verdict policy_failure(const policy_error& error);

} // namespace trunkgate
