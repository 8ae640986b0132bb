#include "trunkgate/push.hpp"

#include "trunkgate/git.hpp"
#include "trunkgate/glob.hpp"

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
    git_object* peeled_raw = nullptr;
    if (git_reference_peel(&peeled_raw, ref.get(), GIT_OBJECT_COMMIT) != 0) {
        git_error_clear();
        return std::nullopt;
    }
    object_ptr peeled(peeled_raw);
    return *git_object_id(peeled.get());
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

bool wants_linear_history(const ref_facts& facts) {
    for (const auto* protection : facts.protections)
        if (protection->linear_history)
            return true;
    return false;
}

ref_facts gather_ref(git_repository* repo, const push_view& view, const ref_update& update) {
    const auto& rules_policy = view.rules_policy;
    ref_facts facts;
    facts.update = update;
    facts.kind = update.kind();
    facts.protections = rules_policy.protections_for(update.ref);
    facts.short_lived = update.is_branch() && update.ref != rules_policy.trunk_ref() &&
                        facts.protections.empty() &&
                        glob_match_any(rules_policy.branches.refs, update.ref);
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
    if (facts.kind == update_kind::update && old_commit)
        facts.fast_forward = is_ancestor(repo, *old_commit, *new_commit);
    if (wants_linear_history(facts)) {
        const auto exclude = facts.kind == update_kind::update ? old_commit : std::nullopt;
        facts.merges = find_merge_commits(repo, *new_commit, exclude, view.context.developer_clone,
                                          merges_listed);
    }
    if (facts.short_lived && view.trunk_tip)
        facts.branch = measure_branch(repo, *new_commit, *view.trunk_tip,
                                      limits_for(rules_policy, view.context.now));
    return facts;
}

} // namespace

push_view gather_push(git_repository* repo, const policy& rules_policy,
                      const std::vector<ref_update>& updates, const push_context& context) {
    push_view view{rules_policy, context, std::nullopt, {}};
    if (context.developer_clone)
        view.trunk_tip =
            resolve_commit_ref(repo, "refs/remotes/origin/" + rules_policy.trunk_branch);
    if (!view.trunk_tip)
        view.trunk_tip = resolve_commit_ref(repo, rules_policy.trunk_ref());
    view.refs.reserve(updates.size());
    for (const auto& update : updates)
        view.refs.push_back(gather_ref(repo, view, update));
    return view;
}

} // namespace trunkgate
