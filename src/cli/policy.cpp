// policy lint: a policy file, or the policy a repository uses and how it was found.

#include "trunkgate/policy/policy.hpp"
#include "trunkgate/cli/commands.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

namespace {

// Which level of git's configuration sets `key`, named as `git config --show-scope` names it.
std::string config_scope(git_repository* repo, const char* key) {
    git_config* raw = nullptr;
    check(git_repository_config_snapshot(&raw, repo), "read the repository's git config");
    config_ptr config(raw);
    git_config_entry* entry = nullptr;
    if (git_config_get_entry(&entry, config.get(), key) != 0) {
        git_error_clear();
        return "unknown";
    }
    const auto level = entry->level;
    git_config_entry_free(entry);
    switch (level) {
    case GIT_CONFIG_LEVEL_PROGRAMDATA:
    case GIT_CONFIG_LEVEL_SYSTEM:
        return "system";
    case GIT_CONFIG_LEVEL_XDG:
    case GIT_CONFIG_LEVEL_GLOBAL:
        return "global";
    case GIT_CONFIG_LEVEL_LOCAL:
        return "local";
    default:
        return "worktree";
    }
}

// `policy lint --repo DIR`: the policy DIR's hooks would use, and the lookup step that found it.
int lint_repository_policy(const cli_io& streams, const std::string& repo_path) {
    git_repository* raw = nullptr;
    if (git_repository_open_ext(&raw, repo_path.c_str(), 0, nullptr) != 0) {
        git_error_clear();
        throw usage_error(repo_path + " is not in a git repository");
    }
    repository_ptr repo(raw);
    const auto explicit_path = streams.env("TRUNKGATE_POLICY");
    const auto configured = config_string(repo.get(), "trunkgate.policy");
    policy_location found;
    try {
        found = find_policy(explicit_path, configured, git_dir(repo.get()),
                            server_policy_path(streams.env("TRUNKGATE_SYSTEM_POLICY")));
    } catch (const missing_policy_error& e) {
        streams.err << e.what() << "\n";
        return exit_error;
    }
    std::string origin = describe(found.origin);
    if (found.origin == policy_origin::explicit_path)
        origin = "TRUNKGATE_POLICY";
    else if (found.origin == policy_origin::git_config)
        origin += " (" + config_scope(repo.get(), "trunkgate.policy") + ")";
    const auto used_by = "the policy of " + printable(repo_path) + ": " + origin;
    try {
        load_policy(found.path);
    } catch (const policy_error& e) {
        streams.err << e.what() << "\n(" << used_by << ")\n";
        return exit_error;
    }
    streams.out << printable(found.path) << ": ok (" << used_by << ")\n";
    return exit_ok;
}

} // namespace

int cmd_policy(const cli_io& streams, const parsed_args& parsed) {
    const auto& args = parsed.positionals;
    const auto repo = parsed.option("--repo");
    if (args.empty() || args[0] != "lint" || args.size() > 2 || (args.size() == 2 && repo))
        throw usage_error(
            "usage: trunkgate policy lint FILE, or trunkgate policy lint [--repo DIR]");
    if (args.size() == 1)
        return lint_repository_policy(streams, repo.value_or("."));
    try {
        load_policy(args[1]);
    } catch (const policy_error& e) {
        streams.err << e.what() << "\n";
        return exit_error;
    }
    streams.out << printable(args[1]) << ": ok\n";
    return exit_ok;
}

} // namespace trunkgate
