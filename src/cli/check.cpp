// check: judges ref updates as the pre-receive hook would, without pushing.


#include "trunkgate/cli/commands.hpp"
#include "trunkgate/cli/repositories.hpp"
#include "trunkgate/gate/evaluate.hpp"
#include "trunkgate/gate/feedback.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/history/ref_update.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/text.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

int cmd_check(const cli_io& streams, const parsed_args& parsed) {
    const auto format = parsed.option("--format").value_or("text");
    require_text_or_json(format);
    const auto updates = parsed.positionals.empty() ? parse_updates(streams.in)
                                                    : updates_from_args(parsed.positionals);
    const auto repo_path = parsed.option("--repo").value_or(".");
    act_as_owner(streams, repo_path, false);
    const auto repo = open_repository_at(repo_path, true);
    verdict result;
    try {
        auto explicit_policy = parsed.option("--policy");
        if (!explicit_policy)
            explicit_policy = streams.env("TRUNKGATE_POLICY");
        const auto rules_policy =
            load_policy(find_policy(explicit_policy, config_string(repo.get(), "trunkgate.policy"),
                                    git_dir(repo.get()),
                                    server_policy_path(streams.env("TRUNKGATE_SYSTEM_POLICY")))
                            .path);
        push_context context;
        context.identity = parsed.option("--as").value_or(
            resolve_identity(rules_policy.identity_env, streams.env));
        context.now = current_time();
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

} // namespace trunkgate
