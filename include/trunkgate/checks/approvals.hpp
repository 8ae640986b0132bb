#pragma once
// Manual approvals of commits, recorded as git notes on refs/notes/trunkgate/approvals.

#include <git2.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trunkgate/policy/policy.hpp"

namespace trunkgate {

constexpr std::string_view approvals_ref = "refs/notes/trunkgate/approvals";

struct approval {
    std::string by;       ///< identity that decided
    bool approved = true; ///< false: rejected
    std::int64_t at = 0;  ///< Unix time of the decision
    std::string comment;
};

/// Parses an approvals note: {"approvals": [{"by", "state": "approved"|"rejected", "at",
/// "comment"}]}. "at" is Unix seconds, an integer in [0, max_unix_seconds] (unix_time.hpp):
/// a decimal number, a negative time or milliseconds make the note damaged. Whether "at" lies in
/// the future is for judge_approvals, which knows the time. Throws input_error naming the field,
/// never a nlohmann exception.
std::vector<approval> parse_approvals(std::string_view text);
std::string approvals_json(const std::vector<approval>& decisions);

/// The decisions recorded for `commit`, one per identity (a later decision replaces an earlier).
std::vector<approval> read_approvals(git_repository* repo, const git_oid& commit);

/// Records `decision` for `commit` (replacing that identity's earlier one), race-safe. A damaged
/// note is replaced by one holding only `decision`; the return value then says what was wrong
/// with it (nullopt when nothing was replaced). Throws libgit2_error.
std::optional<std::string> record_approval(git_repository* repo, const git_oid& commit,
                                           const approval& decision);

/// Why a commit is not approved, or nothing when it is.
struct approval_verdict {
    bool approved = false;
    std::string problem; ///< for the pusher: what is missing or who rejected
};

/// Judges `decisions` at time `now` for a commit whose author is known by `author_names` (name,
/// email and email's local part; an approver matching one of them approves their own commit).
/// An approval dated more than clock_skew_seconds after `now` does not count (a rejection always
/// does).
approval_verdict judge_approvals(const std::vector<approval>& decisions, const approval_rule& rule,
                                 const std::vector<std::string>& author_names, std::int64_t now);

} // namespace trunkgate
