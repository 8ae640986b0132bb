#include "trunkgate/gate/rules.hpp"

#include <algorithm>
#include <cstdio>

#include "trunkgate/gate/rule_hints.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/policy/glob.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

namespace {

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
// The commit a new value peels to (an annotated tag's target), else the value itself.
std::string peeled_short(const ref_facts& ref) {
    return ref.new_target.commit ? short_id(*ref.new_target.commit) : new_short(ref);
}
std::string branch_name(const ref_facts& ref) {
    return shell_quote(ref.update.short_name());
}

std::string_view type_name(git_object_t type) {
    const char* name = git_object_type2string(type);
    return name ? name : "unknown";
}

void check_ref_target(const push_view&, const ref_facts& ref, finding_sink& out) {
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
    out.add(std::move(found));
}

void check_protected_delete(const push_view&, const ref_facts& ref, finding_sink& out) {
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
        out.add(std::move(found));
        return;
    }
}

void check_force_push(const push_view&, const ref_facts& ref, finding_sink& out) {
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
        out.add(std::move(found));
        return;
    }
}

void check_push_restricted(const push_view& push, const ref_facts& ref, finding_sink& out) {
    const auto& identity = push.context.identity;
    for (const auto* protection : ref.protections) {
        if (glob_match_any(protection->push_allowed, identity))
            continue;
        auto found = make("push-restricted", ref);
        found.message =
            (identity.empty() ? std::string("an unidentified pusher") : "'" + identity + "'") +
            " may not update this protected ref (allowed: " +
            (protection->push_allowed.empty() ? std::string("nobody")
                                              : join(protection->push_allowed, ", ")) +
            ")";
        found.hint = "push to a branch of your own and have it merged: git push " +
                     std::string(remote) + " HEAD:refs/heads/feature/<topic>";
        out.add(std::move(found));
        return;
    }
}

void check_linear_history(const push_view& push, const ref_facts& ref, finding_sink& out) {
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
        out.add(std::move(found));
    }
    const auto unlisted = ref.merges->total - static_cast<std::int64_t>(ref.merges->listed.size());
    if (unlisted > 0) {
        auto found = make("linear-history", ref);
        found.value = ref.merges->total;
        found.message = "and " + count_noun(unlisted, "more merge commit", "more merge commits");
        out.add(std::move(found));
    }
}

// The branch a short-lived branch is measured against: trunk, or the queue it is submitted to.
std::string measured_against(const push_view& push, const ref_facts& ref) {
    return ref.queue_target.empty() ? push.rules_policy.trunk_branch
                                    : ref.queue_target.substr(std::string("refs/heads/").size());
}

std::string rebase_hint(const push_view& push, const ref_facts& ref) {
    const auto base = shell_quote(measured_against(push, ref));
    const auto fetch_and_rebase =
        "git fetch " + std::string(remote) + " && git rebase " + std::string(remote) + "/" + base;
    if (!ref.queue_target.empty())
        return fetch_and_rebase + " && git push " + std::string(remote) +
               " HEAD:" + shell_quote(ref.update.ref);
    return fetch_and_rebase + " && git push --force-with-lease " + std::string(remote) +
           " HEAD:" + branch_name(ref);
}

std::string count_text(const bounded_count& value) {
    return (value.at_least ? "at least " : "") + std::to_string(value.count);
}

void check_up_to_date(const push_view& push, const ref_facts& ref, finding_sink& out) {
    const auto& limit = push.rules_policy.branches.max_behind;
    if (!ref.branch || !limit || ref.branch->behind.count <= *limit)
        return;
    auto found = make("up-to-date", ref);
    found.commit = ref.update.new_hex;
    found.value = ref.branch->behind.count;
    found.limit = *limit;
    found.message = "branch is " + count_text(ref.branch->behind) + " commits behind " +
                    measured_against(push, ref) + " (limit " + std::to_string(*limit) + ")";
    found.hint = rebase_hint(push, ref);
    out.add(std::move(found));
}

