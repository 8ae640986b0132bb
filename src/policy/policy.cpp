#include "trunkgate/policy/policy.hpp"

#include <toml++/toml.h>

#include <fstream>
#include <set>
#include <sstream>
#include <sys/stat.h>

#include "trunkgate/policy/glob.hpp"
#include "trunkgate/policy/rule_ids.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/http.hpp"
#include "trunkgate/util/identity.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

policy_error::policy_error(std::string file, std::size_t line, std::size_t column,
                           const std::string& problem)
    : std::runtime_error(file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                         problem),
      file_(std::move(file)), line_(line), column_(column), problem_(problem) {}

bool pattern::search(std::string_view text) const {
    return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *regex);
}

std::vector<const protect_rule*> policy::protections_for(std::string_view ref) const {
    std::vector<const protect_rule*> matching;
    for (const auto& entry : protect)
        if (glob_match_any(entry.refs, ref))
            matching.push_back(&entry);
    return matching;
}

level policy::level_of(std::string_view id, level fallback) const {
    const auto override = enforcement.find(id);
    return override == enforcement.end() ? fallback : override->second;
}

namespace {

// Reads one TOML table, remembering which keys were read so that `finish` can report the
// first unknown one: a typo must never silently disable a rule.
class table_reader {
  public:
    table_reader(const toml::table& table, std::string path, const std::string& file)
        : table_(table), path_(std::move(path)), file_(file) {}

    [[noreturn]] void fail(const toml::source_region& where, const std::string& problem) const {
        throw policy_error(file_, where.begin.line, where.begin.column, problem);
    }

    const toml::node* find(const std::string& key) {
        known_.insert(key);
        return table_.get(key);
    }

    std::optional<std::string> string(const std::string& key) {
        const auto* node = find(key);
        if (!node)
            return std::nullopt;
        if (!node->is_string())
            fail(node->source(), name(key) + " must be a string");
        return node->value<std::string>();
    }

    bool boolean(const std::string& key, bool fallback) {
        const auto* node = find(key);
        if (!node)
            return fallback;
        if (!node->is_boolean())
            fail(node->source(), name(key) + " must be true or false");
        return *node->value<bool>();
    }

    std::optional<std::int64_t> count(const std::string& key) {
        const auto* node = find(key);
        if (!node)
            return std::nullopt;
        if (!node->is_integer() || *node->value<std::int64_t>() < 0)
            fail(node->source(), name(key) + " must be a non-negative integer");
        return node->value<std::int64_t>();
    }

    std::optional<std::vector<std::string>> strings(const std::string& key) {
        const auto* node = find(key);
        if (!node)
            return std::nullopt;
        const auto* array = node->as_array();
        if (!array)
            fail(node->source(), name(key) + " must be an array of strings");
        std::vector<std::string> items;
        for (const auto& item : *array) {
            if (!item.is_string())
                fail(item.source(), name(key) + " must contain only strings");
            items.push_back(*item.value<std::string>());
        }
        return items;
    }

    std::optional<pattern> regex(const std::string& key) {
        const auto text = string(key);
        if (!text || text->empty())
            return std::nullopt;
        RE2::Options options;
        options.set_log_errors(false);
        auto compiled = std::make_shared<const RE2>(*text, options);
        if (!compiled->ok())
            fail(table_.get(key)->source(),
                 name(key) + " is not a valid RE2 pattern: " + compiled->error());
        return pattern{*text, std::move(compiled)};
    }

    const toml::table* table(const std::string& key) {
        const auto* node = find(key);
        if (!node)
            return nullptr;
        if (!node->is_table())
            fail(node->source(), name(key) + " must be a table ([" + key + "])");
        return node->as_table();
    }

    const toml::array* table_array(const std::string& key) {
        const auto* node = find(key);
        if (!node)
            return nullptr;
        if (!node->is_array_of_tables())
            fail(node->source(), name(key) + " must be an array of tables ([[" + key + "]])");
        return node->as_array();
    }

