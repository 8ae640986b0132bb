#include "trunkgate/cli.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <dirent.h>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "trunkgate/approvals.hpp"
#include "trunkgate/audit.hpp"
#include "trunkgate/delivery.hpp"
#include "trunkgate/doctor.hpp"
#include "trunkgate/evaluate.hpp"
#include "trunkgate/feedback.hpp"
#include "trunkgate/fleet.hpp"
#include "trunkgate/git.hpp"
#include "trunkgate/install.hpp"
#include "trunkgate/notes.hpp"
#include "trunkgate/ownership.hpp"
#include "trunkgate/policy.hpp"
#include "trunkgate/process.hpp"
#include "trunkgate/rules.hpp"
#include "trunkgate/status.hpp"
#include "trunkgate/text.hpp"
#include "trunkgate/version.hpp"

namespace trunkgate {

namespace {

class usage_error : public input_error {
  public:
    using input_error::input_error;
};

constexpr std::string_view general_help = R"(usage: trunkgate <command> [options]

Commands:
  install [--policy FILE] [--force] REPO... [--all-under DIR]
                                              install the hooks and a policy into bare repositories
  install --hooks-dir DIR                     write hooks for a core.hooksPath or gitolite's common
                                              hooks, serving every repository that uses DIR
  uninstall REPO... [--all-under DIR] | --hooks-dir DIR
                                              take trunkgate's hooks out, restore chained hooks
  check [--repo DIR] [--policy FILE] [--format text|json] [--as IDENTITY] [OLD NEW REF]...
                                              evaluate updates without pushing (stdin if no triples)
  policy lint FILE                            validate a policy file
  policy lint [--repo DIR]                    validate the policy a repository uses; say which
  status set [--repo DIR] SHA CONTEXT STATE [--url U] [--description D]
                                              record a CI status (pending|success|failure|error)
  status get [--repo DIR] SHA [--format text|json]
  status list [--repo DIR]                    every commit with statuses
  approve [--repo DIR] SHA [--reject] [--comment TEXT]
                                              approve (or reject) a commit as the current identity
  audit [--repo DIR] [--since DATE] [--format text|json]
                                              the pre-receive decisions and what landed
  deliver [--repo DIR]... [--all-under DIR]   send the push events that are due
  events [--repo DIR] [--format text|json]    list queued, failed, dead and unreadable events
  events redeliver [--repo DIR] ID            queue one event again, same id and body
  doctor [REPO...] [--all-under DIR] [--format text|json] [--backlog-minutes N]
                                              find setup problems, each with its fix
  rules                                       list the rule ids
  version                                     print the version
  help [COMMAND]                              show help; also `trunkgate COMMAND --help`

Exit codes: 0 ok, 1 rejected, 2 usage error, 3 configuration or internal error.
Documentation: docs/cli.md, docs/policy.md, docs/rules.md.
)";

const std::map<std::string, std::string, std::less<>> command_help{
    {"install", R"(usage: trunkgate install [--policy FILE] [--force] REPO... [--all-under DIR]
       trunkgate install --hooks-dir DIR

Installs trunkgate's pre-receive and post-receive hooks into each bare repository REPO (and
each one found under DIR), copies the policy (FILE, or the default trunk-based template) to
REPO/trunkgate.toml unless one exists (--policy replaces it; without --policy nothing is written
when the repository already uses git config trunkgate.policy or the server-wide policy), and sets
receive.advertisePushOptions=true. An existing hook that is not trunkgate's is kept as
<hook>.chained and still runs. Safe to run again. A repository that fails does not stop the
others; the exit status is the worst.

  --policy FILE     the policy to install (validated first)
  --force           also install into a repository that has a work tree
  --all-under DIR   every bare repository below DIR (symbolic links are not followed)
  --hooks-dir DIR   only write the two hooks into DIR, for core.hooksPath or gitolite's
                    ~/.gitolite/hooks/common: they serve any repository git runs them for
)"},
    {"uninstall", R"(usage: trunkgate uninstall REPO... [--all-under DIR]
       trunkgate uninstall --hooks-dir DIR

Takes trunkgate's pre-receive and post-receive hooks out of each repository (or out of the
shared hooks directory DIR) and puts the hooks that were there before back, exactly as they
were (<hook>.chained renamed back). A hook that is not trunkgate's is never touched. The policy,
$GIT_DIR/trunkgate/ (audit log, event spool) and the git config stay. Safe to run again.