// "30 hours" below two days, "4.5 days" above: precise where it matters, readable elsewhere.
std::string age_text(std::int64_t seconds) {
    if (seconds < 2 * 86400)
        return count_noun(seconds / 3600, "hour", "hours");
    char days[32];
    std::snprintf(days, sizeof days, "%.1f days", static_cast<double>(seconds) / 86400.0);
    return days;
}

void check_branch_age(const push_view& push, const ref_facts& ref, finding_sink& out) {
    const auto& max_days = push.rules_policy.branches.max_age_days;
    if (!ref.branch || !max_days || !ref.branch->oldest)
        return;
    const auto age_seconds = push.context.now - ref.branch->oldest_time;
    if (age_seconds <= *max_days * 86400)
        return;
    auto found = make("branch-age", ref);
    found.commit = to_hex(*ref.branch->oldest);
    found.value = age_seconds / 3600; // hours, like the limit below
    found.limit = *max_days * 24;
    found.message = "oldest commit not on " + measured_against(push, ref) + " (" +
                    short_id(*ref.branch->oldest) + ") is " +
                    (ref.branch->oldest_at_least ? "at least " : "") + age_text(age_seconds) +
                    " old (limit " + count_noun(*max_days, "day", "days") + ")";
    found.hint = "merge small and often: land what is ready on " + measured_against(push, ref) +
                 " and start a fresh branch for the rest (" + rebase_hint(push, ref) + ")";
    out.add(std::move(found));
}

void check_branch_size(const push_view& push, const ref_facts& ref, finding_sink& out) {
    const auto& limit = push.rules_policy.branches.max_ahead;
    if (!ref.branch || !limit || ref.branch->ahead.count <= *limit)
        return;
    auto found = make("branch-size", ref);
    found.commit = ref.update.new_hex;
    found.value = ref.branch->ahead.count;
    found.limit = *limit;
    found.message = "branch has " + count_text(ref.branch->ahead) + " commits not on " +
                    measured_against(push, ref) + " (limit " + std::to_string(*limit) + ")";
    found.hint = "split the work into smaller branches and merge each to " +
                 push.rules_policy.trunk_branch + " on its own";
    out.add(std::move(found));
}

void check_branch_name(const push_view& push, const ref_facts& ref, finding_sink& out) {
    const auto& name_pattern = push.rules_policy.branches.name_pattern;
    if (ref.kind != update_kind::create || !ref.update.is_branch() || !name_pattern ||
        !glob_match_any(push.rules_policy.branches.refs, ref.update.ref) ||
        name_pattern->search(ref.update.ref))
        return;
    auto found = make("branch-name", ref);
    found.message = "branch name does not match " + name_pattern->source;
    found.hint = "rename it and push again: git branch -m " + branch_name(ref) +
                 " feature/<topic> && git push " + std::string(remote) + " feature/<topic>";
    out.add(std::move(found));
}

void check_tag_name(const push_view& push, const ref_facts& ref, finding_sink& out) {
    const auto& name_pattern = push.rules_policy.tags.name_pattern;
    if (ref.kind != update_kind::create || !ref.update.is_tag() || !name_pattern ||
        name_pattern->search(ref.update.ref))
        return;
    auto found = make("tag-name", ref);
    found.message = "tag name does not match " + name_pattern->source;
    found.hint = "tag again with a matching name: git tag -d " + branch_name(ref) +
                 " && git tag v<major>.<minor>.<patch> " + peeled_short(ref) + " && git push " +
                 std::string(remote) + " v<major>.<minor>.<patch>";
    out.add(std::move(found));
}

void check_tag_immutable(const push_view& push, const ref_facts& ref, finding_sink& out) {
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
    out.add(std::move(found));
}

// --- gates of protected refs: checks, promotion, approval ---------------------------------

std::string_view check_state_hint(const std::string& state) {
    if (state == "missing")
        return "the CI job that reports this context has not run for this commit: start it (or ask "
               "why it did not), wait for success, then push again";
    if (state == "pending")
        return "CI is still running: wait for it to succeed, then push again";
    return "fix what failed, push the fix to a branch, and push here once CI succeeds on it";
}

