#include "trunkgate/evaluate.hpp"

#include "trunkgate/rules.hpp"

namespace trunkgate {

std::string_view to_string(level value) {
    switch (value) {
    case level::off:
        return "off";
    case level::warn:
        return "warn";
    case level::block:
        return "block";
    }
    return "block";
}

std::optional<level> parse_level(std::string_view text) {
    for (auto candidate : {level::off, level::warn, level::block})
        if (to_string(candidate) == text)
            return candidate;
    return std::nullopt;
}

bool verdict::rejected() const {
    return count(level::block) > 0;
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
    return judge(run_rules(repo, push), rules_policy);
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
