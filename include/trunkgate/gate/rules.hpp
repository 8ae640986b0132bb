#pragma once
// The rule tables: each rule has a stable id (docs/rules.md), reads the gathered push (or one new
// commit of it) and reports findings. Adding a rule touches one file and one table only: rules.cpp
// for a ref rule, commit_rules.cpp for a commit rule.

#include <git2.h>

#include <cstddef>
#include <map>
#include <string_view>
#include <vector>

#include "trunkgate/gate/commits.hpp"
#include "trunkgate/gate/finding.hpp"
#include "trunkgate/gate/push.hpp"
#include "trunkgate/policy/rule_ids.hpp"

namespace trunkgate {

/// Collects findings, listing at most `listed_per_rule` of each rule: a huge push stays readable
/// while the verdict stays exact (the rest are counted).
class finding_sink {
  public:
    explicit finding_sink(std::size_t listed_per_rule = 20) : listed_per_rule_(listed_per_rule) {}
    void add(finding item);
    /// The listed findings, then one "N more" finding per rule that had more.
    findings take();

  private:
    std::size_t listed_per_rule_;
    findings listed_;
    std::map<std::string, std::size_t, std::less<>> seen_;
    std::map<std::string, finding, std::less<>> first_unlisted_;
};

/// A rule about one updated ref.
struct rule {
    std::string_view id;
    std::string_view summary; ///< one line, for `trunkgate rules` and docs
    void (*check)(const push_view& push, const ref_facts& ref, finding_sink& out);
};

/// A rule about one commit the push adds ([commits]).
struct commit_rule {
    std::string_view id;
    std::string_view summary;
    void (*check)(const push_view& push, const commit_facts& commit, finding_sink& out);
};

/// Every ref rule, in the order findings are reported.
const std::vector<rule>& rule_table();
/// Every commit rule, reported after the ref rules.
const std::vector<commit_rule>& commit_rule_table();

/// Runs every ref rule over every ref of `push`, then, when [commits] configures any rule, every
/// commit rule over each new commit (read once). Findings carry each rule's default level
/// (block); judge() applies [enforcement] and the policy mode. Throws libgit2_error.
findings run_rules(git_repository* repo, const push_view& push);

} // namespace trunkgate
