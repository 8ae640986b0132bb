#pragma once
// The `trunkgate` admin and developer CLI (docs/cli.md).

#include <iosfwd>
#include <string>
#include <vector>

#include "trunkgate/identity.hpp"

namespace trunkgate {

/// Exit codes of every trunkgate program (README "Exit codes"); stable.
enum exit_code : int {
    exit_ok = 0,       ///< accepted / done
    exit_rejected = 1, ///< rejected, or findings at block level
    exit_usage = 2,    ///< bad command line or input
    exit_error = 3,    ///< configuration (policy) or internal error
};

/// Runs `trunkgate <args...>` (args excludes the program name). Never throws.
int run_cli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
            std::ostream& err, const env_lookup& env);

} // namespace trunkgate
