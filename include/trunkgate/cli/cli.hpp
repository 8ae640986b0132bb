#pragma once
// The `trunkgate` admin and developer CLI (docs/cli.md).

#include <iosfwd>
#include <string>
#include <vector>

#include "trunkgate/util/exit_code.hpp"
#include "trunkgate/util/identity.hpp"

namespace trunkgate {

/// Runs `trunkgate <args...>` (args excludes the program name). Never throws.
int run_cli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
            std::ostream& err, const env_lookup& env);

} // namespace trunkgate
