// The policy's tables that the rules read: [[protect]], [branches], [tags], [commits],
// [enforcement], [identity], [checks], and the top level that dispatches every table.
#include "trunkgate/policy/policy_reader.hpp"

#include "trunkgate/policy/rule_ids.hpp"
#include "trunkgate/util/http.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

namespace {

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

report_policy read_report(const toml::table& table, const std::string& file) {
    table_reader reader(table, "report", file);
    report_policy result;
    if (auto refs = reader.strings("deploy_refs")) {
        for (const auto& ref : *refs)
            if (ref.rfind("refs/", 0) != 0)
                reader.fail(table.get("deploy_refs")->source(),
                            "'report.deploy_refs' holds full ref names or globs such as "
                            "\"refs/heads/production\"");
        result.deploy_refs = std::move(*refs);
    }
    if (auto days = reader.count("failure_window_days")) {
        if (*days < 1 || *days > 366)
            reader.fail(table.get("failure_window_days")->source(),
                        "'report.failure_window_days' is a number of days from 1 to 366");
        result.failure_window_days = *days;
    }
    reader.finish();
    return result;
}

} // namespace

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
    if (const auto* entries = reader.table_array("queue"))
        for (const auto& entry : *entries) {
            auto queue = read_queue(*entry.as_table(), file);
            if (result.queue_for(queue.target))
                reader.fail(entry.source(), "two [[queue]] entries for " + queue.target +
                                                "; a branch has one queue");
            result.queues.push_back(std::move(queue));
        }
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
    if (const auto* report = reader.table("report"))
        result.report = read_report(*report, file);
    if (const auto* feedback = reader.table("feedback")) {
        table_reader feedback_reader(*feedback, "feedback", file);
        result.contact = feedback_reader.string("contact").value_or("");
        feedback_reader.finish();
    }
    reader.finish();
}

} // namespace trunkgate
