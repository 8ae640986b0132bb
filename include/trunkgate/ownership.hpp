#pragma once
// Who owns a repository, and acting as that user: root running a command on a repository served
// by another user becomes that user first, as runuser(1) does (docs/cli.md "Running as root").

#include <string>
#include <sys/types.h>

namespace trunkgate {

/// The login name of `uid` from the user database, or the number when it has none.
std::string user_name(uid_t uid);

} // namespace trunkgate
