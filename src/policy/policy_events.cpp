// The policy's [repository] and [events] tables: what push events say about the repository,
// and where they are delivered.
#include "trunkgate/policy/policy_reader.hpp"

#include "trunkgate/util/http.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

namespace {

// The largest integer a JavaScript receiver reads exactly (Number.MAX_SAFE_INTEGER).
constexpr std::int64_t max_safe_json_integer = (std::int64_t{1} << 53) - 1;

// "owner/name": GitHub's full_name, split at the last slash (nested owners like "team/sub" are
// kept whole); no empty part, no white space.
bool is_full_name(const std::string& name) {
    const auto slash = name.rfind('/');
    return slash != std::string::npos && slash > 0 && slash + 1 < name.size() &&
           name.front() != '/' && name.find("//") == std::string::npos &&
           name.find_first_of(" \t\r\n") == std::string::npos;
}

// An optional http(s) URL key of [repository]: the URL, or "" when the key is absent.
std::string repository_url(table_reader& reader, const toml::table& table, const std::string& key) {
    const auto url = reader.string(key);
    if (!url)
        return "";
    if (const auto problem = url_problem(*url, false))
        reader.fail(table.get(key)->source(), reader.name(key) + " " + printable(redact_url(*url)) +
                                                  " is not usable: " + *problem);
    return *url;
}

endpoint_policy read_endpoint(const toml::table& table, const std::string& file) {
    table_reader reader(table, "events.endpoint", file);
    endpoint_policy endpoint;
    const auto url = reader.string("url");
    if (!url)
        reader.fail(table.source(),
                    "every [[events.endpoint]] needs 'url', an http:// or https:// URL");
    if (const auto problem = url_problem(*url, false))
        reader.fail(table.get("url")->source(),
                    "'events.endpoint.url' " + printable(redact_url(*url)) +
                        " is not usable: " + *problem +
                        (problem->find("credentials") == std::string::npos
                             ? ""
                             : "; put \"user:password\" in 'auth_env' or 'auth_file' instead"));
    endpoint.url = *url;
    endpoint.secret_env = reader.string("secret_env").value_or("");
    endpoint.secret_file = reader.string("secret_file").value_or("");
    if (!endpoint.secret_env.empty() && !endpoint.secret_file.empty())
        reader.fail(table.get("secret_file")->source(),
                    "give either 'secret_env' or 'secret_file', not both");
    endpoint.auth_env = reader.string("auth_env").value_or("");
    endpoint.auth_file = reader.string("auth_file").value_or("");
    if (!endpoint.auth_env.empty() && !endpoint.auth_file.empty())
        reader.fail(table.get("auth_file")->source(),
                    "give either 'auth_env' or 'auth_file', not both");
    if (auto refs = reader.strings("refs"))
        endpoint.refs = *refs;
    if (auto timeout = reader.count("timeout_ms")) {
        if (*timeout == 0 || *timeout > 600000)
            reader.fail(table.get("timeout_ms")->source(),
                        "'events.endpoint.timeout_ms' must be between 1 and 600000");
        endpoint.timeout_ms = *timeout;
    }
    endpoint.ca_file = reader.string("ca_file").value_or("");
    if (const auto payload = reader.string("payload")) {
        if (*payload == "github+trunkgate")
            endpoint.payload = payload_format::github_trunkgate;
        else if (*payload != "github")
            reader.fail(table.get("payload")->source(),
                        "'events.endpoint.payload' must be \"github\" or \"github+trunkgate\"");
    }
    endpoint.user_agent = reader.string("user_agent").value_or("");
    if (endpoint.user_agent.find_first_of("\r\n") != std::string::npos ||
        endpoint.user_agent.size() > 256)
        reader.fail(table.get("user_agent")->source(),
                    "'events.endpoint.user_agent' must be one line of at most 256 bytes");
    reader.finish();
    return endpoint;
}

} // namespace

repository_policy read_repository(const toml::table& table, const std::string& file) {
    table_reader reader(table, "repository", file);
    repository_policy repository;
    repository.full_name = reader.string("full_name").value_or("");
    if (table.get("full_name") && !is_full_name(repository.full_name))
        reader.fail(table.get("full_name")->source(),
                    "'repository.full_name' must be \"owner/name\", as GitHub's full_name");
    repository.url = repository_url(reader, table, "url");
    repository.api_url = repository_url(reader, table, "api_url");
    repository.clone_url = repository_url(reader, table, "clone_url");
    repository.ssh_url = reader.string("ssh_url").value_or("");
    repository.commit_url = reader.string("commit_url").value_or("");
    repository.compare_url = reader.string("compare_url").value_or("");
    if (const auto* id = table.get("id")) {
        const auto value = reader.count("id");
        if (*value == 0 || *value > max_safe_json_integer)
            reader.fail(id->source(), "'repository.id' must be between 1 and 2^53 - 1");
        repository.id = value;
    }
    repository.is_private = reader.boolean("private", true);
    reader.finish();
    return repository;
}

events_policy read_events(const toml::table& table, const std::string& file) {
    table_reader reader(table, "events", file);
    events_policy events;
    if (auto dir = reader.string("spool_dir")) {
        if (dir->empty())
            reader.fail(table.get("spool_dir")->source(), "'events.spool_dir' must not be empty");
        events.spool_dir = *dir;
    }
    if (auto mode = reader.string("deliver")) {
        if (*mode == "background")
            events.deliver = delivery_mode::background;
        else if (*mode == "inline")
            events.deliver = delivery_mode::inline_wait;
        else
            reader.fail(table.get("deliver")->source(),
                        "'events.deliver' must be \"background\" or \"inline\"");
    }
    if (auto max_commits = reader.count("max_commits"))
        events.max_commits = *max_commits;
    if (auto max_age = reader.count("max_age_hours")) {
        // Ten years: enough for any retention, small enough that hours * 3600 cannot overflow.
        if (*max_age > 87600)
            reader.fail(table.get("max_age_hours")->source(),
                        "'events.max_age_hours' must be at most 87600 (ten years)");
        events.max_age_hours = *max_age;
    }
    if (auto bytes = read_size(reader, "max_payload_bytes")) {
        if (*bytes < 4096)
            reader.fail(table.get("max_payload_bytes")->source(),
                        "'events.max_payload_bytes' must be at least 4096 (an event with no "
                        "commit listed needs about 1 KiB)");
        events.max_payload_bytes = *bytes;
    }
    if (auto bytes = read_size(reader, "max_message_bytes")) {
        if (*bytes < 1 || *bytes > events.max_payload_bytes)
            reader.fail(table.get("max_message_bytes")->source(),
                        "'events.max_message_bytes' must be between 1 and "
                        "'events.max_payload_bytes' (" +
                            std::to_string(events.max_payload_bytes) + ")");
        events.max_message_bytes = *bytes;
    }
    if (const auto* endpoints = reader.table_array("endpoint"))
        for (const auto& entry : *endpoints)
            events.endpoints.push_back(read_endpoint(*entry.as_table(), file));
    reader.finish();
    return events;
}

} // namespace trunkgate
