#include "trunkgate/gate/evaluate.hpp"

#include <algorithm>

#include "trunkgate/gate/rules.hpp"
#include "trunkgate/policy/glob.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

bool verdict::rejected() const {
    return count(level::block) > 0;
}

std::size_t verdict::demoted_by_bypass() const {
    if (bypass_reason.empty())
        return 0;
    return static_cast<std::size_t>(std::count_if(
        found.begin(), found.end(), [](const finding& item) { return item.would_block; }));
}

std::size_t verdict::count(level severity) const {
    std::size_t total = 0;
    for (const auto& item : found)
        total += item.severity == severity;
    return total;
}

verdict judge(findings raw, const policy& rules_policy) {
    verdict result;
    result.evaluate_mode = rules_policy.mode == policy_mode::evaluate;
    result.policy_name = rules_policy.source;
    result.contact = rules_policy.contact;
    for (auto& item : raw) {
        item.severity = rules_policy.level_of(item.rule, item.severity);
        if (item.severity == level::off)
            continue;
        if (result.evaluate_mode && item.severity == level::block) {
            item.severity = level::warn;
            item.would_block = true;
            ++result.demoted;
        }
        result.found.push_back(std::move(item));
    }
    return result;
}

verdict evaluate(git_repository* repo, const policy& rules_policy,
                 const std::vector<ref_update>& updates, const push_context& context) {
    const auto push = gather_push(repo, rules_policy, updates, context);
    auto result = judge(run_rules(repo, push), rules_policy);
    apply_bypass(result, rules_policy, context);
    return result;
}

void apply_bypass(verdict& result, const policy& rules_policy, const push_context& context) {
    constexpr std::string_view option = "trunkgate.bypass";
    const auto requested = std::find_if(
        context.push_options.begin(), context.push_options.end(), [&](const std::string& given) {
            return given == option || given.rfind(std::string(option) + "=", 0) == 0;
        });
    if (requested == context.push_options.end())
        return;
    const auto reason =
        requested->size() > option.size() ? requested->substr(option.size() + 1) : "";
    const bool allowed = !context.identity.empty() &&
                         glob_match_any(rules_policy.bypass_identities, context.identity);
    if (allowed && reason.find_first_not_of(" \t") != std::string::npos) {
        result.bypass_reason = reason;
        result.bypassed_by = context.identity;
        for (auto& item : result.found)
            if (item.severity == level::block) {
                item.severity = level::warn;
                item.would_block = true;
            }
        return;
    }
    finding denied;
    denied.rule = "bypass-denied";
    denied.severity = rules_policy.level_of("bypass-denied", level::block);
    denied.message = allowed ? "a bypass needs a reason: -o trunkgate.bypass=\"<why>\""
                             : (context.identity.empty() ? std::string("an unidentified pusher")
                                                         : "'" + context.identity + "'") +
                                   " may not bypass the policy (allowed: " +
                                   (rules_policy.bypass_identities.empty()
                                        ? std::string("nobody")
                                        : join(rules_policy.bypass_identities, ", ")) +
                                   ")";
    denied.hint = allowed ? "git push -o trunkgate.bypass=\"<incident or reason>\" ..."
                          : "push without -o trunkgate.bypass, or ask a release manager";
    if (result.evaluate_mode && denied.severity == level::block) {
        denied.severity = level::warn;
        denied.would_block = true;
        ++result.demoted;
    }
    if (denied.severity != level::off)
        result.found.push_back(std::move(denied));
}

verdict policy_failure(const policy_error& error) {
    verdict result;
    result.policy_name = error.file();
    finding failure;
    failure.rule = "policy-error";
    failure.severity = level::block;
    failure.message = error.what();
    failure.hint = "the server's policy is broken, not your push: check it with "
                   "`trunkgate policy lint " +
                   error.file() + "`";
    result.found.push_back(std::move(failure));
    return result;
}

} // namespace trunkgate
