// trunkgate-proc-receive: git's proc-receive hook (git >= 2.29, receive.procReceiveRefs =
// refs/for). A push to refs/for/<branch>[/<topic>] enters the merge queue of <branch>: git
// creates no ref, the pusher sees the queue position (stderr, relayed as `remote:` lines) and
// an honest result line. Fails closed: an error answers `ng` for every ref not yet answered.
// Exit 0 once every ref is answered; 2 for a usage error or a conversation git never holds;
// 3 when no answer could be written.
#include <exception>
#include <iostream>
#include <string>
#include <syslog.h>
#include <vector>

#include "trunkgate/history/git.hpp"
#include "trunkgate/history/policy_lookup.hpp"
#include "trunkgate/hook/hook_input.hpp"
#include "trunkgate/hook/proc_receive.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/exit_code.hpp"
#include "trunkgate/util/identity.hpp"
#include "trunkgate/util/process.hpp"
#include "trunkgate/util/system_log.hpp"
#include "trunkgate/util/text.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace {

using namespace trunkgate;

// Answers every command, in git's order; an internal error refuses the command it struck and
// every one after it.
std::vector<proc_receive_result> answer(const proc_receive_request& request) {
    std::vector<proc_receive_result> results;
    try {
        libgit2_guard libgit2;
        const auto repo = open_repository_from_env();
        const auto dir = git_dir(repo.get());
        const auto env = process_environment();
        const auto rules_policy = load_repository_policy(repo.get(), env);
        const auto pusher = resolve_identity(rules_policy.identity_env, env);
        queue_store store(dir + "trunkgate/queue");
        const auto now = current_time();
        for (const auto& command : request.commands) {
            auto answered = enqueue_pushed(repo.get(), rules_policy, store, command, request.offer,
                                           request.push_options, pusher, now);
            for (const auto& line : answered.lines)
                std::cerr << line << "\n";
            results.push_back(std::move(answered.result));
        }
    } catch (const std::exception& e) {
        const std::string why = printable(e.what());
        system_log(LOG_ERR, "proc-receive: refs/for push refused: " + why);
        std::cerr << "trunkgate: internal error, the change was not queued: " << why << "\n";
        for (auto i = results.size(); i < request.commands.size(); ++i)
            results.push_back({request.commands[i].ref, false, "trunkgate: " + why});
    }
    return results;
}

} // namespace

int main(int argc, char** argv) {
    if (const auto exit_now = read_conversing_hook_arguments(
            "trunkgate-proc-receive", {argv + 1, argv + argc}, std::cout, std::cerr))
        return *exit_now;
    proc_receive_request request;
    try {
        request = read_proc_receive_request(std::cin, std::cout);
    } catch (const std::exception& e) {
        // git could not be understood, so it cannot be answered: it refuses the refs itself.
        std::cerr << "trunkgate: cannot read git's proc-receive request: " << printable(e.what())
                  << "\n";
        return exit_usage;
    }
    try {
        write_proc_receive_report(std::cout, answer(request));
    } catch (const std::exception& e) {
        std::cerr << "trunkgate: cannot answer git: " << printable(e.what()) << "\n";
        return exit_error;
    }
    return exit_ok;
}
