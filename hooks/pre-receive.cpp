// trunkgate-pre-receive: git's pre-receive hook. Reads the update lines, judges them against the
// policy and prints the verdict for the pusher (git relays it as `remote:` lines). Fails closed:
// any error rejects the push with one line. Exit 0 accepts, 1 rejects; 2 is a usage error.
#include <ctime>
#include <iostream>
#include <sstream>
#include <string>
#include <syslog.h>

#include "trunkgate/gate/audit.hpp"
#include "trunkgate/gate/evaluate.hpp"
#include "trunkgate/gate/feedback.hpp"
#include "trunkgate/gate/push_id.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/history/policy_lookup.hpp"
#include "trunkgate/hook/hook_input.hpp"
#include "trunkgate/util/exit_code.hpp"
#include "trunkgate/util/identity.hpp"
#include "trunkgate/util/process.hpp"
#include "trunkgate/util/system_log.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace {

using namespace trunkgate;

// The policy's path as the pusher sees it: relative to $GIT_DIR when it lives there.
std::string display_name(const std::string& path, const std::string& dir) {
    return path.rfind(dir, 0) == 0 ? path.substr(dir.size()) : path;
}

// What is known of a push so far. A push that fails before it is judged is audited with it.
struct push_record {
    std::string identity;
    std::vector<ref_update> updates;
    std::string contact;
};

// Judges the push, filling `record` as it learns who pushed what. Throws input_error for
// malformed update lines, anything else for internal errors.
verdict judge_push(git_repository* repo, const std::string& dir, const std::string& input,
                   const env_lookup& env, std::int64_t now, push_record& record) {
    record.identity = resolve_identity(policy{}.identity_env, env);
    std::istringstream lines(input);
    record.updates = parse_updates(lines);
    verdict result;
    try {
        auto rules_policy = load_repository_policy(repo, env);
        record.contact = rules_policy.contact;
        record.identity = resolve_identity(rules_policy.identity_env, env);
        push_context context{record.identity, read_push_options(env), now};
        result = evaluate(repo, rules_policy, record.updates, context);
    } catch (const policy_error& e) {
        result = policy_failure(e);
    }
    result.policy_name = display_name(result.policy_name, dir);
    return result;
}

// A rejection that no rule made (update lines git would never send, an internal error), as the
// audit log records it.
verdict failure_verdict(const std::string& rule, const std::string& message) {
    verdict result;
    finding failure;
    failure.rule = rule;
    failure.severity = level::block;
    failure.message = message;
    result.found.push_back(std::move(failure));
    return result;
}

// Judges, records the decision in the audit log, then tells the pusher. A decision that cannot be
// recorded is not taken: the push is rejected, and the server's log says why.
int judge_and_record(git_repository* repo, const std::string& input) {
    const auto dir = git_dir(repo);
    // A clock set wrong (TRUNKGATE_NOW) rejects the push; the record takes the system's time.
    auto now = static_cast<std::int64_t>(std::time(nullptr));
    std::optional<std::string> clock_problem;
    try {
        now = current_time();
    } catch (const input_error& e) {
        clock_problem = e.what();
    }
    push_record record;
    verdict result;
    std::string for_pusher;
    try {
        if (clock_problem)
            throw internal_error(*clock_problem);
        result = judge_push(repo, dir, input, process_environment(), now, record);
        for_pusher = render_text(result);
    } catch (const input_error& e) {
        const std::string problem = std::string("cannot read git's update lines: ") + e.what();
        result = failure_verdict("malformed-input", problem);
        for_pusher = "trunkgate: push rejected: " + problem + "\n";
    } catch (const std::exception& e) {
        result = failure_verdict("internal-error", e.what());
        for_pusher = render_internal_error(e.what(), record.contact);
    }
    try {
        append_audit(dir,
                     audit_line(now, current_push_id(), record.identity, record.updates, result));
    } catch (const std::exception& e) {
        system_log(LOG_ERR,
                   "pre-receive in " + dir + ": push by '" + record.identity +
                       "' rejected because its decision could not be audited: " + e.what());
        if (result.rejected())
            std::cerr << for_pusher;
        std::cerr << render_internal_error(std::string("the audit log cannot be written, so no "
                                                       "decision is taken: ") +
                                               e.what(),
                                           record.contact);
        return exit_rejected;
    }
    std::cerr << for_pusher;
    return result.rejected() ? exit_rejected : exit_ok;
}

} // namespace

int main(int argc, char** argv) {
    const auto start = read_hook_input("trunkgate-pre-receive", {argv + 1, argv + argc}, std::cin,
                                       std::cout, std::cerr);
    if (start.exit_now)
        return *start.exit_now;
    const auto& input = start.update_lines;
    std::vector<std::string> chained;
    try {
        libgit2_guard libgit2;
        const auto repo = open_repository_from_env();
        if (const int status = judge_and_record(repo.get(), input); status != exit_ok)
            return status;
        chained = chained_hooks(start.chain, git_dir(repo.get()), "pre-receive");
    } catch (const std::exception& e) {
        // No repository to audit in: only the server's log can keep the record.
        system_log(LOG_ERR,
                   std::string("pre-receive: push rejected, no repository to audit it in: ") +
                       e.what());
        std::cerr << render_internal_error(e.what(), "");
        return exit_rejected;
    }
    // Each chained hook must accept too; the first that refuses rejects the push.
    for (const auto& hook : chained) {
        try {
            if (run_with_input({hook}, input) != 0)
                return exit_rejected;
        } catch (const std::exception& e) {
            std::cerr << render_internal_error(e.what(), "");
            return exit_rejected;
        }
    }
    return exit_ok;
}
