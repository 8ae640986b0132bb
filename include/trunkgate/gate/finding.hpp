#pragma once
// What a rule reports about one ref of a push.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trunkgate/policy/rule_ids.hpp"

namespace trunkgate {

struct finding {
    std::string rule;                  ///< stable rule id, e.g. "force-push"
    level severity = level::block;     ///< after enforcement overrides and mode
    std::string ref;                   ///< the ref the finding is about (may be empty)
    std::string commit;                ///< full hex id where one commit is at fault, else empty
    std::optional<std::int64_t> value; ///< what was measured, where the rule measures a number
    std::optional<std::int64_t> limit; ///< the policy's limit for that number
    std::string message;               ///< what is wrong, for a person
    std::string hint;                  ///< the exact commands that fix it
    bool would_block = false;          ///< a block that evaluate mode turned into a warning
};

using findings = std::vector<finding>;

} // namespace trunkgate