    void finish() const {
        for (const auto& [key, node] : table_)
            if (!known_.count(std::string(key.str())))
                fail(key.source(), "unknown key " + name(std::string(key.str())) +
                                       " (see docs/policy.md for the keys trunkgate reads)");
    }

    std::string name(const std::string& key) const {
        return path_.empty() ? "'" + key + "'" : "'" + path_ + "." + key + "'";
    }

  private:
    const toml::table& table_;
    std::string path_;
    const std::string& file_;
    std::set<std::string> known_;
};

void require_non_empty(table_reader& reader, const std::string& key,
                       const std::vector<std::string>& items, const toml::table& table) {
    if (items.empty())
        reader.fail(table.get(key)->source(), reader.name(key) + " must not be empty");
}

approval_rule read_approval_rule(const toml::table& table, const std::string& file) {
    table_reader reader(table, "protect.require_approval", file);
    approval_rule rule;
    const auto approvers = reader.strings("approvers");
    if (!approvers || approvers->empty())
        reader.fail(table.source(),
                    "'require_approval' needs 'approvers', a non-empty list of identity globs");
    rule.approvers = *approvers;
    rule.max_age_days = reader.count("max_age_days").value_or(7);
    rule.allow_self = reader.boolean("allow_self", false);
    reader.finish();
    return rule;
}

protect_rule read_protect(const toml::table& table, const std::string& file) {
    table_reader reader(table, "protect", file);
    protect_rule rule;
    const auto refs = reader.strings("refs");
    if (!refs)
        reader.fail(table.source(), "every [[protect]] entry needs 'refs' (a list of ref globs)");
    require_non_empty(reader, "refs", *refs, table);
    rule.refs = *refs;
    rule.allow_force_push = reader.boolean("allow_force_push", false);
    rule.allow_delete = reader.boolean("allow_delete", false);
    rule.linear_history = reader.boolean("linear_history", false);
    if (auto allowed = reader.strings("push_allowed"))
        rule.push_allowed = *allowed;
    if (auto checks = reader.strings("required_checks"))
        rule.required_checks = *checks;
    rule.promote_from = reader.string("promote_from").value_or("");
    if (!rule.promote_from.empty() && rule.promote_from.rfind("refs/", 0) != 0)
        reader.fail(table.get("promote_from")->source(),
                    "'protect.promote_from' is a full ref name such as \"refs/heads/staging\"");
    if (const auto* approval = reader.table("require_approval"))
        rule.require_approval = read_approval_rule(*approval, file);
    reader.finish();
    return rule;
}

branch_policy read_branches(const toml::table& table, const std::string& file) {
    table_reader reader(table, "branches", file);
    branch_policy branches;
    if (auto refs = reader.strings("refs"))
        branches.refs = *refs;
    branches.name_pattern = reader.regex("name_pattern");
    branches.max_behind = reader.count("max_behind");
    branches.max_age_days = reader.count("max_age_days");
    branches.max_ahead = reader.count("max_ahead");
    reader.finish();
    return branches;
}

tag_policy read_tags(const toml::table& table, const std::string& file) {
    table_reader reader(table, "tags", file);
    tag_policy tags;
    tags.name_pattern = reader.regex("name_pattern");
    tags.immutable = reader.boolean("immutable", true);
    reader.finish();
    return tags;
}

std::optional<std::int64_t> read_size(table_reader& reader, const std::string& key) {
    const auto* node = reader.find(key);
    if (!node)
        return std::nullopt;
    if (node->is_integer() && *node->value<std::int64_t>() >= 0)
        return node->value<std::int64_t>();
    const auto size = node->is_string() ? parse_size(*node->value<std::string>()) : std::nullopt;
    if (!size)
        reader.fail(node->source(), reader.name(key) + " must be a size such as \"5 MiB\" or a " +
                                        "number of bytes");
    return size;
}

commit_policy read_commits(const toml::table& table, const std::string& file) {
    table_reader reader(table, "commits", file);
    commit_policy commits;
    if (auto refs = reader.strings("refs"))
        commits.refs = *refs;
    commits.message_pattern = reader.regex("message_pattern");
    commits.message_forbidden_pattern = reader.regex("message_forbidden_pattern");
    commits.max_subject_length = reader.count("max_subject_length");
    commits.author_email_pattern = reader.regex("author_email_pattern");
    commits.committer_email_pattern = reader.regex("committer_email_pattern");
    commits.max_file_size = read_size(reader, "max_file_size");
    if (auto globs = reader.strings("forbidden_paths")) {
        try {
            commits.forbidden_paths = compile_path_patterns(*globs);
        } catch (const std::invalid_argument& e) {
            reader.fail(table.get("forbidden_paths")->source(),
                        reader.name("forbidden_paths") + ": " + e.what());
        }
    }
    commits.secret_files = reader.boolean("secret_files", false);
    if (commits.secret_files)
        commits.secret_paths = compile_path_patterns(secret_file_globs());
    commits.max_changed_files = reader.count("max_changed_files");
    reader.finish();
    return commits;
}

void read_enforcement(const toml::table& table, const std::string& file, policy& result) {
    table_reader reader(table, "enforcement", file);
    for (const auto& [key, node] : table) {
        const std::string id(key.str());
        if (!is_rule_id(id) || id == "policy-error")
            reader.fail(key.source(), "unknown rule id '" + id + "' in [enforcement]" +
                                          " (see docs/rules.md for the rule ids)");
        const auto text = reader.string(id);
        const auto parsed = parse_level(*text);
        if (!parsed)
            reader.fail(node.source(), reader.name(id) + " must be \"block\", \"warn\" or \"off\"");
        result.enforcement[id] = *parsed;
    }
}

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

// [identity.users]: each key a login, each value the email addresses that are that login's.
std::map<std::string, std::vector<std::string>, std::less<>>
read_identity_users(const toml::table& table, const std::string& file) {
    table_reader reader(table, "identity.users", file);
    std::map<std::string, std::vector<std::string>, std::less<>> users;
    for (const auto& [key, node] : table) {
        const std::string login(key.str());
        if (login.empty() || login.find_first_of(" \t\r\n/") != std::string::npos)
            reader.fail(key.source(), "'identity.users' logins must be non-empty, without white "
                                      "space or '/': " +
                                          printable(login));
        auto emails = reader.strings(login);
        require_non_empty(reader, login, *emails, table);
        users.emplace(login, std::move(*emails));
    }
    reader.finish();
    return users;
}

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

checks_policy read_checks(const toml::table& table, const std::string& file) {
    table_reader reader(table, "checks", file);
    checks_policy checks;
    if (auto source = reader.string("source")) {
        if (*source == "notes")
            checks.source = checks_policy::source_kind::notes;
        else if (*source == "http")
            checks.source = checks_policy::source_kind::http;
        else
            reader.fail(table.get("source")->source(),
                        "'checks.source' must be \"notes\" or \"http\"");
    }
    if (auto ref = reader.string("notes_ref")) {
        if (ref->rfind("refs/notes/", 0) != 0)
            reader.fail(table.get("notes_ref")->source(),
                        "'checks.notes_ref' must start with refs/notes/");
        checks.notes_ref = *ref;
    }
    if (auto writers = reader.strings("writers"))
        checks.writers = *writers;
    if (const auto* http = reader.table("http")) {
        table_reader http_reader(*http, "checks.http", file);
        // Placeholders are filled before each look-up; judge each URL as it will be sent.
        const auto read_url = [&](const char* key, std::string& url) {
            url = http_reader.string(key).value_or("");
            if (url.empty())
                return;
            const auto filled =
                replace_all(replace_all(replace_all(url, "{owner}", "owner"), "{repo}", "repo"),
                            "{sha}", std::string(40, '0'));
            if (const auto problem = url_problem(filled, true))
                http_reader.fail(http->get(key)->source(), "'checks.http." + std::string(key) +
                                                               "' " + printable(redact_url(url)) +
                                                               " is not usable: " + *problem);
        };
        read_url("url", checks.http_url);
        read_url("check_runs_url", checks.http_check_runs_url);
        checks.http_token_env = http_reader.string("token_env").value_or("");
        if (auto timeout = http_reader.count("timeout_ms")) {
            if (*timeout == 0 || *timeout > 60000)
                http_reader.fail(http->get("timeout_ms")->source(),
                                 "'checks.http.timeout_ms' must be between 1 and 60000");
            checks.http_timeout_ms = *timeout;
        }
        if (auto on_error = http_reader.string("on_error")) {
            if (*on_error != "block" && *on_error != "allow")
                http_reader.fail(http->get("on_error")->source(),
                                 "'checks.http.on_error' must be \"block\" or \"allow\"");
            checks.http_errors_block = *on_error == "block";
        }
        http_reader.finish();
    }
    if (checks.source == checks_policy::source_kind::http && checks.http_url.empty() &&
        checks.http_check_runs_url.empty())
        reader.fail(table.source(), "source = \"http\" needs [checks.http] url or check_runs_url");
    reader.finish();
    return checks;
}

void read_top_level(const toml::table& root, const std::string& file, policy& result) {
    table_reader reader(root, "", file);
    if (auto mode = reader.string("mode")) {
        if (*mode == "enforce")
            result.mode = policy_mode::enforce;
        else if (*mode == "evaluate")
            result.mode = policy_mode::evaluate;
        else
            reader.fail(root.get("mode")->source(), "'mode' must be \"enforce\" or \"evaluate\"");
    }
    if (const auto* trunk = reader.table("trunk")) {
        table_reader trunk_reader(*trunk, "trunk", file);
        if (auto branch = trunk_reader.string("branch")) {
            if (branch->empty() || branch->rfind("refs/", 0) == 0)
                trunk_reader.fail(trunk->get("branch")->source(),
                                  "'trunk.branch' is a branch name such as \"main\"");
            result.trunk_branch = *branch;
        }
        trunk_reader.finish();
    }
    if (const auto* entries = reader.table_array("protect"))
        for (const auto& entry : *entries)
            result.protect.push_back(read_protect(*entry.as_table(), file));
    if (const auto* branches = reader.table("branches"))
        result.branches = read_branches(*branches, file);
    if (const auto* tags = reader.table("tags"))
        result.tags = read_tags(*tags, file);
    if (const auto* commits = reader.table("commits"))
        result.commits = read_commits(*commits, file);
    if (const auto* enforcement = reader.table("enforcement"))
        read_enforcement(*enforcement, file, result);
    if (const auto* identity = reader.table("identity")) {
        table_reader identity_reader(*identity, "identity", file);
        if (auto env = identity_reader.strings("env")) {
            require_non_empty(identity_reader, "env", *env, *identity);
            result.identity_env = *env;
        }
        if (const auto* users = identity_reader.table("users"))
            result.identity_users = read_identity_users(*users, file);
        identity_reader.finish();
    }
    if (const auto* checks = reader.table("checks"))
        result.checks = read_checks(*checks, file);
    if (const auto* bypass = reader.table("bypass")) {
        table_reader bypass_reader(*bypass, "bypass", file);
        result.bypass_identities =
            bypass_reader.strings("identities").value_or(std::vector<std::string>{});
        bypass_reader.finish();
    }
    if (const auto* repository = reader.table("repository"))
        result.repository = read_repository(*repository, file);
    if (const auto* events = reader.table("events"))
        result.events = read_events(*events, file);
    if (const auto* feedback = reader.table("feedback")) {
        table_reader feedback_reader(*feedback, "feedback", file);
        result.contact = feedback_reader.string("contact").value_or("");
        feedback_reader.finish();
    }
    reader.finish();
}

} // namespace

