#pragma once
// The push, gathered once: every fact a rule may read about each updated ref. Rules never walk
// history themselves (git's receive-pack gathers the push once; so do we).

#include <git2.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "trunkgate/checks/approvals.hpp"
#include "trunkgate/checks/status.hpp"
#include "trunkgate/history/history.hpp"
#include "trunkgate/history/ref_update.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/http.hpp"

namespace trunkgate {

/// Who pushes, how, and when.
struct push_context {
    std::string identity;                  ///< "" when no identity variable is set
    std::vector<std::string> push_options; ///< from `git push -o`
    std::int64_t now = 0;                  ///< Unix time the push is judged at
    /// Judging from a developer's clone (`trunkgate check` in a work tree) rather than the server:
    /// what the server already has is then the remote-tracking refs and tags, and trunk is
    /// refs/remotes/origin/<trunk> when that exists.
    bool developer_clone = false;
    /// Where [checks] source = "http" asks; null: a libcurl client is made when needed.
    http_client* status_client = nullptr;
};

/// What a ref update points at.
struct target_info {
    bool exists = false; ///< the object is in the repository (or its quarantine)
    git_object_t type = GIT_OBJECT_INVALID;
    std::optional<git_oid> commit; ///< the commit it peels to, if any
};

/// The facts about one updated ref.
struct ref_facts {
    ref_update update;
    update_kind kind = update_kind::update;
    std::vector<const protect_rule*> protections; ///< [[protect]] entries matching the ref
    bool short_lived = false;                     ///< a branch that [branches] rules apply to
    /// A push to refs/for/<branch>[/<topic>] that enters a merge queue: the queue's target
    /// ("refs/heads/<branch>"), which its branch and commit rules measure against; "" otherwise.
    std::string queue_target;
    target_info old_target;
    target_info new_target;
    std::optional<bool> fast_forward;      ///< updates of commits only
    std::optional<merge_commits> merges;   ///< when a protection asks for linear history
    std::optional<branch_measure> branch;  ///< short-lived branches, when trunk exists
    std::string rejected_before_measuring; ///< why facts could not be gathered, if so
    /// CI statuses of the new tip, when a protection requires checks.
    std::optional<status_map> statuses;
    std::string statuses_unavailable; ///< why the status backend gave no answer, if so
    /// Why the status note of the new tip is damaged (source = "notes"), if it is; statuses is
    /// then nullopt.
    std::string statuses_damaged;
    /// For each protection's promote_from: whether the new tip is already on that ref.
    std::vector<std::pair<std::string, bool>> promotions;
    /// Approvals of the new tip and the names of its author, when a protection requires approval.
    std::optional<std::vector<approval>> approvals;
    std::string approvals_damaged; ///< why the approvals note is damaged (approvals is then empty)
    std::vector<std::string> author_names;
};

/// The whole push as the rules see it.
struct push_view {
    const policy& rules_policy;
    push_context context;
    std::optional<git_oid> trunk_tip; ///< tip of the trunk branch as this push leaves it
    std::vector<ref_facts> refs;
    /// The commits this push sets refs to (nullopt: deleted or not a commit), by ref name.
    std::map<std::string, std::optional<git_oid>, std::less<>> pushed_tips;
};

/// The commit `ref` points at once this push is done: the pushed value when the push updates it,
/// else the ref as it is (in a developer's clone, refs/heads/x is read as refs/remotes/origin/x
/// when that exists). Throws libgit2_error.
std::optional<git_oid> tip_after_push(git_repository* repo, const push_view& push,
                                      const std::string& ref);

/// Gathers the facts for `updates` once. Status look-ups over HTTP share one time budget of twice
/// [checks.http] timeout_ms for the whole push. Throws libgit2_error on repository failures.
push_view gather_push(git_repository* repo, const policy& rules_policy,
                      const std::vector<ref_update>& updates, const push_context& context);

} // namespace trunkgate