  --all-under DIR   every bare repository below DIR (symbolic links are not followed)
  --hooks-dir DIR   the shared hooks directory that install --hooks-dir wrote: every
                    repository that uses it loses trunkgate
)"},
    {"check",
     R"(usage: trunkgate check [--repo DIR] [--policy FILE] [--format text|json] [--as IDENTITY]
                       [OLD NEW REF]...

Evaluates ref updates as the pre-receive hook would, without pushing: the same engine, the
same text. Updates come as OLD NEW REF triples (full object ids; 40 zeros for create/delete)
or, without them, from stdin in pre-receive format.

  --repo DIR         the repository (default: the one containing the current directory)
  --policy FILE      the policy (default: TRUNKGATE_POLICY, git config trunkgate.policy,
                     $GIT_DIR/trunkgate.toml, then the server-wide policy)
  --format FORMAT    text (default) or json
  --as IDENTITY      judge the push as this pusher (default: the identity variables)
)"},
    {"policy", R"(usage: trunkgate policy lint FILE
       trunkgate policy lint [--repo DIR]

Validates a policy file. Problems are printed as FILE:LINE:COLUMN: message; exit 3 if any.
Without FILE, validates the policy the hooks of the repository DIR (default: the one containing
the current directory) would use, and says which it is and how it was found: TRUNKGATE_POLICY,
git config trunkgate.policy, $GIT_DIR/trunkgate.toml or the server-wide policy
(/etc/trunkgate/policy.toml, or TRUNKGATE_SYSTEM_POLICY).
)"},
    {"rules", "usage: trunkgate rules\n\nLists every rule id with what it blocks.\n"},
    {"status",
     R"(usage: trunkgate status set [--repo DIR] SHA CONTEXT STATE [--url U] [--description D]
       trunkgate status get [--repo DIR] SHA [--format text|json]
       trunkgate status list [--repo DIR]

Records and shows CI statuses kept as git notes on [checks] notes_ref (default
refs/notes/trunkgate/checks). STATE is pending, success, failure or error. Run it on the
server's bare repository, or in a CI clone and then push the notes ref (the pusher must be in
[checks] writers). Concurrent writers never lose a status: each context is merged, newest wins.
)"},
    {"approve", R"(usage: trunkgate approve [--repo DIR] SHA [--reject] [--comment TEXT]

Records an approval (or, with --reject, a rejection) of a commit by the current identity
(TRUNKGATE_USER, GL_USER, REMOTE_USER, GITEA_PUSHER_NAME, USER, or [identity] env) on
refs/notes/trunkgate/approvals. A later decision by the same identity replaces the earlier.
)"},
    {"audit", R"(usage: trunkgate audit [--repo DIR] [--since DATE] [--format text|json]

Prints the decisions of the pre-receive hook from $GIT_DIR/trunkgate/audit.log: time,
identity, accept/reject/bypass, refs, findings, each paired with what the post-receive hook
recorded as landed (an accepted push a later hook refused shows "accept, not landed"). DATE is
YYYY-MM-DD, an ISO 8601 time in UTC (YYYY-MM-DDTHH:MM:SSZ) or Unix seconds.
)"},
    {"deliver", R"(usage: trunkgate deliver [--repo DIR]... [--all-under DIR]

Sends every push event that is due from the spool of each repository (default: the one
containing the current directory): for cron or the systemd timer in templates/systemd/.
Each event is locked while it is sent, so overlapping runs never send one twice at once.
An entry that cannot be read, parsed or locked is named with the reason and left as it is;
the others are still sent. Exit 1 when, after the run, an event waits for a retry, has failed
(a 4xx; see trunkgate events) or is unreadable, or this run gave one up (moved to dead/); 0
otherwise; 3 for a broken policy.

  --repo DIR        a repository (repeatable)
  --all-under DIR   every repository found below DIR
)"},
    {"events", R"(usage: trunkgate events [--repo DIR] [--format text|json]
       trunkgate events redeliver [--repo DIR] ID

Lists the events that are queued (waiting for a retry), failed (a 4xx answer; waiting for
redelivery), dead (given up after [events] max_age_hours) or unreadable (a spool entry that
cannot be read, parsed or locked), with their last error or the reason.
`redeliver ID` queues a delivered, failed or dead event again with its original delivery id
and body, due now.
)"},
    {"doctor",
     R"(usage: trunkgate doctor [REPO...] [--all-under DIR]... [--format text|json]
                        [--backlog-minutes N]

Checks each repository (default: the one containing the current directory) as the user git
runs as (its owner) meets it: hook wrappers and chained hooks, the policy, push options,
ownership and modes of $GIT_DIR/trunkgate/, the audit log, the spool (backlog, failed, dead,
unreadable), the deliver timer, safe.directory. One line per problem: its id, what is wrong,
and the command that fixes it. Exit 0 when nothing is wrong, 1 when something is.

  --all-under DIR       every repository with trunkgate below DIR (repeatable)
  --format FORMAT       text (default) or json
  --backlog-minutes N   a delivery queued longer is a backlog (default 60)
)"},
    {"version", "usage: trunkgate version\n"},
    {"help", "usage: trunkgate help [COMMAND]\n"},
};

// Splits arguments into options (with values where `takes_value` says so) and positionals.
struct parsed_args {
    std::map<std::string, std::vector<std::string>, std::less<>> options;
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
            parsed.options[name].push_back("");
        } else if (equals != std::string::npos) {
            parsed.options[name].push_back(arg.substr(equals + 1));
        } else if (i + 1 < args.size()) {
            parsed.options[name].push_back(args[++i]);
        } else {
            throw usage_error(name + " needs a value");
        }
    }
    return parsed;
}

// The last value given for an option (a repeated option overrides), or nullopt.
std::optional<std::string> option(const parsed_args& parsed, std::string_view name) {
    const auto found = parsed.options.find(name);
    if (found == parsed.options.end())
        return std::nullopt;
    return found->second.back();
}

std::vector<std::string> option_values(const parsed_args& parsed, std::string_view name) {
    const auto found = parsed.options.find(name);
    return found == parsed.options.end() ? std::vector<std::string>{} : found->second;
}

struct io {
    std::istream& in;
    std::ostream& out;
    std::ostream& err;
    const env_lookup& env;
    const std::vector<std::string>& args; ///< the command line, without the program
};

// Who acts on a repository (docs/cli.md "Running as root"). Decided before anything opens it or
// writes into it: root becomes the repository's owner, so that libgit2's ownership check passes
// and no file it leaves behind is root's; anyone else who is not the owner may only read.
struct owner_decision {
    std::string git_dir;               ///< "" when the path is no repository (opening says so)
    std::optional<system_user> become; ///< root: act as this user (its owner)
    std::string refusal;               ///< not empty: do not serve it; the line says why
};

// `runuser -u USER -- /path/to/trunkgate ARGS...`: the command to run as `user` instead.
std::string command_as(const std::string& user, const std::vector<std::string>& args) {
    auto command = (user == "root" ? "" : "runuser -u " + shell_quote(user) + " -- ") +
                   shell_quote(executable_dir()) + "/trunkgate";
    for (const auto& arg : args)
        command += " " + shell_quote(arg);
    return command;
}

