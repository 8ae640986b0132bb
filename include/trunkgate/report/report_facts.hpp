#pragma once
// What the report reads from the audit log, in one streaming pass: the moves of the refs it
// follows (trunk, deploy refs, branches), and the period's bypasses and rejections.

#include <git2.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trunkgate/report/report.hpp"

namespace trunkgate {

/// One ref of a landed record: what git told post-receive moved.
struct ref_move {
    std::int64_t time = 0;
    std::string identity;
    std::string ref;
    git_oid old_id{};
    git_oid new_id{};
    bool created = false;           ///< old was all zeros
    bool deleted = false;           ///< new was all zeros
    std::vector<std::string> queue; ///< the queue entries it landed; empty for a push
};

struct audit_facts {
    std::optional<std::int64_t> log_began; ///< the time of the log's first readable record
    std::deque<ref_move> moves; ///< of the refs asked for, in log order (a deque: never moved)
    std::vector<bypass_record> bypasses;
    std::int64_t rejected_pushes = 0;
    std::map<std::string, std::int64_t> blocking_rules; ///< rule id -> rejected pushes
    std::vector<std::string> notes;
};

/// Reads the audit log of `git_dir` once: every landed move of a ref `follow` accepts (whatever
/// its time), and the bypass and reject decisions within `period`. Damaged lines become notes.
/// Throws internal_error when the log cannot be read.
audit_facts read_audit_facts(const std::string& git_dir, const report_period& period,
                             const std::function<bool(std::string_view ref)>& follow);

} // namespace trunkgate
