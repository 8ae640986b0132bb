#include "trunkgate/cli.hpp"

#include <ctime>
#include <iostream>
#include <map>
#include <optional>

#include "trunkgate/evaluate.hpp"
#include "trunkgate/feedback.hpp"
#include "trunkgate/git.hpp"
#include "trunkgate/install.hpp"
#include "trunkgate/policy.hpp"
#include "trunkgate/process.hpp"
#include "trunkgate/rules.hpp"
#include "trunkgate/text.hpp"

namespace trunkgate {

namespace {

class usage_error : public input_error {
  public:
    using input_error::input_error;
};

constexpr std::string_view general_help = R"(usage: trunkgate <command> [options]

Commands:
  install [--policy FILE] [--force] REPO...   install the hooks and a policy into bare repositories
  check [--repo DIR] [--policy FILE] [--format text|json] [--as IDENTITY] [OLD NEW REF]...
                                              evaluate updates without pushing (stdin if no triples)
  policy lint FILE                            validate a policy file
  rules                                       list the rule ids
  version                                     print the version
  help [COMMAND]                              show help; also `trunkgate COMMAND --help`

Exit codes: 0 ok, 1 rejected, 2 usage error, 3 configuration or internal error.
Documentation: docs/cli.md, docs/policy.md, docs/rules.md.
)";

const std::map<std::string, std::string, std::less<>> command_help{
    {"install", R"(usage: trunkgate install [--policy FILE] [--force] REPO...

Installs trunkgate's pre-receive hook into each bare repository REPO, copies the policy
(FILE, or the default trunk-based template) to REPO/trunkgate.toml unless one exists
(--policy replaces it), and sets receive.advertisePushOptions=true. An existing hook that is
not trunkgate's is kept as pre-receive.chained and still runs. Safe to run again.

  --policy FILE   the policy to install (validated first)
  --force         also install into a repository that has a work tree
)"},
    {"check",
     R"(usage: trunkgate check [--repo DIR] [--policy FILE] [--format text|json] [--as IDENTITY]
                       [OLD NEW REF]...

Evaluates ref updates as the pre-receive hook would, without pushing: the same engine, the
same text. Updates come as OLD NEW REF triples (full object ids; 40 zeros for create/delete)
or, without them, from stdin in pre-receive format.

  --repo DIR         the repository (default: the one containing the current directory)
  --policy FILE      the policy (default: TRUNKGATE_POLICY, git config trunkgate.policy,
                     then $GIT_DIR/trunkgate.toml)
  --format FORMAT    text (default) or json
  --as IDENTITY      judge the push as this pusher (default: the identity variables)
)"},
    {"policy", R"(usage: trunkgate policy lint FILE

Validates a policy file. Problems are printed as FILE:LINE:COLUMN: message; exit 3 if any.
)"},
    {"rules", "usage: trunkgate rules\n\nLists every rule id with what it blocks.\n"},
    {"version", "usage: trunkgate version\n"},
    {"help", "usage: trunkgate help [COMMAND]\n"},
};

// Splits arguments into options (with values where `takes_value` says so) and positionals.
struct parsed_args {
    std::map<std::string, std::string, std::less<>> options;
    std::vector<std::string> positionals;
    bool help = false;
};

parsed_args parse_args(const std::vector<std::string>& args, std::size_t first,
                       const std::map<std::string, bool, std::less<>>& known) {
    parsed_args parsed;
    bool options_done = false;
    for (std::size_t i = first; i < args.size(); ++i) {
        const auto& arg = args[i];
        if (options_done || arg.size() < 2 || arg[0] != '-') {
            parsed.positionals.push_back(arg);
            continue;
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        if (arg == "--help" || arg == "-h") {
            parsed.help = true;
            continue;
        }
        const auto equals = arg.find('=');
        const auto name = arg.substr(0, equals);
        const auto entry = known.find(name);
        if (entry == known.end())
            throw usage_error("unknown option " + printable(name));
        if (!entry->second) {
            if (equals != std::string::npos)
                throw usage_error(name + " takes no value");
            parsed.options[name] = "";
        } else if (equals != std::string::npos) {
            parsed.options[name] = arg.substr(equals + 1);
        } else if (i + 1 < args.size()) {
            parsed.options[name] = args[++i];
        } else {
            throw usage_error(name + " needs a value");
        }
    }
    return parsed;
}

std::optional<std::string> option(const parsed_args& parsed, std::string_view name) {
    const auto found = parsed.options.find(name);
    if (found == parsed.options.end())
        return std::nullopt;
    return found->second;
}

struct io {
    std::istream& in;
    std::ostream& out;
    std::ostream& err;
    const env_lookup& env;
};

int show_help(const io& streams, std::string_view command) {
    const auto found = command_help.find(command);
    if (found == command_help.end()) {
        if (!command.empty())
            streams.err << "trunkgate: no command '" << printable(command) << "'\n";
        streams.out << general_help;
        return command.empty() ? exit_ok : exit_usage;
    }
    streams.out << found->second;
    return exit_ok;
}

int cmd_install(const io& streams, const parsed_args& parsed) {
    if (parsed.positionals.empty())
        throw usage_error("install needs at least one repository");
    install_options options;
    options.policy_file = option(parsed, "--policy");
    options.force = option(parsed, "--force").has_value();
    options.program_dir = executable_dir();
    options.templates_dir = default_templates_dir(options.program_dir);
    int status = exit_ok;
    for (const auto& repo : parsed.positionals) {
        try {
            for (const auto& line : install_into(repo, options))
                streams.out << printable(repo) << ": " << line << "\n";
        } catch (const policy_error& e) {
            streams.err << "trunkgate: " << e.what() << "\n";
            return exit_error;
        } catch (const input_error& e) {
            streams.err << "trunkgate: " << e.what() << "\n";
            status = exit_usage;
        }
    }
    return status;
}

int cmd_check(const io& streams, const parsed_args& parsed) {
    const auto format = option(parsed, "--format").value_or("text");
    if (format != "text" && format != "json")
        throw usage_error("--format is text or json");
    const auto updates = parsed.positionals.empty() ? parse_updates(streams.in)
                                                    : updates_from_args(parsed.positionals);
    git_repository* raw = nullptr;
    const auto repo_path = option(parsed, "--repo").value_or(".");
    if (git_repository_open_ext(&raw, repo_path.c_str(), 0, nullptr) != 0) {
        git_error_clear();
        throw usage_error(repo_path + " is not in a git repository");
    }
    repository_ptr repo(raw);
    verdict result;
    try {
        auto explicit_policy = option(parsed, "--policy");
        if (!explicit_policy)
            explicit_policy = streams.env("TRUNKGATE_POLICY");
        const auto rules_policy = load_policy(locate_policy(
            explicit_policy, config_string(repo.get(), "trunkgate.policy"), git_dir(repo.get())));
        push_context context;
        context.identity = option(parsed, "--as")
                               .value_or(resolve_identity(rules_policy.identity_env, streams.env));
        context.now = static_cast<std::int64_t>(std::time(nullptr));
        // From a work tree, what the server already has is what the remote-tracking refs say.
        context.developer_clone = !git_repository_is_bare(repo.get());
        result = evaluate(repo.get(), rules_policy, updates, context);
    } catch (const policy_error& e) {
        result = policy_failure(e);
    }
    if (format == "json")
        streams.out << render_json(result) << "\n";
    else if (result.found.empty())
        streams.out << "trunkgate: no problems found (policy " << printable(result.policy_name)
                    << ")\n";
    else
        streams.out << render_text(result);
    if (!result.found.empty() && result.found.front().rule == "policy-error")
        return exit_error;
    return result.rejected() ? exit_rejected : exit_ok;
}

int cmd_policy(const io& streams, const parsed_args& parsed) {
    if (parsed.positionals.size() != 2 || parsed.positionals[0] != "lint")
        throw usage_error("usage: trunkgate policy lint FILE");
    try {
        load_policy(parsed.positionals[1]);
    } catch (const policy_error& e) {
        streams.err << e.what() << "\n";
        return exit_error;
    }
    streams.out << printable(parsed.positionals[1]) << ": ok\n";
    return exit_ok;
}

int cmd_rules(const io& streams) {
    for (const auto& entry : rule_table())
        streams.out << entry.id << std::string(18 - std::min<std::size_t>(entry.id.size(), 17), ' ')
                    << entry.summary << "\n";
    streams.out << "policy-error" << std::string(6, ' ')
                << "no policy, or a policy that does not load\n";
    return exit_ok;
}

const std::map<std::string, std::map<std::string, bool, std::less<>>, std::less<>> command_options{
    {"install", {{"--policy", true}, {"--force", false}}},
    {"check", {{"--repo", true}, {"--policy", true}, {"--format", true}, {"--as", true}}},
    {"policy", {}},
    {"rules", {}},
    {"version", {}},
    {"help", {}},
};

int dispatch(const io& streams, const std::vector<std::string>& args) {
    if (args.empty())
        return show_help(streams, "");
    const auto& command = args[0];
    if (command == "--help" || command == "-h")
        return show_help(streams, "");
    if (command == "--version")
        return dispatch(streams, {"version"});
    const auto known = command_options.find(command);
    if (known == command_options.end())
        throw usage_error("unknown command '" + printable(command) + "' (see trunkgate help)");
    const auto parsed = parse_args(args, 1, known->second);
    if (parsed.help)
        return show_help(streams, command);
    if (command == "help")
        return show_help(streams, parsed.positionals.empty() ? "" : parsed.positionals[0]);
    if (command == "version") {
        streams.out << "trunkgate " TRUNKGATE_VERSION " (libgit2 " << LIBGIT2_VERSION << ")\n";
        return exit_ok;
    }
    if (command == "install")
        return cmd_install(streams, parsed);
    if (command == "check")
        return cmd_check(streams, parsed);
    if (command == "policy")
        return cmd_policy(streams, parsed);
    return cmd_rules(streams);
}

} // namespace

int run_cli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
            std::ostream& err, const env_lookup& env) {
    const io streams{in, out, err, env};
    try {
        libgit2_guard libgit2;
        return dispatch(streams, args);
    } catch (const input_error& e) {
        err << "trunkgate: " << e.what() << "\n";
        return exit_usage;
    } catch (const std::exception& e) {
        err << "trunkgate: error: " << printable(e.what()) << "\n";
        return exit_error;
    }
}

} // namespace trunkgate
