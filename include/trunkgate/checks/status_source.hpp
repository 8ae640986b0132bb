#pragma once
// The CI statuses of commits from the policy's [checks] source: git notes, or a status API read
// page by page (statuses and check runs), every answer within one time budget.

#include <git2.h>

#include <memory>
#include <optional>
#include <string>

#include "trunkgate/checks/status.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/http.hpp"

namespace trunkgate {

/// Reads statuses for one judgement (a push, a queue run): each commit is asked once, and HTTP
/// look-ups share a budget of twice [checks.http] timeout_ms from construction.
class status_source {
  public:
    /// `client` is where source = "http" asks; null: a libcurl client is made when needed.
    /// `repo` and `rules_policy` must outlive the source.
    status_source(git_repository* repo, const policy& rules_policy, http_client* client);
    ~status_source();
    status_source(const status_source&) = delete;
    status_source& operator=(const status_source&) = delete;

    /// The statuses of `commit`, or nullopt with `unavailable` set when the backend gave no
    /// (whole) answer, or with `damaged` set when the commit's status note does not parse.
    std::optional<status_map> statuses(const git_oid& commit, std::string& unavailable,
                                       std::string& damaged);

  private:
    class reader;
    std::unique_ptr<reader> reader_;
};

} // namespace trunkgate
