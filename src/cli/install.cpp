// install and uninstall: trunkgate into repositories, or into a shared hooks directory.

#include "trunkgate/admin/install.hpp"
#include "trunkgate/admin/fleet.hpp"
#include "trunkgate/cli/commands.hpp"
#include "trunkgate/cli/repositories.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/process.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

int cmd_install(const cli_io& streams, const parsed_args& parsed) {
    install_options options;
    options.policy_file = parsed.option("--policy");
    options.force = parsed.option("--force").has_value();
    options.program_dir = executable_dir();
    options.templates_dir = default_templates_dir(options.program_dir);
    options.server_policy = server_policy_path(streams.env("TRUNKGATE_SYSTEM_POLICY"));
    if (const auto hooks_dir = parsed.option("--hooks-dir")) {
        if (!parsed.positionals.empty() || parsed.option("--all-under") || options.policy_file ||
            options.force)
            throw usage_error("install --hooks-dir DIR takes no REPO, --all-under, --policy or "
                              "--force: the hooks there serve every repository that uses DIR, "
                              "each with the policy it finds");
        for (const auto& line : install_into_hooks_dir(*hooks_dir, options))
            streams.out << printable(*hooks_dir) << ": " << printable(line) << "\n";
        return exit_ok;
    }
    if (parsed.positionals.empty() && !parsed.option("--all-under"))
        throw usage_error("install needs a repository, --all-under DIR or --hooks-dir DIR");
    // Checked once, before any repository changes: a policy that does not load would reject
    // every push to all of them.
    try {
        load_policy(
            options.policy_file.value_or(options.templates_dir + "/policy/trunk-based.toml"));
    } catch (const policy_error& e) {
        streams.err << "trunkgate: " << e.what() << "\n";
        return exit_error;
    }
    int status = exit_ok;
    const auto repos = repositories_to_act_on(streams, parsed, status);
    const auto rerun = [&](const std::string& repo) {
        std::vector<std::string> command{"install"};
        if (options.policy_file)
            command.insert(command.end(), {"--policy", *options.policy_file});
        if (options.force)
            command.push_back("--force");
        command.push_back(repo);
        return command;
    };
    return act_on_repositories(streams, repos, status, rerun, [&](const std::string& repo) {
        return install_into(repo, options);
    });
}

int cmd_uninstall(const cli_io& streams, const parsed_args& parsed) {
    if (const auto hooks_dir = parsed.option("--hooks-dir")) {
        if (!parsed.positionals.empty() || parsed.option("--all-under"))
            throw usage_error("uninstall --hooks-dir DIR takes no REPO and no --all-under");
        for (const auto& line : uninstall_from_hooks_dir(*hooks_dir))
            streams.out << printable(*hooks_dir) << ": " << printable(line) << "\n";
        return exit_ok;
    }
    if (parsed.positionals.empty() && !parsed.option("--all-under"))
        throw usage_error("uninstall needs a repository, --all-under DIR or --hooks-dir DIR");
    int status = exit_ok;
    const auto repos = repositories_to_act_on(streams, parsed, status);
    const auto rerun = [](const std::string& repo) {
        return std::vector<std::string>{"uninstall", repo};
    };
    return act_on_repositories(streams, repos, status, rerun, uninstall_from);
}

} // namespace trunkgate
