// status and approve: recording and showing CI statuses and approvals of commits.


#include "trunkgate/admin/queue_runner.hpp"
#include "trunkgate/checks/approvals.hpp"
#include "trunkgate/checks/notes.hpp"
#include "trunkgate/checks/status.hpp"
#include "trunkgate/cli/commands.hpp"
#include "trunkgate/cli/repositories.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/history/policy_lookup.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/text.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

namespace {

// The repository for the gate commands, and its policy when one is found (defaults otherwise:
// a CI clone usually has no policy file).
struct gate_repository {
    repository_ptr repo;
    policy rules_policy;
};

gate_repository open_gate(const cli_io& streams, const parsed_args& parsed, bool writes) {
    const auto& env = streams.env;
    const auto path = parsed.option("--repo").value_or(".");
    act_as_owner(streams, path, writes);
    gate_repository opened{open_repository_at(path, true), policy{}};
    try {
        opened.rules_policy = load_repository_policy(opened.repo.get(), env);
    } catch (const missing_policy_error&) {
        // None at all is fine here (a CI clone); one that exists but does not load is an error.
    }
    return opened;
}

std::string now_text() {
    return iso8601(current_time(), 0);
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

} // namespace

int cmd_status(const cli_io& streams, const parsed_args& parsed) {
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
        commit_status status{args[3], parsed.option("--description").value_or(""),
                             parsed.option("--url").value_or(""), now_text(),
                             resolve_identity(opened.rules_policy.identity_env, streams.env)};
        if (const auto damage = record_status(repo, notes_ref, commit, args[2], status))
            streams.err << "trunkgate: replaced the damaged status note of "
                        << to_hex(commit).substr(0, 12) << " on " << notes_ref << " ("
                        << printable(*damage) << "); its other statuses were lost\n";
        streams.out << to_hex(commit).substr(0, 12) << "  " << printable(args[2]) << "  " << args[3]
                    << "\n";
        // A merge queue waiting for this status moves now (runner = "auto").
        const auto problem = start_queue_runner(git_dir(repo), opened.rules_policy, streams.env);
        if (!problem.empty())
            streams.err << "trunkgate: " << printable(problem) << "\n";
        return exit_ok;
    }
    if (args[0] == "get") {
        if (args.size() != 2)
            throw usage_error("usage: trunkgate status get [--repo DIR] SHA [--format text|json]");
        const auto format = parsed.option("--format").value_or("text");
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

int cmd_approve(const cli_io& streams, const parsed_args& parsed) {
    if (parsed.positionals.size() != 1)
        throw usage_error("usage: trunkgate approve [--repo DIR] SHA [--reject] [--comment TEXT]");
    auto opened = open_gate(streams, parsed, true);
    const auto identity = resolve_identity(opened.rules_policy.identity_env, streams.env);
    if (identity.empty())
        throw usage_error("no identity: set TRUNKGATE_USER (or one of [identity] env)");
    const auto commit = resolve_commit(opened.repo.get(), parsed.positionals[0]);
    approval decision{identity, !parsed.option("--reject").has_value(),
                      current_time(),
                      parsed.option("--comment").value_or("")};
    if (const auto damage = record_approval(opened.repo.get(), commit, decision))
        streams.err << "trunkgate: replaced the damaged approvals note of "
                    << to_hex(commit).substr(0, 12) << " on " << approvals_ref << " ("
                    << printable(*damage) << "); decisions it held were lost\n";
    streams.out << (decision.approved ? "approved " : "rejected ") << to_hex(commit).substr(0, 12)
                << " as " << printable(identity) << "\n";
    return exit_ok;
}

} // namespace trunkgate
