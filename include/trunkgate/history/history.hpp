#pragma once
// Walks of the commit graph whose cost is bounded by the size of the push, not of the history.

#include <git2.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trunkgate {

/// What to measure of a branch against trunk. Unset limits are not measured.
struct branch_limits {
    std::optional<std::int64_t> max_behind;
    std::optional<std::int64_t> max_ahead;
    /// Unix time: a branch commit not on trunk that is older than this is too old.
    std::optional<std::int64_t> oldest_allowed_time;
    /// Stop the whole walk as soon as `behind` exceeds `max_behind` (the push is rejected anyway,
    /// and a branch far behind trunk must not make the hook walk the trunk's history).
    bool stop_when_behind_exceeded = false;
};

/// A count that may have been cut short: `at_least` means the walk stopped once the count passed
/// its limit, so the true value is `count` or more.
struct bounded_count {
    std::int64_t count = 0;
    bool at_least = false;
};

struct branch_measure {
    bounded_count behind; ///< commits on trunk that the tip does not contain
    bounded_count ahead;  ///< commits of the tip that are not on trunk
    /// The oldest (by committer time) tip commit not on trunk that the walk saw.
    std::optional<git_oid> oldest;
    std::int64_t oldest_time = 0;
    bool oldest_at_least = false; ///< an even older one may exist
    bool complete = true;         ///< false when the walk stopped early
};

/// Measures `tip` against `trunk` with one walk from both tips that stops as soon as every
/// requested fact is decided (counts stop at limit + 1). The walk is ordered by the commit-graph's
/// generation numbers where the graph has the commits; elsewhere, like git's own walks without a
/// graph, it trusts committer dates to be roughly monotone. Throws libgit2_error.
branch_measure measure_branch(git_repository* repo, const git_oid& tip, const git_oid& trunk,
                              const branch_limits& limits);

/// A commit named in a message: its id and subject line.
struct commit_summary {
    git_oid id;
    std::string subject;
};

/// Merge commits among those reachable from `tip` and not from `exclude` (or, when `exclude` is
/// empty, from no existing ref matching `hidden_refs`, see hidden_commits). Returns at most
/// `max_listed` of them in `listed` and the exact total.
struct merge_commits {
    std::vector<commit_summary> listed;
    std::int64_t total = 0;
};
merge_commits find_merge_commits(git_repository* repo, const git_oid& tip,
                                 const std::optional<git_oid>& exclude, bool developer_clone,
                                 const std::vector<std::string>& hidden_refs,
                                 std::size_t max_listed);

/// True when `ancestor` is reachable from `descendant` (or equal to it): bounded by generation
/// numbers where the commit-graph has `ancestor`, libgit2's search otherwise. Throws
/// libgit2_error.
bool is_ancestor(git_repository* repo, const git_oid& ancestor, const git_oid& descendant);

} // namespace trunkgate
