// Acting on repositories: as their owner (root becomes it), one at a time or across a fleet.

#include "trunkgate/cli/repositories.hpp"

#include <algorithm>
#include <dirent.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "trunkgate/admin/fleet.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/util/ownership.hpp"
#include "trunkgate/util/process.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

namespace {

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

} // namespace

void act_as_owner(const cli_io& streams, const std::string& path, bool writes) {
    const auto decision = decide_owner(path, true, writes, streams.args);
    if (!decision.refusal.empty())
        throw usage_error(decision.refusal);
    if (decision.become)
        act_as(*decision.become);
}

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

int serve_as_owner(const cli_io& streams, const owner_decision& decision,
                   const std::function<int(const cli_io&)>& serve) {
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
            return serve(cli_io{no_input, out, err, streams.env, streams.args});
        },
        exit_error);
    streams.out << ran.out;
    streams.err << ran.err;
    return ran.status;
}

std::vector<std::string> repositories_to_act_on(const cli_io& streams, const parsed_args& parsed,
                                                int& status) {
    std::vector<std::string> repos = parsed.positionals;
    for (const auto& root : parsed.values("--all-under")) {
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

repository_list named_and_found_repositories(const cli_io& streams, const parsed_args& parsed,
                                             int& status) {
    repository_list list{parsed.values("--repo"), 0};
    const auto roots = parsed.values("--all-under");
    if (list.paths.empty() && roots.empty())
        list.paths.emplace_back(".");
    list.named = list.paths.size();
    for (const auto& root : roots) {
        try {
            const auto below = find_repositories_under(root);
            list.paths.insert(list.paths.end(), below.begin(), below.end());
        } catch (const input_error&) {
            streams.err << "trunkgate: --all-under " << printable(root) << ": not a directory\n";
            status = std::max<int>(status, exit_usage);
        }
    }
    return list;
}

bool has_trunkgate(const std::string& git_dir) {
    struct stat info {};
    return ::stat((git_dir + "trunkgate.toml").c_str(), &info) == 0 ||
           ::stat((git_dir + "trunkgate").c_str(), &info) == 0;
}

int act_on_repositories(const cli_io& streams, const std::vector<std::string>& repos, int status,
                        const std::function<std::vector<std::string>(const std::string&)>& rerun,
                        const std::function<std::vector<std::string>(const std::string&)>& act) {
    const auto decisions = decide_owners(repos, false, rerun);
    for (std::size_t i = 0; i < repos.size(); ++i) {
        const auto& repo = repos[i];
        const int served = serve_as_owner(streams, decisions[i], [&](const cli_io& out) {
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

} // namespace trunkgate
