// trunkgate-pre-receive: git's pre-receive hook. Reads the update lines, judges them against the
// policy and prints the verdict for the pusher (git relays it as `remote:` lines). Fails closed:
// any error rejects the push with one line. Exit 0 accepts, 1 rejects; 2 is a usage error.
#include <ctime>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>

#include "trunkgate/audit.hpp"
#include "trunkgate/cli.hpp"
#include "trunkgate/evaluate.hpp"
#include "trunkgate/feedback.hpp"
#include "trunkgate/git.hpp"
#include "trunkgate/identity.hpp"
#include "trunkgate/process.hpp"

namespace {

using namespace trunkgate;

// The policy's path as the pusher sees it: relative to $GIT_DIR when it lives there.
std::string display_name(const std::string& path, const std::string& dir) {
    return path.rfind(dir, 0) == 0 ? path.substr(dir.size()) : path;
}

// Judges the push and records the decision in the audit log (a decision that cannot be recorded
// is not taken: the push is rejected as an internal error).
verdict judge_push(git_repository* repo, const std::string& input, const env_lookup& env,
                   std::string& contact) {
    const auto dir = git_dir(repo);
    std::istringstream lines(input);
    const auto updates = parse_updates(lines);
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    verdict result;
    std::string identity;
    try {
        auto rules_policy = load_policy(
            locate_policy(env("TRUNKGATE_POLICY"), config_string(repo, "trunkgate.policy"), dir));
        contact = rules_policy.contact;
        identity = resolve_identity(rules_policy.identity_env, env);
        push_context context{identity, read_push_options(env), now};
        result = evaluate(repo, rules_policy, updates, context);
    } catch (const policy_error& e) {
        result = policy_failure(e);
        identity = resolve_identity(policy{}.identity_env, env);
    }
    result.policy_name = display_name(result.policy_name, dir);
    append_audit(dir, audit_line(now, identity, updates, result));
    return result;
}

} // namespace

int main(int argc, char** argv) {
    std::optional<std::string> chained_hook;
    try {
        chained_hook = parse_chain_argument({argv + 1, argv + argc});
    } catch (const input_error&) {
        std::cerr << "usage: trunkgate-pre-receive [--chain HOOK] < update lines\n";
        return exit_usage;
    }
    const std::string input(std::istreambuf_iterator<char>(std::cin), {});
    std::string contact;
    try {
        libgit2_guard libgit2;
        const auto repo = open_repository_from_env();
        const auto result = judge_push(repo.get(), input, process_environment(), contact);
        std::cerr << render_text(result);
        if (result.rejected())
            return exit_rejected;
    } catch (const input_error& e) {
        std::cerr << "trunkgate: push rejected: cannot read git's update lines: " << e.what()
                  << "\n";
        return exit_rejected;
    } catch (const std::exception& e) {
        std::cerr << render_internal_error(e.what(), contact);
        return exit_rejected;
    }
    if (chained_hook && is_executable_file(*chained_hook)) {
        try {
            return run_with_input({*chained_hook}, input) == 0 ? exit_ok : exit_rejected;
        } catch (const std::exception& e) {
            std::cerr << render_internal_error(e.what(), contact);
            return exit_rejected;
        }
    }
    return exit_ok;
}
