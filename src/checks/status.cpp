#include "trunkgate/checks/status.hpp"

#include <nlohmann/json.hpp>

#include "trunkgate/checks/notes.hpp"
#include "trunkgate/policy/glob.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/json_input.hpp"
#include "trunkgate/util/text.hpp"

#include <ctime>

namespace trunkgate {

bool is_status_state(std::string_view state) {
    return state == "pending" || state == "success" || state == "failure" || state == "error";
}

namespace {

// A note is ours and strict; an API's answer keeps a state trunkgate does not know (Gitea's
// `warning`) as given, for unmet_checks to judge when the context is required.
commit_status status_from(const nlohmann::json& object, const char* url_key,
                          const std::string& where, bool known_states_only = true) {
    if (!object.is_object())
        throw input_error(where + "must be an object, not " + json_kind(object));
    commit_status status;
    status.state = optional_string(object, "state", where);
    if (known_states_only && !is_status_state(status.state))
        throw input_error(where + "unknown state '" + status.state + "'");
    status.description = optional_string(object, "description", where);
    status.url = optional_string(object, url_key, where);
    status.updated_at = optional_string(object, "updated_at", where);
    status.by = optional_string(object, "by", where);
    return status;
}

status_map statuses_of_note(std::string_view text) {
    const auto document = parse_json_input(text);
    if (!document.is_object())
        throw input_error("a status note must be a JSON object of contexts, not " +
                          json_kind(document));
    status_map statuses;
    for (const auto& [context, status] : document.items()) {
        if (context.empty())
            throw input_error("a status with an empty context");
        statuses[context] = status_from(status, "url", "status '" + context + "': ");
    }
    return statuses;
}

status_map statuses_of_answer(std::string_view text, std::size_t* entries) {
    const auto document = parse_json_input(text);
    // Gitea answers a commit without statuses with "statuses": null.
    if (!document.is_object() || !document.contains("statuses") ||
        !(document["statuses"].is_array() || document["statuses"].is_null()))
        throw input_error("expected {\"state\": ..., \"statuses\": [...]}");
    status_map statuses;
    if (entries)
        *entries = document["statuses"].size();
    if (document["statuses"].is_null())
        return statuses;
    std::size_t index = 0;
    for (const auto& item : document["statuses"]) {
        const auto where = "statuses[" + std::to_string(index++) + "]: ";
        if (!item.is_object())
            throw input_error(where + "must be an object, not " + json_kind(item));
        const auto context = optional_string(item, "context", where);
        if (context.empty())
            throw input_error(where + "a status without a context");
        // The API lists the newest status of a context first; keep that one.
        statuses.emplace(context, status_from(item, "target_url", where, false));
    }
    return statuses;
}

// A GitHub check run as a status: what its conclusion means for a gate.
commit_status status_of_check_run(const nlohmann::json& run, const std::string& where) {
    commit_status status;
    const auto progress = optional_string(run, "status", where);
    const auto conclusion = optional_string(run, "conclusion", where);
    status.url = optional_string(run, "html_url", where);
    status.updated_at = optional_string(run, "completed_at", where);
    std::string title;
    if (run.contains("output") && !run["output"].is_null()) {
        if (!run["output"].is_object())
            throw input_error(where + "'output' must be an object, not " +
                              json_kind(run["output"]));
        title = optional_string(run["output"], "title", where + "output: ");
    }
    if (progress != "completed") {
        // queued, in_progress, waiting, requested, pending, and whatever GitHub adds: not done.
        status.state = "pending";
        status.description =
            progress.empty() ? title : progress + (title.empty() ? "" : ": " + title);
    } else if (conclusion == "success" || conclusion == "neutral" || conclusion == "skipped") {
        status.state = "success";
        status.description = conclusion == "success" ? title : conclusion;
    } else {
        // failure, timed_out, cancelled, action_required, startup_failure, stale, none at all:
        // a completed run that did not succeed fails the gate.
        status.state = "failure";
        status.description = "conclusion " + (conclusion.empty() ? "(none)" : conclusion) +
                             (title.empty() ? "" : ": " + title);
    }
    return status;
}

status_map check_runs_of_answer(std::string_view text, std::size_t* entries,
                                std::optional<std::uint64_t>* total_count) {
    const auto document = parse_json_input(text);
    if (!document.is_object() || !document.contains("check_runs") ||
        !document["check_runs"].is_array())
        throw input_error("expected {\"total_count\": ..., \"check_runs\": [...]}");
    status_map statuses;
    if (entries)
        *entries = document["check_runs"].size();
    if (total_count) {
        const auto declared = document.find("total_count");
        *total_count = declared != document.end() && declared->is_number_unsigned()
                           ? std::optional<std::uint64_t>(declared->get<std::uint64_t>())
                           : std::nullopt;
    }
    std::size_t index = 0;
    for (const auto& run : document["check_runs"]) {
        const auto where = "check_runs[" + std::to_string(index++) + "]: ";
        if (!run.is_object())
            throw input_error(where + "must be an object, not " + json_kind(run));
        const auto name = optional_string(run, "name", where);
        if (name.empty())
            throw input_error(where + "a check run without a name");
        merge_statuses(statuses, {{name, status_of_check_run(run, where)}});
    }
    return statuses;
}

// How bad a state is for a gate: a state trunkgate does not know counts as a failure.
int badness(const std::string& state) {
    if (state == "success")
        return 0;
    if (state == "pending")
        return 1;
    return 2;
}

} // namespace

status_map parse_status_note(std::string_view text) {
    // The readers throw input_error themselves; this is the boundary no nlohmann error crosses.
    try {
        return statuses_of_note(text);
    } catch (const nlohmann::json::exception& e) {
        throw input_error(std::string("malformed status note: ") + e.what());
    }
}

std::string status_note_json(const status_map& statuses) {
    nlohmann::ordered_json document = nlohmann::ordered_json::object();
    for (const auto& [context, status] : statuses)
        document[context] = {{"state", status.state},
                             {"description", status.description},
                             {"url", status.url},
                             {"updated_at", status.updated_at},
                             {"by", status.by}};
    return document.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

status_map parse_combined_status(std::string_view text, std::size_t* entries) {
    try {
        return statuses_of_answer(text, entries);
    } catch (const nlohmann::json::exception& e) {
        throw input_error(std::string("malformed combined status: ") + e.what());
    }
}

status_map parse_check_runs(std::string_view text, std::size_t* entries,
                            std::optional<std::uint64_t>* total_count) {
    try {
        return check_runs_of_answer(text, entries, total_count);
    } catch (const nlohmann::json::exception& e) {
        throw input_error(std::string("malformed check runs: ") + e.what());
    }
}

void merge_statuses(status_map& into, const status_map& from) {
    for (const auto& [context, status] : from) {
        const auto [existing, inserted] = into.emplace(context, status);
        if (!inserted && badness(status.state) > badness(existing->second.state))
            existing->second = status;
    }
}

status_map read_statuses(git_repository* repo, const std::string& notes_ref,
                         const git_oid& commit) {
    const auto note = read_note(repo, notes_ref, commit);
    if (!note)
        return {};
    return parse_status_note(*note);
}

std::optional<std::string> record_status(git_repository* repo, const std::string& notes_ref,
                                         const git_oid& commit, const std::string& context,
                                         const commit_status& status) {
    std::optional<std::string> replaced_damage;
    update_note(repo, notes_ref, commit, status.by, [&](const std::optional<std::string>& current) {
        status_map statuses;
        replaced_damage.reset(); // the merge runs again after a race: report the last read only
        if (current) {
            try {
                statuses = parse_status_note(*current);
            } catch (const input_error& e) {
                // A damaged note is replaced rather than blocking every future status.
                replaced_damage = e.what();
            }
        }
        statuses[context] = status;
        return status_note_json(statuses);
    });
    return replaced_damage;
}

std::vector<unmet_check> unmet_checks(const std::vector<std::string>& required,
                                      const status_map& statuses) {
    std::vector<unmet_check> unmet;
    for (const auto& wanted : required) {
        bool matched = false;
        for (const auto& [context, status] : statuses) {
            if (!glob_match(wanted, context))
                continue;
            matched = true;
            if (status.state == "success")
                continue;
            if (is_status_state(status.state))
                unmet.push_back({context, status.state, status.description, status.url});
            else
                unmet.push_back({context, "failure",
                                 "state '" + printable(status.state) +
                                     "' is not one trunkgate knows" +
                                     (status.description.empty() ? "" : ": " + status.description),
                                 status.url});
        }
        if (!matched)
            unmet.push_back({wanted, "missing", "", ""});
    }
    return unmet;
}

std::string status_url(const std::string& url_template, const std::string& full_name,
                       const std::string& sha) {
    const auto slash = full_name.find('/');
    const auto owner = slash == std::string::npos ? std::string() : full_name.substr(0, slash);
    const auto repo = slash == std::string::npos ? full_name : full_name.substr(slash + 1);
    return replace_all(replace_all(replace_all(url_template, "{owner}", owner), "{repo}", repo),
                       "{sha}", sha);
}

} // namespace trunkgate
