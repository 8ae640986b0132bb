#pragma once
// The `trunkgate` command table, as git's git.c `commands[]`: one row per command with its name,
// its options, its usage lines with their one-line summaries, its help text and its handler.
// `trunkgate help` and `trunkgate COMMAND --help` are made from it (docs/cli.md).

#include <istream>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "trunkgate/util/error.hpp"
#include "trunkgate/util/exit_code.hpp"
#include "trunkgate/util/identity.hpp"

namespace trunkgate {

/// A command line that does not say what it means; run_cli prints it and exits 2.
class usage_error : public input_error {
  public:
    using input_error::input_error;
};

/// What a command reads and writes.
struct cli_io {
    std::istream& in;
    std::ostream& out;
    std::ostream& err;
    const env_lookup& env;
    const std::vector<std::string>& args; ///< the command line, without the program
};

/// An option a command accepts: `--name VALUE` (or `--name=VALUE`) when it takes a value, else
/// `--name` alone.
struct option_spec {
    std::string_view name;
    bool takes_value = true;
};

/// A command's arguments after its name: options by name (each value given, in order) and the
/// positional arguments. `--help` and `-h` anywhere set `help`; `--` ends the options.
struct parsed_args {
    std::map<std::string, std::vector<std::string>, std::less<>> options;
    std::vector<std::string> positionals;
    bool help = false;

    /// The last value given for `name` (a repeated option overrides), or nullopt; "" for an
    /// option without a value.
    std::optional<std::string> option(std::string_view name) const;
    /// Every value given for `name`, in order.
    std::vector<std::string> values(std::string_view name) const;
    /// Whether `name` was given at all.
    bool has(std::string_view name) const { return option(name).has_value(); }
};

/// One way to call a command, for the help texts: what follows `trunkgate`, and what it does.
/// A '\n' in `synopsis` is where the command's own help breaks the line (the command list
/// keeps it on one); a '\n' in `summary` continues it on a new line of the list.
struct usage_line {
    std::string_view synopsis;
    std::string_view summary; ///< "" when the line above says it
};

/// Runs a command; returns its exit code (exit_code), throws usage_error for a bad command line.
using command_handler = int (*)(const cli_io& streams, const parsed_args& parsed);

/// A row of the command table.
struct command {
    std::string_view name;
    std::vector<option_spec> options;
    std::vector<usage_line> usage; ///< at least one
    std::string_view help;         ///< what `trunkgate NAME --help` says below the usage lines
    command_handler run;
};

/// The command table, in the order `trunkgate help` lists it (src/cli/commands.cpp).
const std::vector<command>& commands();

/// The row named `name`, or null.
const command* find_command(std::string_view name);

/// Splits `args` (after the command's name) by `options`. Throws usage_error for an unknown
/// option, a value given to an option that takes none, and a missing value.
parsed_args parse_command_args(const std::vector<std::string>& args,
                               const std::vector<option_spec>& options);

/// `trunkgate help`: every usage line of the table with its summary, then the exit codes.
std::string general_help();

/// `trunkgate NAME --help`: the row's usage lines, then its help text.
std::string command_help(const command& row);

/// Throws usage_error unless `format` is "text" or "json" (what --format takes).
void require_text_or_json(const std::string& format);

} // namespace trunkgate
