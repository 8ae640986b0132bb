#include "trunkgate/policy/policy.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include "trunkgate/policy/glob.hpp"
#include "trunkgate/policy/policy_reader.hpp"
#include "trunkgate/policy/rule_ids.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/files.hpp"
#include "trunkgate/util/identity.hpp"

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

std::string repository_full_name(const policy& rules_policy, const std::string& git_dir) {
    if (!rules_policy.repository.full_name.empty())
        return rules_policy.repository.full_name;
    const auto last_name = [](std::string& dir) {
        while (!dir.empty() && dir.back() == '/')
            dir.pop_back();
        const auto slash = dir.find_last_of('/');
        auto name = dir.substr(slash == std::string::npos ? 0 : slash + 1);
        dir.resize(slash == std::string::npos ? 0 : slash);
        return name;
    };
    std::string dir = git_dir;
    auto name = last_name(dir);
    if (name == ".git") // a work tree's repository: name it after the work tree
        name = last_name(dir);
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".git") == 0)
        name.resize(name.size() - 4);
    auto owner = last_name(dir);
    if (owner.empty())
        owner = name;
    return owner + "/" + name;
}

const queue_rule* policy::queue_for(std::string_view ref) const {
    for (const auto& queue : queues)
        if (queue.target == ref)
            return &queue;
    return nullptr;
}

const queue_rule* policy::queue_for_submission(std::string_view ref, std::string* topic) const {
    constexpr std::string_view submissions = "refs/for/";
    if (ref.substr(0, submissions.size()) != submissions)
        return nullptr;
    const auto rest = ref.substr(submissions.size());
    const queue_rule* found = nullptr;
    std::size_t found_length = 0;
    for (const auto& queue : queues) {
        const auto branch =
            std::string_view(queue.target).substr(std::string_view("refs/heads/").size());
        const bool matches = rest == branch || (rest.size() > branch.size() + 1 &&
                                                rest.substr(0, branch.size()) == branch &&
                                                rest[branch.size()] == '/');
        if (matches && branch.size() > found_length) {
            found = &queue;
            found_length = branch.size();
        }
    }
    if (found && topic)
        *topic = std::string(rest.size() > found_length ? rest.substr(found_length + 1) : "");
    return found;
}

std::vector<std::string> policy::required_checks(std::string_view ref) const {
    std::vector<std::string> required;
    for (const auto* rule : protections_for(ref))
        for (const auto& context : rule->required_checks)
            if (std::find(required.begin(), required.end(), context) == required.end())
                required.push_back(context);
    return required;
}

bool policy::is_short_lived_branch(std::string_view ref) const {
    return ref.rfind("refs/heads/", 0) == 0 && ref != trunk_ref() && protections_for(ref).empty() &&
           glob_match_any(branches.refs, ref);
}

std::vector<std::string> policy::deploy_refs() const {
    if (report.deploy_refs)
        return *report.deploy_refs;
    std::vector<std::string> refs;
    for (const auto& rule : protect)
        if (!rule.promote_from.empty())
            for (const auto& ref : rule.refs)
                if (std::find(refs.begin(), refs.end(), ref) == refs.end())
                    refs.push_back(ref);
    return refs;
}

level policy::level_of(std::string_view id, level fallback) const {
    const auto override = enforcement.find(id);
    return override == enforcement.end() ? fallback : override->second;
}

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
