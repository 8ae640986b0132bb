#include "trunkgate/rules.hpp"

#include <cstdio>

#include "trunkgate/git.hpp"
#include "trunkgate/glob.hpp"
#include "trunkgate/text.hpp"

namespace trunkgate {

namespace {

constexpr std::string_view remote = "origin";

finding make(std::string_view id, const ref_facts& ref) {
    finding found;
    found.rule = std::string(id);
    found.ref = ref.update.ref;
    return found;
}

std::string new_short(const ref_facts& ref) {
    return ref.update.new_hex.substr(0, 7);
}
std::string old_short(const ref_facts& ref) {
    return ref.update.old_hex.substr(0, 7);
}
std::string branch_name(const ref_facts& ref) {
    return shell_quote(ref.update.short_name());
}

std::string_view type_name(git_object_t type) {
    const char* name = git_object_type2string(type);
    return name ? name : "unknown";
}

void check_ref_target(const push_view&, const ref_facts& ref, findings& out) {
    auto found = make("ref-target", ref);
    if (!ref.rejected_before_measuring.empty()) {
        found.message = ref.rejected_before_measuring;
        found.hint = "push to a repository that uses SHA-1 object ids";
    } else if (ref.kind == update_kind::remove) {
        return;
    } else if (!ref.new_target.exists) {
        found.message = "new value " + new_short(ref) + " is not an object in this repository";
        found.hint = "check the object id; `git rev-parse` gives full ids of local commits";
    } else if (ref.update.is_branch() && ref.new_target.type != GIT_OBJECT_COMMIT) {
        found.message = "a branch must point at a commit, not a " +
                        std::string(type_name(ref.new_target.type)) + " (" + new_short(ref) + ")";
        found.hint = "push a commit: git push " + std::string(remote) +
                     " <commit>:" + shell_quote(ref.update.ref);
    } else {
        return;
    }
    found.commit = ref.update.new_hex;
    out.push_back(std::move(found));
}

void check_protected_delete(const push_view&, const ref_facts& ref, findings& out) {
    if (ref.kind != update_kind::remove)
        return;
    for (const auto* protection : ref.protections) {
        if (protection->allow_delete)
            continue;
        auto found = make("protected-delete", ref);
        found.message = "deleting a protected ref is not allowed (protected by refs = [" +
                        join(protection->refs, ", ") + "])";
        found.hint = "keep the ref; if it really must go, an admin can set allow_delete = true "
                     "for it in the policy";
        out.push_back(std::move(found));
        return;
    }
}

void check_force_push(const push_view&, const ref_facts& ref, findings& out) {
    if (ref.fast_forward.value_or(true))
        return;
    for (const auto* protection : ref.protections) {
        if (protection->allow_force_push)
            continue;
        auto found = make("force-push", ref);
        found.commit = ref.update.new_hex;
        found.message = "not a fast-forward of a protected ref (was " + old_short(ref) + ", now " +
                        new_short(ref) + "): it would drop commits others already have";
        const auto name = branch_name(ref);
        found.hint = ref.update.is_branch()
                         ? "git pull --rebase " + std::string(remote) + " " + name +
                               " && git push " + std::string(remote) + " " + name
                         : "push a new commit on top of " + old_short(ref) + " instead";
        out.push_back(std::move(found));
        return;
    }
}

void check_push_restricted(const push_view& push, const ref_facts& ref, findings& out) {
    const auto& identity = push.context.identity;
    for (const auto* protection : ref.protections) {
        if (glob_match_any(protection->push_allowed, identity))
            continue;
        auto found = make("push-restricted", ref);
        found.message =
            (identity.empty() ? std::string("an unidentified pusher") : "'" + identity + "'") +
            " may not update this protected ref (allowed: " + join(protection->push_allowed, ", ") +
            ")";
        found.hint = "push to a branch of your own and have it merged: git push " +
                     std::string(remote) + " HEAD:refs/heads/feature/<topic>";
        out.push_back(std::move(found));
        return;
    }
}

void check_linear_history(const push_view& push, const ref_facts& ref, findings& out) {
    if (!ref.merges || ref.merges->total == 0)
        return;
    for (const auto& merge : ref.merges->listed) {
        auto found = make("linear-history", ref);
        found.commit = to_hex(merge.id);
        found.message = "merge commit " + short_id(merge.id) + " \"" + merge.subject +
                        "\" on a ref that requires linear history";
        found.hint = "replay your commits instead of merging: git fetch " + std::string(remote) +
                     " && git rebase " + std::string(remote) + "/" +
                     shell_quote(push.rules_policy.trunk_branch) + ", then push again";
        out.push_back(std::move(found));
    }
    const auto unlisted = ref.merges->total - static_cast<std::int64_t>(ref.merges->listed.size());
    if (unlisted > 0) {
        auto found = make("linear-history", ref);
        found.value = ref.merges->total;
        found.message = "and " + count_noun(unlisted, "more merge commit", "more merge commits");
        out.push_back(std::move(found));
    }
}

std::string rebase_hint(const push_view& push, const ref_facts& ref) {
    const auto trunk = shell_quote(push.rules_policy.trunk_branch);
    return "git fetch " + std::string(remote) + " && git rebase " + std::string(remote) + "/" +
           trunk + " && git push --force-with-lease " + std::string(remote) +
           " HEAD:" + branch_name(ref);
}

std::string count_text(const bounded_count& value) {
    return (value.at_least ? "at least " : "") + std::to_string(value.count);
}

void check_up_to_date(const push_view& push, const ref_facts& ref, findings& out) {
    const auto& limit = push.rules_policy.branches.max_behind;
    if (!ref.branch || !limit || ref.branch->behind.count <= *limit)
        return;
    auto found = make("up-to-date", ref);
    found.commit = ref.update.new_hex;
    found.value = ref.branch->behind.count;
    found.limit = *limit;
    found.message = "branch is " + count_text(ref.branch->behind) + " commits behind " +
                    push.rules_policy.trunk_branch + " (limit " + std::to_string(*limit) + ")";
    found.hint = rebase_hint(push, ref);
    out.push_back(std::move(found));
}

// "30 hours" below two days, "4.5 days" above: precise where it matters, readable elsewhere.
std::string age_text(std::int64_t seconds) {
    if (seconds < 2 * 86400)
        return count_noun(seconds / 3600, "hour", "hours");
    char days[32];
    std::snprintf(days, sizeof days, "%.1f days", static_cast<double>(seconds) / 86400.0);
    return days;
}

void check_branch_age(const push_view& push, const ref_facts& ref, findings& out) {
    const auto& max_days = push.rules_policy.branches.max_age_days;
    if (!ref.branch || !max_days || !ref.branch->oldest)
        return;
    const auto age_seconds = push.context.now - ref.branch->oldest_time;
    if (age_seconds <= *max_days * 86400)
        return;
    auto found = make("branch-age", ref);
    found.commit = to_hex(*ref.branch->oldest);
    found.value = (age_seconds + 86399) / 86400;
    found.limit = *max_days;
    found.message = std::string("oldest commit not on ") + push.rules_policy.trunk_branch + " (" +
                    short_id(*ref.branch->oldest) + ") is " +
                    (ref.branch->oldest_at_least ? "at least " : "") + age_text(age_seconds) +
                    " old (limit " + count_noun(*max_days, "day", "days") + ")";
    found.hint = "merge small and often: land what is ready on " + push.rules_policy.trunk_branch +
                 " and start a fresh branch for the rest (" + rebase_hint(push, ref) + ")";
    out.push_back(std::move(found));
}

void check_branch_size(const push_view& push, const ref_facts& ref, findings& out) {
    const auto& limit = push.rules_policy.branches.max_ahead;
    if (!ref.branch || !limit || ref.branch->ahead.count <= *limit)
        return;
    auto found = make("branch-size", ref);
    found.commit = ref.update.new_hex;
    found.value = ref.branch->ahead.count;
    found.limit = *limit;
    found.message = "branch has " + count_text(ref.branch->ahead) + " commits not on " +
                    push.rules_policy.trunk_branch + " (limit " + std::to_string(*limit) + ")";
    found.hint = "split the work into smaller branches and merge each to " +
                 push.rules_policy.trunk_branch + " on its own";
    out.push_back(std::move(found));
}

void check_branch_name(const push_view& push, const ref_facts& ref, findings& out) {
    const auto& name_pattern = push.rules_policy.branches.name_pattern;
    if (ref.kind != update_kind::create || !ref.update.is_branch() || !name_pattern ||
        !glob_match_any(push.rules_policy.branches.refs, ref.update.ref) ||
        name_pattern->search(ref.update.ref))
        return;
    auto found = make("branch-name", ref);
    found.message = "branch name does not match " + name_pattern->source;
    found.hint = "rename it and push again: git branch -m " + branch_name(ref) +
                 " feature/<topic> && git push " + std::string(remote) + " feature/<topic>";
    out.push_back(std::move(found));
}

void check_tag_name(const push_view& push, const ref_facts& ref, findings& out) {
    const auto& name_pattern = push.rules_policy.tags.name_pattern;
    if (ref.kind != update_kind::create || !ref.update.is_tag() || !name_pattern ||
        name_pattern->search(ref.update.ref))
        return;
    auto found = make("tag-name", ref);
    found.message = "tag name does not match " + name_pattern->source;
    found.hint = "tag again with a matching name: git tag -d " + branch_name(ref) +
                 " && git tag v<major>.<minor>.<patch> " + new_short(ref) + " && git push " +
                 std::string(remote) + " v<major>.<minor>.<patch>";
    out.push_back(std::move(found));
}

void check_tag_immutable(const push_view& push, const ref_facts& ref, findings& out) {
    if (!push.rules_policy.tags.immutable || !ref.update.is_tag() ||
        ref.kind == update_kind::create)
        return;
    auto found = make("tag-immutable", ref);
    const auto tag = branch_name(ref);
    found.message = ref.kind == update_kind::remove
                        ? "tags are immutable: " + tag + " may not be deleted"
                        : "tags are immutable: " + tag + " already points at " + old_short(ref);
    found.hint = "publish a new tag instead; to restore yours to the published one: git fetch " +
                 std::string(remote) + " --force " +
                 shell_quote(ref.update.ref + ":" + ref.update.ref);
    out.push_back(std::move(found));
}

} // namespace

const std::vector<rule>& rule_table() {
    static const std::vector<rule> table{
        {"ref-target", "a ref set to an unknown object, or a branch set to a non-commit",
         check_ref_target},
        {"protected-delete", "deleting a protected ref", check_protected_delete},
        {"force-push", "a non-fast-forward update of a protected ref", check_force_push},
        {"push-restricted", "an identity outside push_allowed updating a protected ref",
         check_push_restricted},
        {"linear-history", "a merge commit added to a ref with linear_history",
         check_linear_history},
        {"up-to-date", "a branch more than max_behind commits behind trunk", check_up_to_date},
        {"branch-age", "a branch whose oldest commit not on trunk is older than max_age_days",
         check_branch_age},
        {"branch-size", "a branch with more than max_ahead commits not on trunk",
         check_branch_size},
        {"branch-name", "a created branch whose name does not match the pattern",
         check_branch_name},
        {"tag-name", "a created tag whose name does not match the pattern", check_tag_name},
        {"tag-immutable", "moving or deleting an existing tag", check_tag_immutable},
    };
    return table;
}

bool is_rule_id(std::string_view id) {
    if (id == "policy-error")
        return true;
    for (const auto& entry : rule_table())
        if (entry.id == id)
            return true;
    return false;
}

findings run_rules(const push_view& push) {
    findings out;
    for (const auto& ref : push.refs)
        for (const auto& entry : rule_table())
            entry.check(push, ref, out);
    return out;
}

} // namespace trunkgate
