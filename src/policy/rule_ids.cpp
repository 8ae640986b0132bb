#include "trunkgate/policy/rule_ids.hpp"

#include <algorithm>

namespace trunkgate {

const std::vector<std::string_view>& rule_ids() {
    static const std::vector<std::string_view> ids{
        "ref-target",     "protected-delete", "force-push",    "push-restricted", "linear-history",
        "up-to-date",     "branch-age",       "branch-size",   "branch-name",     "tag-name",
        "tag-immutable",  "required-checks",  "promotion",     "approval",        "status-write",
        "queue-required", "commit-message",   "author-email",  "committer-email", "file-size",
        "forbidden-path", "changed-files",    "bypass-denied", "policy-error"};
    return ids;
}

bool is_rule_id(std::string_view id) {
    const auto& ids = rule_ids();
    return std::find(ids.begin(), ids.end(), id) != ids.end();
}

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

} // namespace trunkgate