// `rerun`: the command line that serves just this repository, for the hint.
owner_decision decide_owner(const std::string& path, bool search, bool writes,
                            const std::vector<std::string>& rerun) {
    owner_decision decision;
    const auto dir = discover_git_dir(path, search);
    if (!dir)
        return decision;
    decision.git_dir = *dir;
    const uid_t owner = owner_of(*dir);
    const uid_t me = ::geteuid();
    if (owner == me)
        return decision;
    const auto owner_name = user_name(owner);
    if (me == 0) {
        decision.become = find_user(owner);
        if (!decision.become)
            decision.refusal =
                printable(path) + " belongs to uid " + std::to_string(owner) +
                ", which is in no user database, so trunkgate cannot act as its " +
                "owner; give it to the user that serves it (chown -R USER: " + printable(*dir) +
                ")";
        return decision;
    }
    const auto as_owner = owner == 0 ? "run it as root: " + command_as(owner_name, rerun)
                                     : "run it as " + owner_name +
                                           " (as root: " + command_as(owner_name, rerun) +
                                           "; root running trunkgate itself acts as the owner too)";
    if (writes) {
        // What it would write would be ours, not the owner's: the owner's hooks and deliverer
        // could no longer read or replace it (issue 10).
        decision.refusal = printable(path) + " belongs to " + owner_name + ", not to " +
                           user_name(me) + ", and trunkgate " + rerun.front() +
                           " writes into a repository only as its owner; " + as_owner;
        return decision;
    }
    // Only reading: go on if libgit2 opens it (safe.directory in the user's git config).
    git_repository* raw = nullptr;
    if (git_repository_open_ext(&raw, path.c_str(), search ? 0 : GIT_REPOSITORY_OPEN_NO_SEARCH,
                                nullptr) == 0) {
        git_repository_free(raw);
        return decision;
    }
    const ::git_error* last = git_error_last();
    const std::string said = last && last->message ? last->message : "no message";
    git_error_clear();
    decision.refusal = printable(path) + " belongs to " + owner_name + ", not to " + user_name(me) +
                       ", and libgit2 opens only repositories of the user it runs as, like git's " +
                       "\"dubious ownership\" check (libgit2: " + printable(said) + "); " +
                       as_owner + ", or add it to safe.directory in your ~/.gitconfig";
    return decision;
}

void act_as(const system_user& user) {
    become_user(user);
    reset_config_search_paths();
}

// For a command on one repository: becomes its owner (root), or refuses (exit 2).
void act_as_owner(const io& streams, const std::string& path, bool writes) {
    const auto decision = decide_owner(path, true, writes, streams.args);
    if (!decision.refusal.empty())
        throw usage_error(decision.refusal);
    if (decision.become)
        act_as(*decision.become);
}

// For a command on several repositories (`paths`, with the command line serving each one):
// root becomes their owner at once when they all have the same one; when they belong to several
// users, each repository of another user than root keeps its `become`, to be served by a child
// acting as that user.
std::vector<owner_decision>
decide_owners(const std::vector<std::string>& paths, bool search,
              const std::function<std::vector<std::string>(const std::string&)>& rerun) {
    std::vector<owner_decision> decisions;
    for (const auto& path : paths)
        decisions.push_back(decide_owner(path, search, true, rerun(path)));
    if (::geteuid() != 0)
        return decisions;
    std::optional<uid_t> owner;
    for (const auto& decision : decisions) {
        if (decision.git_dir.empty() || !decision.refusal.empty())
            continue;
        const uid_t uid = decision.become ? decision.become->uid : 0;
        if (owner && *owner != uid)
            return decisions; // several users: a child for each repository not root's
        owner = uid;
    }
    if (owner && *owner != 0) {
        for (const auto& decision : decisions)
            if (decision.become) {
                act_as(*decision.become);
                break;
            }
        for (auto& decision : decisions)
            decision.become.reset();
    }
    return decisions;
}

// Serves one repository of a multi-repository command with `serve`: refused (its line, exit
// 2), here, or in a child acting as its owner, whose output is passed on.
int serve_as_owner(const io& streams, const owner_decision& decision,
                   const std::function<int(const io&)>& serve) {
    if (!decision.refusal.empty()) {
        streams.err << "trunkgate: " << decision.refusal << "\n";
        return exit_usage;
    }
    if (!decision.become)
        return serve(streams);
    streams.out.flush();
    streams.err.flush();
    const auto ran = run_as_user(
        *decision.become,
        [&](std::ostream& out, std::ostream& err) {
            reset_config_search_paths();
            std::istringstream no_input;
            return serve(io{no_input, out, err, streams.env, streams.args});
        },
        exit_error);
    streams.out << ran.out;
    streams.err << ran.err;
    return ran.status;
}

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

// The repositories a fleet command acts on: those named, then the bare ones under each
// --all-under DIR. A DIR that is not a directory is reported and makes `status` 2.
std::vector<std::string> repositories_to_act_on(const io& streams, const parsed_args& parsed,
                                                int& status) {
    std::vector<std::string> repos = parsed.positionals;
    for (const auto& root : option_values(parsed, "--all-under")) {
        try {
            const auto found = find_bare_repositories(root);
            if (found.empty())
                streams.err << "trunkgate: no bare repository under " << printable(root) << "\n";
            for (const auto& repo : found)
                if (std::find(repos.begin(), repos.end(), repo) == repos.end())
                    repos.push_back(repo);
        } catch (const input_error& e) {
            streams.err << "trunkgate: --all-under " << e.what() << "\n";
            status = std::max<int>(status, exit_usage);
        }
    }
    return repos;
}

// Runs `act` on every repository, printing `REPO: what it did` per line, and goes on after a
// repository that fails: one broken repository must not leave the rest of a fleet half done.
// Returns the worst exit code (2 for input errors, 3 for anything else).
int act_on_repositories(const io& streams, const std::vector<std::string>& repos, int status,
                        const std::function<std::vector<std::string>(const std::string&)>& rerun,
                        const std::function<std::vector<std::string>(const std::string&)>& act) {
    const auto decisions = decide_owners(repos, false, rerun);
    for (std::size_t i = 0; i < repos.size(); ++i) {
        const auto& repo = repos[i];
        const int served = serve_as_owner(streams, decisions[i], [&](const io& out) {
            try {
                for (const auto& line : act(repo))
                    out.out << printable(repo) << ": " << printable(line) << "\n";
            } catch (const input_error& e) {
                out.err << "trunkgate: " << printable(e.what()) << "\n";
                return int{exit_usage};
            } catch (const std::exception& e) {
                out.err << "trunkgate: " << printable(repo) << ": " << printable(e.what()) << "\n";
                return int{exit_error};
            }
            return int{exit_ok};
        });
        status = std::max(status, served);
    }
    return status;
}

