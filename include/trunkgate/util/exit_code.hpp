#pragma once
// The exit codes every trunkgate program shares (README "Exit codes"); stable.

namespace trunkgate {

enum exit_code : int {
    exit_ok = 0,       ///< accepted / done
    exit_rejected = 1, ///< rejected, or findings at block level
    exit_usage = 2,    ///< bad command line or input
    exit_error = 3,    ///< configuration (policy) or internal error
};

} // namespace trunkgate
