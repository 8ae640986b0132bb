#include "trunkgate/status.hpp"

#include <nlohmann/json.hpp>

#include "trunkgate/error.hpp"
#include "trunkgate/events.hpp"
#include "trunkgate/glob.hpp"
#include "trunkgate/notes.hpp"
#include "trunkgate/text.hpp"

#include <ctime>

namespace trunkgate {

bool is_status_state(std::string_view state) {
    return state == "pending" || state == "success" || state == "failure" || state == "error";
}

namespace {

std::string string_field(const nlohmann::json& object, const char* key) {
    const auto found = object.find(key);
    if (found == object.end() || found->is_null())
        return "";
    if (!found->is_string())
        throw input_error(std::string("'") + key + "' must be a string");
    return found->get<std::string>();
}

commit_status status_from(const nlohmann::json& object, const char* url_key) {
    if (!object.is_object())
        throw input_error("a status must be an object");
    commit_status status;
    status.state = string_field(object, "state");
    if (!is_status_state(status.state))
        throw input_error("unknown state '" + status.state + "'");
    status.description = string_field(object, "description");
    status.url = string_field(object, url_key);
    status.updated_at = string_field(object, "updated_at");
    status.by = string_field(object, "by");
    return status;
}

nlohmann::json parse_json(std::string_view text) {
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        throw input_error(std::string("not JSON: ") + e.what());
    }
}

} // namespace

status_map parse_status_note(std::string_view text) {
    const auto document = parse_json(text);
    if (!document.is_object())
        throw input_error("a status note must be a JSON object of contexts");
    status_map statuses;
    for (const auto& [context, status] : document.items())
        statuses[context] = status_from(status, "url");
    return statuses;
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

status_map parse_combined_status(std::string_view text) {
    const auto document = parse_json(text);
    if (!document.is_object() || !document.contains("statuses") || !document["statuses"].is_array())
        throw input_error("expected {\"state\": ..., \"statuses\": [...]}");
    status_map statuses;
    for (const auto& item : document["statuses"]) {
        if (!item.is_object())
            throw input_error("each status must be an object");
        const auto context = string_field(item, "context");
        if (context.empty())
            throw input_error("a status without a context");
        // The API lists the newest status of a context first; keep that one.
        statuses.emplace(context, status_from(item, "target_url"));
    }
    return statuses;
}

status_map read_statuses(git_repository* repo, const std::string& notes_ref,
                         const git_oid& commit) {
    const auto note = read_note(repo, notes_ref, commit);
    if (!note)
        return {};
    return parse_status_note(*note);
}

void record_status(git_repository* repo, const std::string& notes_ref, const git_oid& commit,
                   const std::string& context, const commit_status& status) {
    update_note(repo, notes_ref, commit, status.by, [&](const std::optional<std::string>& current) {
        status_map statuses;
        if (current) {
            try {
                statuses = parse_status_note(*current);
            } catch (const input_error&) {
                // A damaged note is replaced rather than blocking every future status.
            }
        }
        statuses[context] = status;
        return status_note_json(statuses);
    });
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
            if (status.state != "success")
                unmet.push_back({context, status.state, status.description, status.url});
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
