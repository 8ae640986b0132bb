#include "trunkgate/cli/cli.hpp"

#include <iostream>

#include "trunkgate/cli/command.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

namespace {

// Finds the command's row, parses its options by the row, and runs its handler (or its help).
int dispatch(const cli_io& streams, const std::vector<std::string>& args) {
    std::string name = args.empty() ? "help" : args[0];
    if (name == "--help" || name == "-h")
        name = "help";
    else if (name == "--version")
        name = "version";
    const auto* row = find_command(name);
    if (!row)
        throw usage_error("unknown command '" + printable(name) + "' (see trunkgate help)");
    const std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
    const auto parsed = parse_command_args(rest, row->options);
    if (parsed.help) {
        streams.out << command_help(*row);
        return exit_ok;
    }
    return row->run(streams, parsed);
}

} // namespace

int run_cli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
            std::ostream& err, const env_lookup& env) {
    const cli_io streams{in, out, err, env, args};
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
