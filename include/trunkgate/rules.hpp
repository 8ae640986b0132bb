#pragma once
// The rule table: each rule has a stable id (docs/rules.md), reads the gathered push and appends
// findings. Adding a rule touches rules.cpp and this table only.

#include <string_view>
#include <vector>

#include "trunkgate/finding.hpp"
#include "trunkgate/push.hpp"

namespace trunkgate {

struct rule {
    std::string_view id;
    std::string_view summary; ///< one line, for `trunkgate help rules` and docs
    void (*check)(const push_view& push, const ref_facts& ref, findings& out);
};

/// Every rule, in the order findings are reported.
const std::vector<rule>& rule_table();

/// True for the id of a rule in the table, or "policy-error".
bool is_rule_id(std::string_view id);

/// Runs every rule over every ref of `push`. Findings carry each rule's default level (block);
/// evaluate() applies [enforcement] and the policy mode.
findings run_rules(const push_view& push);

} // namespace trunkgate
