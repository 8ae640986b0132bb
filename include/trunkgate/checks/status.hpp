#pragma once
// CI statuses of commits: recorded as git notes in the repository (the default), or read from a
// GitHub/Gitea-compatible combined-status API and GitHub's check-runs API.

#include <git2.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trunkgate/util/http.hpp"

namespace trunkgate {

struct commit_status {
    /// pending | success | failure | error; from an API, also a state trunkgate does not know
    /// (Gitea's `warning`), kept as given: unmet_checks fails it where it is required.
    std::string state;
    std::string description;
    std::string url;
    std::string updated_at; ///< ISO 8601
    std::string by;         ///< who recorded it
};

/// Statuses of one commit by context ("build", "ci/unit").
using status_map = std::map<std::string, commit_status, std::less<>>;

/// True for the four states a status may have.
bool is_status_state(std::string_view state);

/// Parses a status note: {"<context>": {"state", "description", "url", "updated_at", "by"}}.
/// Throws input_error naming what is wrong (never a nlohmann exception: a number like 1e400,
/// a value of the wrong type or an empty context make the note damaged).
status_map parse_status_note(std::string_view text);
std::string status_note_json(const status_map& statuses);

/// Parses one page of a combined-status answer: {"state", "statuses": [{"context", "state",
/// "target_url", "description"}]}; the first status of a context wins (the APIs list the newest
/// first). A state trunkgate does not know is kept as given; "statuses": null (Gitea, no statuses)
/// is none. `entries`, when given, receives the number of entries on the page, duplicates
/// included. Throws input_error for any malformed answer, whatever the JSON error.
status_map parse_combined_status(std::string_view text, std::size_t* entries = nullptr);

/// Parses one page of GitHub's check runs ({"total_count", "check_runs": [{"name", "status",
/// "conclusion", "html_url", "output": {"title"}}]}) as statuses named by `name`: a run not
/// `completed` is pending; completed with success, neutral or skipped is success; any other
/// conclusion (failure, timed_out, cancelled, action_required, ...) is failure, its description
/// naming the conclusion. Runs with the same name merge as merge_statuses does. `entries` as for
/// parse_combined_status; `total_count`, when given, receives the answer's total_count (runs on
/// every page), nullopt when it has none. Throws input_error for any malformed answer.
status_map parse_check_runs(std::string_view text, std::size_t* entries = nullptr,
                            std::optional<std::uint64_t>* total_count = nullptr);

/// Adds `from` to `into`; where a context is in both, the worse state wins (failure, error or a
/// state trunkgate does not know > pending > success; equal: `into` keeps its own).
void merge_statuses(status_map& into, const status_map& from);

/// The statuses recorded for `commit` on `notes_ref` (empty when none). A note that is not valid
/// JSON of that shape throws input_error.
status_map read_statuses(git_repository* repo, const std::string& notes_ref, const git_oid& commit);

/// Records one status (merged per context, newest wins) with a compare-and-swap retry, so
/// concurrent writers never lose one. A damaged note (one parse_status_note refuses) is replaced
/// by a note holding only this status; the return value then says what was wrong with it
/// (nullopt when nothing was replaced). Throws libgit2_error.
std::optional<std::string> record_status(git_repository* repo, const std::string& notes_ref,
                                         const git_oid& commit, const std::string& context,
                                         const commit_status& status);

/// One context that is not `success`, as a required-checks finding names it.
struct unmet_check {
    std::string context; ///< the required context (or glob) as configured
    std::string state;   ///< "missing", "pending", "failure", "error"
    std::string description;
    std::string url;
};

/// The required contexts (globs allowed; a glob needs at least one match and every match to
/// succeed) that `statuses` does not satisfy. A required context in a state trunkgate does not
/// know is a failure whose description names that state.
std::vector<unmet_check> unmet_checks(const std::vector<std::string>& required,
                                      const status_map& statuses);

/// Fills {owner}, {repo}, {sha} in a status URL template; `full_name` is "owner/repo".
std::string status_url(const std::string& url_template, const std::string& full_name,
                       const std::string& sha);

} // namespace trunkgate
