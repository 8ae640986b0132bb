// finding_sink (rules.hpp): the findings of a push, at most so many listed per rule, the rest
// counted.
#include "trunkgate/gate/rules.hpp"

#include "trunkgate/util/text.hpp"

namespace trunkgate {

void finding_sink::add(finding item) {
    auto& seen = seen_[item.rule];
    if (++seen <= listed_per_rule_)
        listed_.push_back(std::move(item));
    else if (seen == listed_per_rule_ + 1)
        first_unlisted_.emplace(item.rule, std::move(item));
}

findings finding_sink::take() {
    for (auto& [rule_id, first] : first_unlisted_) {
        finding summary = first;
        const auto more = static_cast<std::int64_t>(seen_[rule_id] - listed_per_rule_);
        summary.commit.clear();
        summary.value = static_cast<std::int64_t>(seen_[rule_id]);
        summary.limit.reset();
        summary.message = "and " + count_noun(more, "more finding", "more findings") + " of [" +
                          rule_id + "] not listed (" + std::to_string(seen_[rule_id]) + " in all)";
        summary.hint.clear();
        listed_.push_back(std::move(summary));
    }
    first_unlisted_.clear();
    return std::move(listed_);
}

} // namespace trunkgate
