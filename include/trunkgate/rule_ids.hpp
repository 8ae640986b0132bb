#pragma once
// The ids of every rule (docs/rules.md), known below the gate so that the policy can check
// [enforcement] keys without depending on the rules themselves (docs/design.md, "Layers").

#include <string_view>
#include <vector>

namespace trunkgate {

/// Every rule id: the ref rules and the commit rules in the order of the gate's tables, then
/// `bypass-denied` and `policy-error`. The gate's rule tables must name exactly these (a unit
/// test compares them).
const std::vector<std::string_view>& rule_ids();

/// True for an id of rule_ids().
bool is_rule_id(std::string_view id);

} // namespace trunkgate