namespace {

std::string too_large(std::uint64_t size) {
    return "the policy is " + std::to_string(size) + " bytes; at most " +
           std::to_string(max_policy_bytes) + " (1 MiB) are read";
}

// Counts the values in every array of the policy (patterns, globs, names) and fails at the array
// that takes the total past max_policy_values, before any pattern is compiled.
void count_values(const toml::node& node, const std::string& source, std::size_t& total) {
    if (const auto* array = node.as_array()) {
        total += array->size();
        if (total > max_policy_values)
            throw policy_error(source, node.source().begin.line, node.source().begin.column,
                               "the policy lists more than " + std::to_string(max_policy_values) +
                                   " values in its arrays (patterns, globs, names): at most " +
                                   std::to_string(max_policy_values) + " are read");
        for (const auto& item : *array)
            count_values(item, source, total);
    } else if (const auto* table = node.as_table()) {
        for (const auto& [key, value] : *table)
            count_values(value, source, total);
    }
}

} // namespace

policy parse_policy(std::string_view text, const std::string& source) {
    if (text.size() > max_policy_bytes)
        throw policy_error(source, 0, 0, too_large(text.size()));
    toml::table root;
    try {
        root = toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        throw policy_error(source, e.source().begin.line, e.source().begin.column,
                           std::string(e.description()));
    }
    std::size_t values = 0;
    count_values(root, source, values);
    policy result;
    result.source = source;
    read_top_level(root, source, result);
    return result;
}

