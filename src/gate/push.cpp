#include "trunkgate/gate/push.hpp"

#include <chrono>
#include <map>

#include "trunkgate/checks/status_source.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/util/identity.hpp"

namespace trunkgate {

namespace {

constexpr std::size_t merges_listed = 5;

target_info describe_target(git_repository* repo, const std::string& hex) {
    target_info target;
    git_oid oid;
    if (is_zero_id(hex) || hex.size() != GIT_OID_HEXSZ ||
        git_oid_fromstrn(&oid, hex.data(), hex.size()) != 0)
        return target;
    git_object* raw = nullptr;
    const int rc = git_object_lookup(&raw, repo, &oid, GIT_OBJECT_ANY);
    if (rc == GIT_ENOTFOUND)
        return target;
    check(rc, "read object " + hex);
    object_ptr object(raw);
    target.exists = true;
    target.type = git_object_type(object.get());
    git_object* peeled_raw = nullptr;
    if (git_object_peel(&peeled_raw, object.get(), GIT_OBJECT_COMMIT) == 0) {
        object_ptr peeled(peeled_raw);
        target.commit = *git_object_id(peeled.get());
    } else {
        git_error_clear();
    }
    return target;
}

std::optional<git_oid> resolve_commit_ref(git_repository* repo, const std::string& name) {
    git_reference* raw = nullptr;
    const int rc = git_reference_lookup(&raw, repo, name.c_str());
    if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC) {
        git_error_clear();
        return std::nullopt;
    }
    check(rc, "read " + name);
    reference_ptr ref(raw);
    return ref_commit(ref.get());
}

branch_limits limits_for(const policy& rules_policy, std::int64_t now) {
    const auto& branches = rules_policy.branches;
    branch_limits limits;
    if (rules_policy.level_of("up-to-date", level::block) != level::off)
        limits.max_behind = branches.max_behind;
    if (rules_policy.level_of("branch-size", level::block) != level::off)
        limits.max_ahead = branches.max_ahead;
    if (branches.max_age_days && rules_policy.level_of("branch-age", level::block) != level::off)
        limits.oldest_allowed_time = now - *branches.max_age_days * 86400;
    limits.stop_when_behind_exceeded =
        rules_policy.mode == policy_mode::enforce &&
        rules_policy.level_of("up-to-date", level::block) == level::block;
    return limits;
}

// The refs that promise linear history: merges reachable from them were judged when they came.
std::vector<std::string> linear_refs(const policy& rules_policy) {
    std::vector<std::string> globs;
    for (const auto& protection : rules_policy.protect)
        if (protection.linear_history)
            globs.insert(globs.end(), protection.refs.begin(), protection.refs.end());
    return globs;
}

bool wants_linear_history(const ref_facts& facts) {
    for (const auto* protection : facts.protections)
        if (protection->linear_history)
            return true;
    return false;
}

// The names a commit's author may go by: name, email and the email's local part.
std::vector<std::string> author_names_of(git_repository* repo, const git_oid& id) {
    const auto commit = find_commit(repo, id);
    if (!commit)
        return {};
    const auto* author = git_commit_author(commit->get());
    if (!author)
        return {};
    std::string email = author->email ? author->email : "";
    return {author->name ? author->name : "", email, email.substr(0, email.find('@'))};
}

// Facts for the gates of protected refs: required checks, promotion, approval.
void gather_gates(git_repository* repo, const push_view& view, ref_facts& facts, const git_oid& tip,
                  status_source& lookups) {
    bool wants_checks = false, wants_approval = false;
    for (const auto* protection : facts.protections) {
        wants_checks = wants_checks || !protection->required_checks.empty();
        wants_approval = wants_approval || protection->require_approval.has_value();
        if (protection->promote_from.empty())
            continue;
        const auto source = tip_after_push(repo, view, protection->promote_from);
        facts.promotions.emplace_back(protection->promote_from,
                                      source && is_ancestor(repo, tip, *source));
    }
    if (wants_checks)
        facts.statuses = lookups.statuses(tip, facts.statuses_unavailable, facts.statuses_damaged);
    if (wants_approval) {
        try {
            facts.approvals = read_approvals(repo, tip);
        } catch (const input_error& e) {
            facts.approvals = std::vector<approval>{}; // a damaged note approves nothing
            facts.approvals_damaged = e.what();
        }
        facts.author_names = author_names_of(repo, tip);
    }
}

ref_facts gather_ref(git_repository* repo, const push_view& view, const ref_update& update,
                     status_source& lookups) {
    const auto& rules_policy = view.rules_policy;
    ref_facts facts;
    facts.update = update;
    facts.kind = update.kind();
    facts.protections = rules_policy.protections_for(update.ref);
    if (const auto* queue = rules_policy.queue_for_submission(update.ref))
        facts.queue_target = queue->target;
    // A change submitted to a queue is judged as the short-lived branch it is, measured against
    // the queue's target.
    facts.short_lived =
        !facts.queue_target.empty() || rules_policy.is_short_lived_branch(update.ref);
    if (update.new_hex.size() != GIT_OID_HEXSZ) {
        facts.rejected_before_measuring =
            "SHA-256 object ids are not supported by this build (libgit2 reads SHA-1 repositories)";
        return facts;
    }
    facts.old_target = describe_target(repo, update.old_hex);
    facts.new_target = describe_target(repo, update.new_hex);
    const auto& old_commit = facts.old_target.commit;
    const auto& new_commit = facts.new_target.commit;
    if (facts.kind == update_kind::remove || !new_commit)
        return facts;
    // An old value that is not a readable commit cannot be shown to be contained in the new one:
    // fail closed and call it a rewrite.
    if (facts.kind == update_kind::update)
        facts.fast_forward = old_commit && is_ancestor(repo, *old_commit, *new_commit);
    if (wants_linear_history(facts)) {
        const auto exclude = facts.kind == update_kind::update ? old_commit : std::nullopt;
        facts.merges = find_merge_commits(repo, *new_commit, exclude, view.context.developer_clone,
                                          linear_refs(rules_policy), merges_listed);
    }
    const auto base = facts.queue_target.empty() ? view.trunk_tip
                                                 : tip_after_push(repo, view, facts.queue_target);
    if (facts.short_lived && base)
        facts.branch =
            measure_branch(repo, *new_commit, *base, limits_for(rules_policy, view.context.now));
    gather_gates(repo, view, facts, *new_commit, lookups);
    return facts;
}

} // namespace

std::optional<git_oid> tip_after_push(git_repository* repo, const push_view& push,
                                      const std::string& ref) {
    if (const auto pushed = push.pushed_tips.find(ref); pushed != push.pushed_tips.end())
        return pushed->second;
    if (push.context.developer_clone && ref.rfind("refs/heads/", 0) == 0)
        if (const auto remote = resolve_commit_ref(repo, "refs/remotes/origin/" + ref.substr(11)))
            return remote;
    return resolve_commit_ref(repo, ref);
}

push_view gather_push(git_repository* repo, const policy& rules_policy,
                      const std::vector<ref_update>& updates, const push_context& context) {
    push_view view{rules_policy, context, std::nullopt, {}, {}};
    for (const auto& update : updates)
        view.pushed_tips[update.ref] = commit_of(repo, update.new_hex);
    // A push that also moves trunk (or a promotion source) is judged against it as it will be.
    view.trunk_tip = tip_after_push(repo, view, rules_policy.trunk_ref());
    view.refs.reserve(updates.size());
    status_source lookups(repo, rules_policy, context.status_client);
    for (const auto& update : updates)
        view.refs.push_back(gather_ref(repo, view, update, lookups));
    return view;
}

} // namespace trunkgate
