#pragma once
// What git gives the two hook programs, read one way for both: their command line and their
// standard input (git's update lines).

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trunkgate/hook/hook_chain.hpp"

namespace trunkgate {

/// A hook program's start: what to chain, and git's update lines as they came.
struct hook_input {
    /// Set when the program is done before it starts: `--version` was answered (0), or the
    /// command line was wrong and the usage printed (exit_usage).
    std::optional<int> exit_now;
    hook_chain chain;
    std::string update_lines; ///< standard input, whole and unparsed
};

/// Reads the command line `args` (without the program name) of the hook `program`
/// ("trunkgate-pre-receive"), then all of `in` unless the program is done. `--version` prints
/// `PROGRAM VERSION` to `out`; a wrong command line prints the usage to `err`. Never throws for
/// a wrong command line.
hook_input read_hook_input(std::string_view program, const std::vector<std::string>& args,
                           std::istream& in, std::ostream& out, std::ostream& err);

/// The command line of a hook that takes no arguments and converses with git on its standard
/// input (proc-receive), which is left unread: `--version` prints `PROGRAM VERSION` to `out`
/// (returns 0); any other argument prints the usage to `err` (returns exit_usage); nullopt when
/// there are none and the program goes on. Never throws.
std::optional<int> read_conversing_hook_arguments(std::string_view program,
                                                  const std::vector<std::string>& args,
                                                  std::ostream& out, std::ostream& err);

} // namespace trunkgate