void check_required_checks(const push_view& push, const ref_facts& ref, finding_sink& out) {
    if (!ref.new_target.commit || ref.kind == update_kind::remove)
        return;
    // Each context once, however many [[protect]] entries of the ref require it.
    const auto required = push.rules_policy.required_checks(ref.update.ref);
    if (required.empty())
        return;
    if (!ref.statuses && !ref.statuses_damaged.empty()) {
        // Unlike an API that does not answer, a damaged note is not an outage to wait out: it
        // blocks whatever [checks.http] on_error says, and whoever records statuses repairs it.
        const auto commit = short_id(*ref.new_target.commit);
        const auto& notes_ref = push.rules_policy.checks.notes_ref;
        auto found = make("required-checks", ref);
        found.commit = to_hex(*ref.new_target.commit);
        found.message = "the status note of " + commit + " on " + notes_ref +
                        " is damaged: " + ref.statuses_damaged + "; cannot confirm " +
                        join(required, ", ") + " for " + commit;
        found.hint = "CI (a [checks] writer) records the statuses again, which replaces the "
                     "damaged note: trunkgate status set " +
                     commit + " CONTEXT STATE (on the server, or in a clone and push " + notes_ref +
                     "); then push again";
        out.add(std::move(found));
        return;
    }
    if (!ref.statuses) {
        auto found = make("required-checks", ref);
        found.commit = to_hex(*ref.new_target.commit);
        found.message = "status backend unavailable: " + ref.statuses_unavailable +
                        "; cannot confirm " + join(required, ", ") + " for " +
                        short_id(*ref.new_target.commit);
        found.hint = "try again in a minute; if it persists, tell the repository admins";
        if (!push.rules_policy.checks.http_errors_block)
            found.severity = level::warn;
        out.add(std::move(found));
        return;
    }
    for (const auto& unmet : unmet_checks(required, *ref.statuses)) {
        auto found = make("required-checks", ref);
        found.commit = to_hex(*ref.new_target.commit);
        found.message = "check '" + unmet.context + "' is " + unmet.state + " for " +
                        short_id(*ref.new_target.commit) +
                        (unmet.description.empty() ? "" : ": " + unmet.description) +
                        (unmet.url.empty() ? "" : " (" + unmet.url + ")");
        found.hint = std::string(check_state_hint(unmet.state));
        out.add(std::move(found));
    }
}

void check_promotion(const push_view&, const ref_facts& ref, finding_sink& out) {
    for (const auto& [source, contained] : ref.promotions) {
        if (contained || ref.kind == update_kind::remove)
            continue;
        const auto source_name =
            shell_quote(source.rfind("refs/heads/", 0) == 0 ? source.substr(11) : source);
        auto found = make("promotion", ref);
        found.commit = ref.update.new_hex;
        found.message = ref.update.short_name() + " may only move to commits already on " +
                        source_name + "; " + new_short(ref) + " is not on it";
        found.hint = "promote what " + source_name + " has: git fetch " + std::string(remote) +
                     " && git push " + std::string(remote) + " " + std::string(remote) + "/" +
                     source_name + ":" + branch_name(ref);
        out.add(std::move(found));
    }
}