policy load_policy(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0 && !S_ISREG(info.st_mode))
        throw policy_error(path, 0, 0, "the policy is not a regular file");
    if (static_cast<std::uint64_t>(info.st_size) > max_policy_bytes)
        throw policy_error(path, 0, 0, too_large(static_cast<std::uint64_t>(info.st_size)));
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw policy_error(path, 0, 0, "cannot read the policy file");
    // Never more than the limit and one byte, even when the file grows while it is read.
    std::string text(max_policy_bytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad())
        throw policy_error(path, 0, 0, "cannot read the policy file");
    text.resize(static_cast<std::size_t>(in.gcount()));
    return parse_policy(text, path);
}

namespace {

bool file_exists(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0;
}

} // namespace

std::string default_server_policy() {
    return TRUNKGATE_SYSTEM_POLICY;
}

std::string server_policy_path(const std::optional<std::string>& override_path) {
    return override_path ? *override_path : default_server_policy();
}

policy_location find_policy(const std::optional<std::string>& explicit_path,
                            const std::optional<std::string>& configured_path,
                            const std::string& git_dir, const std::string& server_policy) {
    if (explicit_path && !explicit_path->empty())
        return {*explicit_path, policy_origin::explicit_path};
    if (configured_path && !configured_path->empty()) {
        if (configured_path->front() == '/')
            return {*configured_path, policy_origin::git_config};
        return {git_dir + *configured_path, policy_origin::git_config};
    }
    const auto own_file = git_dir + "trunkgate.toml";
    if (file_exists(own_file))
        return {own_file, policy_origin::repository_file};
    // Last, so that every repository with a policy of its own keeps it.
    if (!server_policy.empty() && file_exists(server_policy))
        return {server_policy, policy_origin::server_wide};
    throw missing_policy_error(
        own_file, 0, 0,
        "no policy found (looked at --policy, TRUNKGATE_POLICY, git config trunkgate.policy, this "
        "file and the server-wide " +
            (server_policy.empty() ? std::string("policy, which TRUNKGATE_SYSTEM_POLICY turns off")
                                   : server_policy) +
            "); run 'trunkgate install' or add one");
}

std::string locate_policy(const std::optional<std::string>& explicit_path,
                          const std::optional<std::string>& configured_path,
                          const std::string& git_dir) {
    const auto server_policy = server_policy_path(process_environment()("TRUNKGATE_SYSTEM_POLICY"));
    return find_policy(explicit_path, configured_path, git_dir, server_policy).path;
}

std::string describe(policy_origin origin) {
    switch (origin) {
    case policy_origin::explicit_path:
        return "TRUNKGATE_POLICY or --policy";
    case policy_origin::git_config:
        return "git config trunkgate.policy";
    case policy_origin::repository_file:
        return "$GIT_DIR/trunkgate.toml";
    case policy_origin::server_wide:
        break;
    }
    return "the server-wide policy";
}

} // namespace trunkgate