int cmd_install(const io& streams, const parsed_args& parsed) {
    install_options options;
    options.policy_file = option(parsed, "--policy");
    options.force = option(parsed, "--force").has_value();
    options.program_dir = executable_dir();
    options.templates_dir = default_templates_dir(options.program_dir);
    options.server_policy = server_policy_path(streams.env("TRUNKGATE_SYSTEM_POLICY"));
    if (const auto hooks_dir = option(parsed, "--hooks-dir")) {
        if (!parsed.positionals.empty() || option(parsed, "--all-under") || options.policy_file ||
            options.force)
            throw usage_error("install --hooks-dir DIR takes no REPO, --all-under, --policy or "
                              "--force: the hooks there serve every repository that uses DIR, "
                              "each with the policy it finds");
        for (const auto& line : install_into_hooks_dir(*hooks_dir, options))
            streams.out << printable(*hooks_dir) << ": " << printable(line) << "\n";
        return exit_ok;
    }
    if (parsed.positionals.empty() && !option(parsed, "--all-under"))
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

int cmd_uninstall(const io& streams, const parsed_args& parsed) {
    if (const auto hooks_dir = option(parsed, "--hooks-dir")) {
        if (!parsed.positionals.empty() || option(parsed, "--all-under"))
            throw usage_error("uninstall --hooks-dir DIR takes no REPO and no --all-under");
        for (const auto& line : uninstall_from_hooks_dir(*hooks_dir))
            streams.out << printable(*hooks_dir) << ": " << printable(line) << "\n";
        return exit_ok;
    }
    if (parsed.positionals.empty() && !option(parsed, "--all-under"))
        throw usage_error("uninstall needs a repository, --all-under DIR or --hooks-dir DIR");
    int status = exit_ok;
    const auto repos = repositories_to_act_on(streams, parsed, status);
    const auto rerun = [](const std::string& repo) {
        return std::vector<std::string>{"uninstall", repo};
    };
    return act_on_repositories(streams, repos, status, rerun, uninstall_from);
}

int cmd_check(const io& streams, const parsed_args& parsed) {
    const auto format = option(parsed, "--format").value_or("text");
    if (format != "text" && format != "json")
        throw usage_error("--format is text or json");
    const auto updates = parsed.positionals.empty() ? parse_updates(streams.in)
                                                    : updates_from_args(parsed.positionals);
    const auto repo_path = option(parsed, "--repo").value_or(".");
    act_as_owner(streams, repo_path, false);
    const auto repo = open_repository_at(repo_path, true);
    verdict result;
    try {
        auto explicit_policy = option(parsed, "--policy");
        if (!explicit_policy)
            explicit_policy = streams.env("TRUNKGATE_POLICY");
        const auto rules_policy =
            load_policy(find_policy(explicit_policy, config_string(repo.get(), "trunkgate.policy"),
                                    git_dir(repo.get()),
                                    server_policy_path(streams.env("TRUNKGATE_SYSTEM_POLICY")))
                            .path);
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
int lint_repository_policy(const io& streams, const std::string& repo_path) {
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

int cmd_policy(const io& streams, const parsed_args& parsed) {
    const auto& args = parsed.positionals;
    const auto repo = option(parsed, "--repo");
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

int cmd_rules(const io& streams) {
    const auto line = [&](std::string_view id, std::string_view summary) {
        streams.out << id << std::string(18 - std::min<std::size_t>(id.size(), 17), ' ') << summary
                    << "\n";
    };
    for (const auto& entry : rule_table())
        line(entry.id, entry.summary);
    for (const auto& entry : commit_rule_table())
        line(entry.id, entry.summary);
    line("bypass-denied",
         "-o trunkgate.bypass from someone outside [bypass] identities, or without a reason");
    line("policy-error", "no policy, or a policy that does not load");
    return exit_ok;
}

// A repository's policy and spool, for the event commands.
struct repository_spool {
    std::string path;
    policy rules_policy;
    std::optional<spool> queue;
};

// A repository's policy, and its spool when it has events configured or queued (nullopt otherwise).
repository_spool open_spool(const std::string& path, const env_lookup& env,
                            bool only_if_used = false) {
    const auto repo = open_repository_at(path, true);
    const auto dir = git_dir(repo.get());
    repository_spool opened{
        path,
        load_policy(locate_policy(env("TRUNKGATE_POLICY"),
                                  config_string(repo.get(), "trunkgate.policy"), dir)),
        std::nullopt};
    const auto spool_dir = spool_dir_for(opened.rules_policy, dir);
    struct stat info {};
    if (only_if_used && opened.rules_policy.events.endpoints.empty() &&
        ::stat(spool_dir.c_str(), &info) != 0)
        return opened;
    opened.queue.emplace(spool_dir);
    return opened;
}

bool is_git_dir(const std::string& path) {
    struct stat info {};
    return ::stat((path + "/HEAD").c_str(), &info) == 0 &&
           ::stat((path + "/objects").c_str(), &info) == 0 && S_ISDIR(info.st_mode) &&
           ::stat((path + "/refs").c_str(), &info) == 0;
}

// Repositories below `root` (bare ones, and the .git of work trees), not descending into them.
void find_repositories(const std::string& root, int depth, std::vector<std::string>& found) {
    if (is_git_dir(root)) {
        found.push_back(root);
        return;
    }
    if (depth == 0)
        return;
    DIR* dir = ::opendir(root.c_str());
    if (!dir)
        return;
    std::vector<std::string> children;
    while (const dirent* item = ::readdir(dir))
        if (item->d_type == DT_DIR && std::string_view(item->d_name) != "." &&
            std::string_view(item->d_name) != "..")
            children.push_back(root + "/" + item->d_name);
    ::closedir(dir);
    std::sort(children.begin(), children.end());
    for (const auto& child : children)
        find_repositories(child, depth - 1, found);
}

// Delivers what is due in one repository's spool; its exit status (docs/cli.md).
int deliver_repository(const io& streams, const std::string& path, bool discovered,
                       http_client& client) {
    int status = exit_ok;
    try {
        // Below --all-under, a repository without trunkgate or without events is not ours to
        // touch: no spool is created and nothing is reported.
        auto opened = open_spool(path, streams.env, discovered);
        if (!opened.queue)
            return exit_ok;
        // Pushes whose hook died before it queued them: queued now, or reported as lost.
        for (const auto& line : opened.queue->recover_staged()) {
            streams.out << printable(path) << ": " << printable(line) << "\n";
            if (line.rfind("push ", 0) == 0)
                status = std::max<int>(status, exit_rejected);
        }
        delivery_options options;
        options.now = static_cast<std::int64_t>(std::time(nullptr));
        options.max_age_hours = opened.rules_policy.events.max_age_hours;
        const auto report = deliver_due(*opened.queue, client, streams.env, options);
        for (const auto& line : report.lines)
            streams.out << printable(path) << ": " << printable(line) << "\n";
        streams.out << printable(path) << ": " << report.delivered << " delivered, "
                    << report.retrying << " retrying, " << report.failed << " failed, "
                    << report.dead << " dead, " << report.busy << " busy, " << report.unreadable
                    << " unreadable\n";
        // Anything waiting for a retry, failed, given up on or unreadable is worth a look (an
        // entry another run is sending right now is that run's business).
        const auto left = opened.queue->list("queue").entries;
        const bool unresolved =
            std::any_of(left.begin(), left.end(), [&](const spool_entry& entry) {
                return entry.state == "failed" ||
                       (entry.attempts > 0 && entry.next_try > options.now);
            });
        if (report.dead || report.unreadable || unresolved)
            status = std::max<int>(status, exit_rejected);
    } catch (const missing_policy_error& e) {
        if (discovered)
            return exit_ok;
        streams.err << "trunkgate: " << printable(path) << ": " << e.what() << "\n";
        return exit_error;
    } catch (const policy_error& e) {
        streams.err << "trunkgate: " << printable(path) << ": " << e.what() << "\n";
        return exit_error;
    } catch (const internal_error& e) {
        // A repository libgit2 cannot read (a damaged config), or a spool that cannot be listed
        // or written, does not stop the others.
        streams.err << "trunkgate: " << printable(path) << ": error: " << printable(e.what())
                    << "\n";
        return exit_error;
    } catch (const input_error& e) {
        streams.err << "trunkgate: " << e.what() << "\n";
        return exit_usage;
    }
    return status;
}

// Whether trunkgate was ever set up in the repository at `git_dir`: its policy or its state.
bool has_trunkgate(const std::string& git_dir) {
    struct stat info {};
    return ::stat((git_dir + "trunkgate.toml").c_str(), &info) == 0 ||
           ::stat((git_dir + "trunkgate").c_str(), &info) == 0;
}

int cmd_deliver(const io& streams, const parsed_args& parsed) {
    const auto named = option_values(parsed, "--repo");
    std::vector<std::string> found;
    for (const auto& root : option_values(parsed, "--all-under"))
        find_repositories(root, 8, found);
    std::vector<std::string> paths = named;
    paths.insert(paths.end(), found.begin(), found.end());
    if (paths.empty() && option_values(parsed, "--all-under").empty())
        paths.emplace_back(".");
    const auto decisions = decide_owners(paths, true, [](const std::string& path) {
        return std::vector<std::string>{"deliver", "--repo", path};
    });
    const auto client = make_curl_client();
    int status = exit_ok;
    for (std::size_t i = 0; i < paths.size(); ++i) {
        const auto& path = paths[i];
        const bool discovered = i >= named.size() && i < named.size() + found.size();
        const auto& decision = decisions[i];
        // Below --all-under, another user's repository that never had trunkgate is none of
        // ours, as one without a policy is; one that has is refused (exit 2), never skipped.
        if (discovered && !decision.refusal.empty() && !has_trunkgate(decision.git_dir))
            continue;
        const int served = serve_as_owner(streams, decision, [&](const io& out) {
            if (!decision.become)
                return deliver_repository(out, path, discovered, *client);
            const auto own = make_curl_client(); // a child acting as the owner: its own
            return deliver_repository(out, path, discovered, *own);
        });
        // A --repo that is no repository stops the run, as a usage error does.
        if (served == exit_usage && decision.refusal.empty() && !discovered)
            return exit_usage;
        status = std::max(status, served);
    }
    return status;
}

std::string format_time(std::int64_t time) {
    return time ? iso8601(time, 0) : "";
}

int cmd_events(const io& streams, const parsed_args& parsed) {
    // Listing writes too: it creates the spool and queues what a dead hook had staged.
    const auto path = option(parsed, "--repo").value_or(".");
    act_as_owner(streams, path, true);
    const auto opened = open_spool(path, streams.env);
    if (!parsed.positionals.empty()) {
        if (parsed.positionals.size() != 2 || parsed.positionals[0] != "redeliver")
            throw usage_error("usage: trunkgate events redeliver [--repo DIR] ID");
        const auto& id = parsed.positionals[1];
        bool requeued = false;
        try {
            requeued = opened.queue->requeue(id, static_cast<std::int64_t>(std::time(nullptr)));
        } catch (const entry_error& e) {
            streams.err << "trunkgate: error: event " << printable(id)
                        << " cannot be read: " << printable(e.what()) << "\n";
            return exit_error;
        }
        if (!requeued) {
            streams.err << "trunkgate: no event " << printable(id) << " in " << opened.queue->dir()
                        << "\n";
            return exit_usage;
        }
        streams.out << "queued " << id << " again; `trunkgate deliver` sends it\n";
        return exit_ok;
    }
    const auto format = option(parsed, "--format").value_or("text");
    if (format != "text" && format != "json")
        throw usage_error("--format is text or json");
    for (const auto& line : opened.queue->recover_staged())
        streams.err << "trunkgate: " << printable(line) << "\n";
    const auto abandoned = opened.queue->abandoned();
    auto queued = opened.queue->list("queue");
    auto dead = opened.queue->list("dead");
    const auto delivered = opened.queue->list("delivered");
    std::vector<std::pair<std::string, spool_entry>> listed; // area, entry
    for (auto& entry : queued.entries)
        listed.emplace_back("queue", std::move(entry));
    for (auto& entry : dead.entries) {
        entry.state = "dead";
        listed.emplace_back("dead", std::move(entry));
    }
    // Whatever cannot be read is listed too, wherever it is: an event must never go unseen.
    std::vector<unreadable_entry> unreadable = queued.unreadable;
    unreadable.insert(unreadable.end(), dead.unreadable.begin(), dead.unreadable.end());
    unreadable.insert(unreadable.end(), delivered.unreadable.begin(), delivered.unreadable.end());
    if (format == "json") {
        auto events = nlohmann::ordered_json::array();
        for (const auto& [area, entry] : listed)
            events.push_back(
                {{"id", entry.id},
                 {"state", entry.state},
                 {"area", area},
                 {"ref", entry.ref},
                 {"endpoint", redact_url(entry.url)},
                 {"attempts", entry.attempts},
                 {"created_at", format_time(entry.created_at)},
                 {"next_try", entry.state == "queued" ? format_time(entry.next_try) : ""},
                 {"last_status", entry.last_status},
                 {"last_error", entry.last_error}});
        for (const auto& bad : unreadable)
            events.push_back({{"id", bad.id},
                              {"state", "unreadable"},
                              {"area", bad.area},
                              {"ref", ""},
                              {"endpoint", ""},
                              {"attempts", 0},
                              {"created_at", ""},
                              {"next_try", ""},
                              {"last_status", 0},
                              {"last_error", bad.reason}});
        auto interrupted = nlohmann::ordered_json::array();
        for (const auto& [push_id, entries] : abandoned)
            interrupted.push_back({{"push", push_id}, {"staged", entries}});
        streams.out << nlohmann::ordered_json{{"events", events},
                                              {"delivered", delivered.entries.size()},
                                              {"abandoned", interrupted}}
                           .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                    << "\n";
        return exit_ok;
    }
    for (const auto& [area, entry] : listed)
        streams.out << entry.id << "  " << entry.state << "  attempts " << entry.attempts << "  "
                    << printable(entry.ref) << "  " << printable(redact_url(entry.url))
                    << (entry.state == "queued" ? "  next " + format_time(entry.next_try) : "")
                    << (entry.last_error.empty() ? ""
                                                 : "  last error: " + printable(entry.last_error))
                    << "\n";
    for (const auto& bad : unreadable)
        streams.out << printable(bad.id) << "  unreadable  " << bad.area << "/" << printable(bad.id)
                    << ".json  " << printable(bad.reason) << "\n";
    for (const auto& [push_id, entries] : abandoned)
        streams.out << "push " << push_id << "  abandoned  " << entries
                    << " deliveries staged by a hook that was stopped before it queued them ("
                    << opened.queue->dir() << "/abandoned/" << push_id << ")\n";
    streams.out << listed.size() << " waiting, failed or dead; "
                << (unreadable.empty() ? std::string()
                                       : std::to_string(unreadable.size()) + " unreadable; ")
                << delivered.entries.size() << " delivered (the most recent kept)"
                << (abandoned.empty()
                        ? std::string()
                        : "; " + std::to_string(abandoned.size()) + " interrupted pushes abandoned")
                << "\n";
    return exit_ok;
}

// The repository for the gate commands, and its policy when one is found (defaults otherwise:
// a CI clone usually has no policy file).
struct gate_repository {
    repository_ptr repo;
    policy rules_policy;
};

gate_repository open_gate(const io& streams, const parsed_args& parsed, bool writes) {
    const auto& env = streams.env;
    const auto path = option(parsed, "--repo").value_or(".");
    act_as_owner(streams, path, writes);
    gate_repository opened{open_repository_at(path, true), policy{}};
    try {
        opened.rules_policy = load_policy(locate_policy(
            env("TRUNKGATE_POLICY"), config_string(opened.repo.get(), "trunkgate.policy"),
            git_dir(opened.repo.get())));
    } catch (const missing_policy_error&) {
        // None at all is fine here (a CI clone); one that exists but does not load is an error.
    }
    return opened;
}

git_oid resolve_commit(git_repository* repo, const std::string& spec) {
    git_object* raw = nullptr;
    if (git_revparse_single(&raw, repo, spec.c_str()) != 0) {
        git_error_clear();
        throw usage_error("'" + printable(spec) + "' names no object in this repository");
    }
    object_ptr object(raw);
    git_object* peeled = nullptr;
    if (git_object_peel(&peeled, object.get(), GIT_OBJECT_COMMIT) != 0) {
        git_error_clear();
        throw usage_error("'" + printable(spec) + "' is not a commit");
    }
    object_ptr commit(peeled);
    return *git_object_id(commit.get());
}

std::string now_text() {
    return iso8601(static_cast<std::int64_t>(std::time(nullptr)), 0);
}

void print_statuses(std::ostream& out, const std::string& sha, const status_map& statuses) {
    for (const auto& [context, status] : statuses)
        out << sha.substr(0, 12) << "  " << printable(context) << "  " << status.state
            << (status.description.empty() ? "" : "  " + printable(status.description))
            << (status.url.empty() ? "" : "  " + printable(status.url)) << "  ("
            << printable(status.by) << ", " << printable(status.updated_at) << ")\n";
}

// How `status get` and `status list` show a note that does not parse.
std::string damaged_note_line(const std::string& sha, const std::string& problem) {
    return sha.substr(0, 12) + "  damaged note: " + printable(problem);
}

int cmd_status(const io& streams, const parsed_args& parsed) {
    const auto& args = parsed.positionals;
    if (args.empty())
        throw usage_error("usage: trunkgate status set|get|list ... (see trunkgate status --help)");
    auto opened = open_gate(streams, parsed, args[0] == "set");
    const auto& notes_ref = opened.rules_policy.checks.notes_ref;
    git_repository* repo = opened.repo.get();
    if (args[0] == "set") {
        if (args.size() != 4)
            throw usage_error("usage: trunkgate status set [--repo DIR] SHA CONTEXT STATE [--url "
                              "U] [--description D]");
        if (!is_status_state(args[3]))
            throw usage_error("STATE is pending, success, failure or error, not '" +
                              printable(args[3]) + "'");
        if (args[2].empty())
            throw usage_error("CONTEXT must not be empty");
        const auto commit = resolve_commit(repo, args[1]);
        commit_status status{args[3], option(parsed, "--description").value_or(""),
                             option(parsed, "--url").value_or(""), now_text(),
                             resolve_identity(opened.rules_policy.identity_env, streams.env)};
        if (const auto damage = record_status(repo, notes_ref, commit, args[2], status))
            streams.err << "trunkgate: replaced the damaged status note of "
                        << to_hex(commit).substr(0, 12) << " on " << notes_ref << " ("
                        << printable(*damage) << "); its other statuses were lost\n";
        streams.out << to_hex(commit).substr(0, 12) << "  " << printable(args[2]) << "  " << args[3]
                    << "\n";
        return exit_ok;
    }
    if (args[0] == "get") {
        if (args.size() != 2)
            throw usage_error("usage: trunkgate status get [--repo DIR] SHA [--format text|json]");
        const auto format = option(parsed, "--format").value_or("text");
        if (format != "text" && format != "json")
            throw usage_error("--format is text or json");
        const auto commit = resolve_commit(repo, args[1]);
        status_map statuses;
        try {
            statuses = read_statuses(repo, notes_ref, commit);
        } catch (const input_error& e) {
            // Shown, not thrown: the note is what is broken, not the command line (exit 2).
            (format == "json" ? streams.err : streams.out)
                << damaged_note_line(to_hex(commit), e.what()) << "  (on " << notes_ref
                << "; trunkgate status set replaces it)\n";
            return exit_rejected;
        }
        if (format == "json")
            streams.out << status_note_json(statuses);
        else if (statuses.empty())
            streams.out << "no statuses for " << to_hex(commit).substr(0, 12) << "\n";
        else
            print_statuses(streams.out, to_hex(commit), statuses);
        return exit_ok;
    }
    if (args[0] == "list" && args.size() == 1) {
        for_each_note(repo, notes_ref, [&](const git_oid& commit, const std::string& note) {
            try {
                print_statuses(streams.out, to_hex(commit), parse_status_note(note));
            } catch (const input_error& e) {
                streams.out << damaged_note_line(to_hex(commit), e.what()) << "\n";
            }
        });
        return exit_ok;
    }
    throw usage_error("usage: trunkgate status set|get|list ... (see trunkgate status --help)");
}

int cmd_approve(const io& streams, const parsed_args& parsed) {
    if (parsed.positionals.size() != 1)
        throw usage_error("usage: trunkgate approve [--repo DIR] SHA [--reject] [--comment TEXT]");
    auto opened = open_gate(streams, parsed, true);
    const auto identity = resolve_identity(opened.rules_policy.identity_env, streams.env);
    if (identity.empty())
        throw usage_error("no identity: set TRUNKGATE_USER (or one of [identity] env)");
    const auto commit = resolve_commit(opened.repo.get(), parsed.positionals[0]);
    approval decision{identity, !option(parsed, "--reject").has_value(),
                      static_cast<std::int64_t>(std::time(nullptr)),
                      option(parsed, "--comment").value_or("")};
    if (const auto damage = record_approval(opened.repo.get(), commit, decision))
        streams.err << "trunkgate: replaced the damaged approvals note of "
                    << to_hex(commit).substr(0, 12) << " on " << approvals_ref << " ("
                    << printable(*damage) << "); decisions it held were lost\n";
    streams.out << (decision.approved ? "approved " : "rejected ") << to_hex(commit).substr(0, 12)
                << " as " << printable(identity) << "\n";
    return exit_ok;
}

// YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[Z] (UTC) or Unix seconds.
std::int64_t parse_since(const std::string& text) {
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos)
        return std::stoll(text);
    std::tm parts{};
    const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &parts);
    if (!end) {
        parts = std::tm{};
        end = strptime(text.c_str(), "%Y-%m-%d", &parts);
    }
    // Accept what `trunkgate audit` prints (+00:00) as well as Z.
    if (!end || (*end != '\0' && std::string_view(end) != "Z" && std::string_view(end) != "+00:00"))
        throw usage_error("--since takes YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or Unix seconds");
    return static_cast<std::int64_t>(timegm(&parts));
}

// `REF OLD..NEW` with 7 digits each, as `audit` prints a ref.
std::string audit_ref_text(const nlohmann::json& ref) {
    return printable(ref.value("ref", "")) + " " + ref.value("old", "").substr(0, 7) + ".." +
           ref.value("new", "").substr(0, 7);
}

bool has_landed(const std::vector<ref_update>& landed, const nlohmann::json& ref) {
    return std::any_of(landed.begin(), landed.end(), [&](const ref_update& update) {
        return update.ref == ref.value("ref", "") && update.new_hex == ref.value("new", "");
    });
}

void print_audit_entry(std::ostream& out, const audit_entry& entry) {
    const auto record = nlohmann::json::parse(entry.record);
    out << record.value("time", "") << "  " << printable(record.value("identity", "")) << "  ";
    if (!entry.is_decision) {
        out << "landed";
        for (const auto& ref : record["refs"])
            out << "  " << audit_ref_text(ref);
        out << "  (no decision recorded for this push)\n";
        return;
    }
    const auto decision = record.value("decision", "");
    // Whether each ref landed is known for records written since landed records exist, and
    // worth saying for a push the hook let through.
    const bool judged_landing = entry.landed && decision != "reject";
    std::size_t landed_refs = 0;
    if (judged_landing)
        for (const auto& ref : record["refs"])
            landed_refs += has_landed(*entry.landed, ref);
    const bool none = judged_landing && landed_refs == 0;
    const bool partly = judged_landing && landed_refs > 0 && landed_refs < record["refs"].size();
    out << decision << (none ? ", not landed" : partly ? ", partly landed" : "");
    for (const auto& ref : record["refs"])
        out << "  " << audit_ref_text(ref)
            << (partly && !has_landed(*entry.landed, ref) ? " (not landed)" : "");
    if (!record["findings"].empty())
        out << "  (" << count_noun(record["findings"].size(), "finding", "findings") << ")";
    if (record["bypass_reason"].is_string())
        out << "  bypass: \"" << printable(record["bypass_reason"].get<std::string>()) << "\"";
    out << "\n";
}

int cmd_audit(const io& streams, const parsed_args& parsed) {
    const auto path = option(parsed, "--repo").value_or(".");
    act_as_owner(streams, path, false);
    const auto repo = open_repository_at(path, true);
    const auto format = option(parsed, "--format").value_or("text");
    if (format != "text" && format != "json")
        throw usage_error("--format is text or json");
    const auto since = option(parsed, "--since") ? parse_since(*option(parsed, "--since")) : 0;
    // The whole log: a decision before --since may still be what a later landed record belongs to.
    const auto log = read_audit(git_dir(repo.get()), 0);
    for (const auto& damaged : log.damaged)
        streams.err << "trunkgate: audit.log line " << damaged.line_number
                    << " is damaged and was skipped: " << printable(damaged.problem) << "\n";
    const auto entries = pair_landed(log.records, since);
    if (format == "json") {
        for (const auto& entry : entries) {
            if (!entry.is_decision) {
                streams.out << entry.record << "\n";
                continue;
            }
            auto record = nlohmann::ordered_json::parse(entry.record);
            auto landed = nlohmann::ordered_json(nullptr);
            if (entry.landed) {
                landed = nlohmann::ordered_json::array();
                for (const auto& update : *entry.landed)
                    landed.push_back(
                        {{"ref", update.ref}, {"old", update.old_hex}, {"new", update.new_hex}});
            }
            record["landed"] = std::move(landed);
            streams.out << record.dump(-1, ' ', false,
                                       nlohmann::ordered_json::error_handler_t::replace)
                        << "\n";
        }
        return exit_ok;
    }
    for (const auto& entry : entries)
        print_audit_entry(streams.out, entry);
    return exit_ok;
}

std::string doctor_line(const doctor_report& report, const doctor_problem& problem) {
    return printable(report.repository) + ": [" + problem.id + "] " +
           (problem.note ? "note: " : "") + printable(problem.message) +
           (problem.fix.empty() ? "" : "; fix: " + printable(problem.fix));
}

int cmd_doctor(const io& streams, const parsed_args& parsed) {
    const auto format = option(parsed, "--format").value_or("text");
    if (format != "text" && format != "json")
        throw usage_error("--format is text or json");
    doctor_options options;
    options.program_dir = executable_dir();
    options.templates_dir = default_templates_dir(options.program_dir);
    options.now = static_cast<std::int64_t>(std::time(nullptr));
    options.env = streams.env;
    if (const auto minutes = option(parsed, "--backlog-minutes")) {
        if (minutes->empty() || minutes->size() > 9 ||
            minutes->find_first_not_of("0123456789") != std::string::npos ||
            std::stoll(*minutes) == 0)
            throw usage_error("--backlog-minutes takes a whole number of minutes, at least 1");
        options.backlog_seconds = std::stoll(*minutes) * 60;
    }
    // The seam for tests (and for hosts that keep units elsewhere): colon-separated.
    if (const auto paths = streams.env("TRUNKGATE_DOCTOR_SCHEDULE_PATHS")) {
        std::size_t start = 0;
        for (auto colon = paths->find(':');; colon = paths->find(':', start)) {
            const auto item =
                paths->substr(start, colon == std::string::npos ? colon : colon - start);
            if (!item.empty())
                options.schedule_paths.push_back(item);
            if (colon == std::string::npos)
                break;
            start = colon + 1;
        }
    } else {
        options.schedule_paths = default_schedule_paths();
    }
    std::vector<std::pair<std::string, bool>> repos; // path, found by --all-under
    for (const auto& path : parsed.positionals)
        repos.emplace_back(path, false);
    const auto roots = option_values(parsed, "--all-under");
    for (const auto& root : roots) {
        struct stat info {};
        if (::stat(root.c_str(), &info) != 0 || !S_ISDIR(info.st_mode))
            throw usage_error("--all-under " + printable(root) + ": not a directory");
        std::vector<std::string> found;
        find_repositories(root, 8, found);
        for (auto& path : found)
            repos.emplace_back(std::move(path), true);
    }
    if (repos.empty() && roots.empty())
        repos.emplace_back(".", false);
    std::vector<doctor_report> reports;
    for (const auto& [path, discovered] : repos)
        if (auto report = diagnose(path, options, discovered))
            reports.push_back(std::move(*report));
    const bool healthy = std::all_of(reports.begin(), reports.end(),
                                     [](const doctor_report& report) { return report.healthy(); });
    if (format == "json") {
        using json = nlohmann::ordered_json;
        auto listed = json::array();
        for (const auto& report : reports) {
            auto problems = json::array(), notes = json::array();
            for (const auto& problem : report.problems)
                (problem.note ? notes : problems)
                    .push_back({{"id", problem.id},
                                {"message", problem.message},
                                {"fix", problem.fix},
                                {"path", problem.path}});
            listed.push_back({{"repository", report.repository},
                              {"git_dir", report.git_dir},
                              {"owner", report.owner},
                              {"healthy", report.healthy()},
                              {"problems", std::move(problems)},
                              {"notes", std::move(notes)}});
        }
        streams.out << json{{"healthy", healthy}, {"repositories", std::move(listed)}}.dump(
                           -1, ' ', false, json::error_handler_t::replace)
                    << "\n";
    } else {
        for (const auto& report : reports) {
            for (const auto& problem : report.problems)
                streams.out << doctor_line(report, problem) << "\n";
            if (report.healthy())
                streams.out << printable(report.repository) << ": ok\n";
        }
        if (reports.empty())
            streams.err << "trunkgate: no repository with trunkgate found under "
                        << printable(join(roots, ", ")) << "\n";
    }
    return healthy ? exit_ok : exit_rejected;
}

const std::map<std::string, std::map<std::string, bool, std::less<>>, std::less<>> command_options{
    {"status", {{"--repo", true}, {"--url", true}, {"--description", true}, {"--format", true}}},
    {"approve", {{"--repo", true}, {"--reject", false}, {"--comment", true}}},
    {"audit", {{"--repo", true}, {"--since", true}, {"--format", true}}},
    {"deliver", {{"--repo", true}, {"--all-under", true}}},
    {"events", {{"--repo", true}, {"--format", true}}},
    {"doctor", {{"--all-under", true}, {"--format", true}, {"--backlog-minutes", true}}},
    {"install",
     {{"--policy", true}, {"--force", false}, {"--all-under", true}, {"--hooks-dir", true}}},
    {"uninstall", {{"--all-under", true}, {"--hooks-dir", true}}},
    {"check", {{"--repo", true}, {"--policy", true}, {"--format", true}, {"--as", true}}},
    {"policy", {{"--repo", true}}},
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
        streams.out << "trunkgate " << trunkgate_version() << " (libgit2 " << LIBGIT2_VERSION
                    << ")\n";
        return exit_ok;
    }
    if (command == "install")
        return cmd_install(streams, parsed);
    if (command == "uninstall")
        return cmd_uninstall(streams, parsed);
    if (command == "check")
        return cmd_check(streams, parsed);
    if (command == "policy")
        return cmd_policy(streams, parsed);
    if (command == "deliver")
        return cmd_deliver(streams, parsed);
    if (command == "status")
        return cmd_status(streams, parsed);
    if (command == "approve")
        return cmd_approve(streams, parsed);
    if (command == "audit")
        return cmd_audit(streams, parsed);
    if (command == "events")
        return cmd_events(streams, parsed);
    if (command == "doctor")
        return cmd_doctor(streams, parsed);
    return cmd_rules(streams);
}

} // namespace

int run_cli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
            std::ostream& err, const env_lookup& env) {
    const io streams{in, out, err, env, args};
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