void check_approval(const push_view& push, const ref_facts& ref, finding_sink& out) {
    if (!ref.approvals || !ref.new_target.commit || ref.kind == update_kind::remove)
        return;
    for (const auto* protection : ref.protections) {
        if (!protection->require_approval)
            continue;
        const auto& rule = *protection->require_approval;
        const auto verdict =
            judge_approvals(*ref.approvals, rule, ref.author_names, push.context.now);
        if (verdict.approved)
            continue;
        const auto commit = short_id(*ref.new_target.commit);
        auto found = make("approval", ref);
        found.commit = to_hex(*ref.new_target.commit);
        const auto problem = ref.approvals_damaged.empty()
                                 ? verdict.problem
                                 : "the approvals note of " + commit + " on " +
                                       std::string(approvals_ref) +
                                       " is damaged: " + ref.approvals_damaged;
        found.message = commit + " needs an approval from " + join(rule.approvers, ", ") +
                        " (within " + count_noun(rule.max_age_days, "day", "days") +
                        (rule.allow_self ? "" : ", not by its author") + "): " + problem;
        found.hint = "ask an approver to run: trunkgate approve " + commit +
                     " on the server (an approval pushed from a clone needs a [checks] writer), "
                     "then push again" +
                     (ref.approvals_damaged.empty()
                          ? std::string()
                          : "; that replaces the damaged note (what it held: git notes "
                            "--ref=trunkgate/approvals show " +
                                commit + ")");
        out.add(std::move(found));
        return;
    }
}

// A branch with a merge queue moves only to what CI tested: the queue moves it, not pushes.
void check_queue_required(const push_view& push, const ref_facts& ref, finding_sink& out) {
    if (ref.kind == update_kind::remove || !push.rules_policy.queue_for(ref.update.ref))
        return;
    auto found = make("queue-required", ref);
    found.commit = ref.update.new_hex;
    const auto branch = ref.update.short_name();
    found.message = branch + " has a merge queue: changes land through it, on the commit CI " +
                    "tested, never by a direct push";
    found.hint = "queue the change: git push " + std::string(remote) +
                 " HEAD:" + shell_quote("refs/for/" + branch) +
                 " (trunkgate queue shows where it stands)";
    out.add(std::move(found));
}

void check_status_write(const push_view& push, const ref_facts& ref, finding_sink& out) {
    const auto& name = ref.update.ref;
    if (name != push.rules_policy.checks.notes_ref && name != approvals_ref)
        return;
    if (glob_match_any(push.rules_policy.checks.writers, push.context.identity))
        return;
    auto found = make("status-write", ref);
    found.message =
        (push.context.identity.empty() ? std::string("an unidentified pusher")
                                       : "'" + push.context.identity + "'") +
        " may not write CI statuses or approvals (writers: " +
        (push.rules_policy.checks.writers.empty() ? std::string("nobody")
                                                  : join(push.rules_policy.checks.writers, ", ")) +
        ")";
    found.hint = "statuses are recorded by CI (trunkgate status set) and approvals by approvers "
                 "(trunkgate approve); nobody marks their own commit green";
    out.add(std::move(found));
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
        {"required-checks",
         "a protected ref moved to a commit whose required CI checks have not passed",
         check_required_checks},
        {"promotion", "a protected ref moved to a commit not yet on its promote_from ref",
         check_promotion},
        {"approval", "a protected ref moved to a commit without a valid approval", check_approval},
        {"status-write", "a push to the CI status or approvals notes by someone outside writers",
         check_status_write},
        {"queue-required", "a direct push to a branch that has a merge queue ([[queue]] target)",
         check_queue_required},
    };
    return table;
}

findings run_rules(git_repository* repo, const push_view& push) {
    finding_sink out;
    for (const auto& ref : push.refs)
        for (const auto& entry : rule_table())
            entry.check(push, ref, out);
    const auto& commits = push.rules_policy.commits;
    const bool any_on = std::any_of(
        commit_rule_table().begin(), commit_rule_table().end(), [&](const commit_rule& entry) {
            return push.rules_policy.level_of(entry.id, level::block) != level::off;
        });
    if (commits && commits->any() && any_on) {
        commit_walk_options options;
        options.refs = commits->refs;
        options.diffs = commits->max_file_size || commits->forbidden_paths.regex ||
                        commits->secret_files || commits->max_changed_files;
        options.sizes = commits->max_file_size.has_value();
        for_each_new_commit(repo, push, options, [&](const commit_facts& commit) {
            for (const auto& entry : commit_rule_table())
                entry.check(push, commit, out);
        });
    }
    return out.take();
}

} // namespace trunkgate
