#pragma once
// `trunkgate doctor`: examines a repository's trunkgate setup as the user git runs as (its
// owner) meets it, and says for each problem what is wrong and the exact command that fixes it.
// The check ids are stable (docs/cli.md, "trunkgate doctor").

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "trunkgate/util/identity.hpp"

namespace trunkgate {

/// One thing doctor found.
struct doctor_problem {
    std::string id;      ///< stable id, e.g. "hook-missing-binary"
    std::string message; ///< what is wrong, for a person (wording not stable)
    std::string fix;     ///< the exact command or config line that fixes it; "" for none
    std::string path;    ///< the file or directory it is about; "" when none
    bool note = false;   ///< worth knowing, not wrong: does not make the repository unhealthy
};

/// What doctor found in one repository.
struct doctor_report {
    std::string repository;               ///< as given, or as found below --all-under
    std::string git_dir;                  ///< $GIT_DIR with a trailing slash; "" when none
    std::string owner;                    ///< the user git runs as; "" when unknown
    std::vector<doctor_problem> problems; ///< problems and notes, in check order

    /// True when nothing but notes was found.
    bool healthy() const;
};

struct doctor_options {
    std::string program_dir;   ///< where this trunkgate's programs are (the fixes name them)
    std::string templates_dir; ///< templates/ next to them (systemd units)
    std::int64_t now = 0;
    std::int64_t backlog_seconds = 3600; ///< a queued delivery older than this is a backlog
    /// Files and directories searched for a deliver timer or cron job: systemd unit directories
    /// (their *.service and *.timer files, and *.wants/ for enabled timers) and crontabs.
    std::vector<std::string> schedule_paths;
    env_lookup env; ///< TRUNKGATE_POLICY, as the other commands read it
};

/// Where a deliver timer or cron job is looked for by default: /etc/systemd/system,
/// /run/systemd/system, /usr/local/lib/systemd/system, /lib/systemd/system,
/// /usr/lib/systemd/system, /etc/crontab, /etc/cron.d, /var/spool/cron/crontabs.
std::vector<std::string> default_schedule_paths();

/// Examines the repository at or above `path`. With `only_if_managed` (repositories found by
/// --all-under) a repository with neither a trunkgate policy nor a trunkgate hook wrapper is not
/// trunkgate's business: nullopt. Never throws: a check that fails unexpectedly is reported as
/// the problem `check-failed`.
std::optional<doctor_report> diagnose(const std::string& path, const doctor_options& options,
                                      bool only_if_managed);

} // namespace trunkgate
