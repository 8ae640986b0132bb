#include "trunkgate/admin/doctor_checks.hpp"

#include <string>
#include <string_view>

#include "trunkgate/history/git.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

// ---------------------------------------------------------------------------------------------
// The merge queue's way in (docs/queue.md): git hands a push to refs/for/<branch> to the
// proc-receive hook only when receive.procReceiveRefs routes refs/for there. Without either,
// git creates refs/for/<branch> as an ordinary ref and nothing is queued.

namespace {

// Whether one receive.procReceiveRefs value sends the creation of every refs/for/<branch> to the
// hook, as git's receive-pack matches it: "[<modifiers>:]<prefix>", the modifiers a (create),
// m (modify) and d (delete), none meaning all three, and ! (the entry matches every ref *not*
// below the prefix); a prefix matches whole components.
bool routes_refs_for(std::string_view value) {
    std::string_view modifiers;
    if (const auto colon = value.find(':'); colon != std::string_view::npos) {
        modifiers = value.substr(0, colon);
        value.remove_prefix(colon + 1);
    }
    while (value.size() > 1 && value.back() == '/')
        value.remove_suffix(1);
    const bool creates = modifiers.find_first_of("amd") == std::string_view::npos ||
                         modifiers.find('a') != std::string_view::npos;
    if (!creates)
        return false;
    constexpr std::string_view queue_refs = "refs/for";
    const bool covers =
        queue_refs == value || (queue_refs.rfind(value, 0) == 0 && queue_refs[value.size()] == '/');
    if (modifiers.find('!') == std::string_view::npos)
        return covers;
    // Negated: it routes refs/for/ when its prefix is neither above nor inside refs/for.
    return !covers && value.rfind("refs/for/", 0) != 0;
}

// The values of receive.procReceiveRefs, at every level git reads.
std::vector<std::string> proc_receive_refs(examination& exam) {
    git_config* raw = nullptr;
    check(git_repository_config_snapshot(&raw, exam.repo.get()),
          "read the repository's git config");
    config_ptr config(raw);
    std::vector<std::string> values;
    const int rc = git_config_get_multivar_foreach(
        config.get(), "receive.procReceiveRefs", nullptr,
        [](const git_config_entry* entry, void* payload) {
            static_cast<std::vector<std::string>*>(payload)->emplace_back(entry->value);
            return 0;
        },
        &values);
    if (rc != GIT_ENOTFOUND)
        check(rc, "read git config receive.procReceiveRefs");
    git_error_clear();
    return values;
}

void check_queue_refs(examination& exam) {
    const auto values = proc_receive_refs(exam);
    for (const auto& value : values)
        if (routes_refs_for(value))
            return;
    const auto set = values.empty() ? std::string("receive.procReceiveRefs is not set")
                                    : "receive.procReceiveRefs (" + join(values, ", ") +
                                          ") does not route refs/for";
    exam.add("queue-refs-off",
             set + ": git creates refs/for/<branch> as an ordinary ref instead of handing the "
                   "push to the proc-receive hook, so nothing enters the merge queue",
             exam.as_owner("git --git-dir=" + shell_quote(without_slash(exam.git_dir)) +
                           " config --add receive.procReceiveRefs refs/for") +
                 " (gitolite: `config receive.procReceiveRefs = refs/for` in gitolite.conf, with "
                 "receive\\.procReceiveRefs in GIT_CONFIG_KEYS)",
             exam.git_dir + "config");
}

// A queue without required checks lands nothing: the runner waits for CI it never hears of.
void check_queue_checks(examination& exam, const queue_rule& queue) {
    for (const auto* protection : exam.rules_policy->protections_for(queue.target))
        if (!protection->required_checks.empty())
            return;
    exam.add("queue-no-required-checks",
             "[[queue]] " + queue.target +
                 " has no required_checks in the [[protect]] entries "
                 "that match it: `trunkgate queue run` lands nothing there, so changes pushed to "
                 "refs/for/ wait for ever",
             "add the CI contexts that must pass to its [[protect]] entry (required_checks = "
             "[\"build\"]) in " +
                 exam.policy_path +
                 ", then: " + exam.trunkgate("policy lint " + shell_quote(exam.policy_path)),
             exam.policy_path);
}

} // namespace

void check_queue(examination& exam, const std::string& hooks) {
    if (!exam.rules_policy || exam.rules_policy->queues.empty())
        return; // install sets up refs/for whether or not there is a queue: nothing to say
    check_hook(exam, hooks, "proc-receive");
    check_queue_refs(exam);
    for (const auto& queue : exam.rules_policy->queues)
        check_queue_checks(exam, queue);
}

} // namespace trunkgate
