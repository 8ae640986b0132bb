// help, version and rules: what trunkgate says about itself.

#include <git2.h>

#include <algorithm>

#include "trunkgate/cli/commands.hpp"
#include "trunkgate/gate/rules.hpp"
#include "trunkgate/util/text.hpp"
#include "trunkgate/util/version.hpp"

namespace trunkgate {

int cmd_help(const cli_io& streams, const parsed_args& parsed) {
    if (parsed.positionals.empty()) {
        streams.out << general_help();
        return exit_ok;
    }
    const auto& name = parsed.positionals.front();
    if (const auto* row = find_command(name)) {
        streams.out << command_help(*row);
        return exit_ok;
    }
    streams.err << "trunkgate: no command '" << printable(name) << "'\n";
    streams.out << general_help();
    return exit_usage;
}

int cmd_version(const cli_io& streams, const parsed_args&) {
    streams.out << "trunkgate " << trunkgate_version() << " (libgit2 " << LIBGIT2_VERSION << ")\n";
    return exit_ok;
}

int cmd_rules(const cli_io& streams, const parsed_args&) {
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

} // namespace trunkgate
