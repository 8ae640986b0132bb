#pragma once
// The ids of every rule (docs/rules.md) and the levels a finding can weigh, known below the gate
// so that the policy can check [enforcement] without depending on the rules (docs/design.md).

#include <optional>
#include <string_view>
#include <vector>

namespace trunkgate {

/// How much a finding weighs: `block` rejects the push, `warn` is printed, `off` is dropped.
enum class level { off, warn, block };

std::string_view to_string(level value);
/// Parses "off", "warn" or "block"; nullopt for anything else.
std::optional<level> parse_level(std::string_view text);

/// Every rule id: the ref rules and the commit rules in the order of the gate's tables, then
/// `bypass-denied` and `policy-error`. The gate's rule tables must name exactly these (a unit
/// test compares them).
const std::vector<std::string_view>& rule_ids();

/// True for an id of rule_ids().
bool is_rule_id(std::string_view id);

} // namespace trunkgate
