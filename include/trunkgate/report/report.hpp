#pragma once
// The trunk health report: how a repository practises trunk-based CI/CD, and the four DORA keys,
// read from the repository itself (the trunk's history, the audit log, the status notes, the
// merge queue's journal and the policy). docs/report.md defines every figure.

#include <git2.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "trunkgate/checks/status.hpp"
#include "trunkgate/policy/policy.hpp"

namespace trunkgate {

/// A day of the report: a UTC day, 86,400 seconds (Unix time has no leap seconds).
constexpr std::int64_t day_seconds = 86400;

/// The period a report covers, [since, until), and the time it is made at. Unix seconds.
struct report_period {
    std::int64_t since = 0;
    std::int64_t until = 0;
    std::int64_t now = 0;
    /// (until - since) in days, fractional.
    double days() const { return static_cast<double>(until - since) / day_seconds; }
    bool contains(std::int64_t time) const { return time >= since && time < until; }
};

/// Nearest-rank percentiles of a list of values: the q-percentile of n sorted values is the
/// ceil(q * n)-th smallest (the median of an even count is the lower middle). nullopt when
/// there are no values.
struct distribution {
    std::int64_t count = 0;
    std::optional<std::int64_t> median; ///< p50
    std::optional<std::int64_t> p90;
    std::optional<std::int64_t> p95;
};

/// How many of something fell on one UTC day (`start` is its midnight) or in one week (`start`
/// is its Monday's midnight).
struct period_count {
    std::int64_t start = 0;
    std::int64_t count = 0;
};

/// Values grouped by range: [low, high) in seconds, high nullopt for the last, open range.
struct range_count {
    std::string label; ///< "< 1 hour", "1 hour to 1 day", ...
    std::int64_t low = 0;
    std::optional<std::int64_t> high;
    std::int64_t count = 0;
};

struct pusher_figures {
    std::string identity;
    std::int64_t landings = 0;
    std::int64_t days_landed = 0; ///< UTC days with at least one of their landings
    double share_of_days = 0;     ///< days_landed / integration_figures::active_days
};

/// Landings on trunk: every landed audit record that moved the trunk branch to a commit.
struct integration_figures {
    std::string trunk_ref;
    std::int64_t landings = 0;
    std::int64_t direct = 0; ///< pushed by a person
    std::int64_t queued = 0; ///< landed by the merge queue
    std::int64_t active_pushers = 0;
    std::int64_t active_days = 0;        ///< UTC days on which trunk moved
    double per_day = 0;                  ///< landings / period days
    double per_pusher_per_day = 0;       ///< per_day / active_pushers (0 without pushers)
    distribution size;                   ///< commits each landing brought to trunk first
    std::vector<period_count> days;      ///< every UTC day of the period, oldest first
    std::vector<pusher_figures> pushers; ///< most landings first, then by identity
};

struct live_branch {
    std::string ref;
    /// Committer time of the oldest commit not on trunk; nullopt when the branch has none.
    std::optional<std::int64_t> oldest_time;
    std::int64_t age_seconds = 0; ///< now - oldest_time (0 without one)
    std::int64_t behind = 0;
    std::int64_t ahead = 0;
    std::optional<std::int64_t> last_push_time; ///< its latest landed record, if any
    std::string last_pusher;                    ///< with last_push_time
    std::vector<std::string> over_limits;       ///< "branch-age", "up-to-date", "branch-size"
};

struct ended_branch {
    std::string ref;
    std::int64_t created = 0;
    std::int64_t ended = 0;
    std::string how; ///< "deleted" or "merged"
};

struct branch_figures {
    std::optional<std::int64_t> max_age_days; ///< [branches] max_age_days, for the charts
    std::vector<live_branch> live;            ///< over limits first, then oldest first, then by ref
    std::vector<ended_branch> ended;          ///< ended within the period, in order of ending
    distribution lifetime;                    ///< ended - created, seconds
    std::vector<range_count> lifetime_ranges;
};

/// The band a key falls in, of the report's cited DORA bands (docs/report.md).
struct dora_bands {
    std::optional<std::string> deployment_frequency; ///< "elite", "high", "medium", "low"
    std::optional<std::string> lead_time;
    std::optional<std::string> change_failure_rate;
    std::optional<std::string> time_to_restore;
};

struct deployment {
    std::int64_t time = 0;
    std::string identity;
    std::string old_hex;
    std::string new_hex;
    std::int64_t commits = 0;           ///< commits deployed to this ref for the first time
    std::vector<std::string> failed_by; ///< "rollback", "revert", "check", in that order
    /// A failed deployment: seconds until the next deployment of the ref that did not fail.
    std::optional<std::int64_t> restored_after;
};

struct deploy_ref_figures {
    std::string ref;
    std::vector<deployment> deployments; ///< within the period, oldest first
    double per_day = 0;
    double per_week = 0;
    std::vector<period_count> days;
    std::vector<period_count> weeks;
    distribution lead_time; ///< author time -> first deployment containing it, seconds
    std::vector<range_count> lead_time_ranges;
    std::int64_t failed = 0;
    std::optional<double> change_failure_rate; ///< failed / deployments; nullopt for none
    distribution time_to_restore;
    std::int64_t unrestored = 0; ///< failed and not followed by a deployment that did not fail
    dora_bands bands;
};

struct red_interval {
    std::int64_t from = 0;
    std::int64_t to = 0;
    std::string commit;
    std::vector<unmet_check> unmet; ///< failing or missing required checks only
};

/// How long trunk's tip had a required check failing or missing.
struct trunk_health_figures {
    std::vector<std::string> required_checks; ///< of every [[protect]] matching trunk
    std::int64_t observed_seconds = 0;        ///< the part of the period trunk's tip is known for
    std::int64_t red_seconds = 0;
    std::optional<double> red_share; ///< red / observed; nullopt when nothing was observed
    std::vector<red_interval> red;
};

struct bypass_record {
    std::int64_t time = 0;
    std::string identity;
    std::vector<std::string> refs;
    std::string reason;
};

struct rule_count {
    std::string rule;
    std::int64_t pushes = 0; ///< rejected pushes in which this rule blocked
};

struct reason_count {
    std::string reason; ///< docs/report.md lists them
    std::int64_t count = 0;
};

struct queue_figures {
    std::int64_t landed = 0;
    std::int64_t ejected = 0;
    std::int64_t cancelled = 0;
    distribution time_to_land; ///< enqueued -> landed, seconds
    std::vector<reason_count> ejections;
    std::int64_t builds = 0; ///< CI builds of those entries: distinct speculative commits
    std::optional<double> builds_per_landed;
};

struct report {
    std::string repository; ///< the repository's directory
    report_period period;
    integration_figures integration;
    branch_figures branches;
    std::vector<deploy_ref_figures> deployments;
    trunk_health_figures trunk_health;
    std::vector<bypass_record> bypasses;
    std::int64_t rejected_pushes = 0;
    std::vector<rule_count> rejections; ///< most first, then by rule id
    std::optional<queue_figures> queue; ///< when the policy has a [[queue]] or a journal exists
    std::vector<std::string> notes;     ///< what could not be read (damaged lines, notes)
};

/// The midnight (UTC) that starts the day of `time`.
std::int64_t utc_day_start(std::int64_t time);
/// One count per UTC day of `period` (per week, from Mondays, for counts_per_week), oldest
/// first, each with the number of `times` in it.
std::vector<period_count> counts_per_day(const std::vector<std::int64_t>& times,
                                         const report_period& period);
std::vector<period_count> counts_per_week(const std::vector<std::int64_t>& times,
                                          const report_period& period);

/// The nearest-rank distribution of `values` (sorted here).
distribution make_distribution(std::vector<std::int64_t> values);

/// `durations` (seconds) counted in the six ranges docs/report.md lists.
std::vector<range_count> duration_ranges(const std::vector<std::int64_t>& durations);

/// The DORA band of each key (docs/report.md, "DORA bands"); nullopt for a key without a value.
std::string deployment_frequency_band(double per_day);
std::optional<std::string> lead_time_band(const std::optional<std::int64_t>& median_seconds);
std::optional<std::string> change_failure_band(const std::optional<double>& rate);
std::optional<std::string> time_to_restore_band(const std::optional<std::int64_t>& median_seconds);

/// Builds the report of the repository `repo` ($GIT_DIR `git_dir`) under `rules_policy` for
/// `period`. Throws libgit2_error, internal_error (an unreadable audit log).
report build_report(git_repository* repo, const std::string& git_dir, const policy& rules_policy,
                    const report_period& period);

} // namespace trunkgate
