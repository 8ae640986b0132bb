#pragma once
// Running another program without a shell: the argument vector goes to execv as it is, so no
// user-controlled string is ever parsed by /bin/sh.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace trunkgate {

/// Runs the program at `argv[0]` with `input` on its standard input, sharing this process's
/// environment, stdout and stderr. Waits for it and returns its exit status, or 128 + the
/// signal number when a signal ended it. Throws internal_error when it cannot be started.
int run_with_input(const std::vector<std::string>& argv, std::string_view input);

/// Runs `work` in a detached grandchild (its own session, stdin/stdout/stderr on /dev/null, no
/// other file descriptors), so a git hook can return while the work goes on: git waits for the
/// hook's output pipes to close, and the grandchild holds none of them. Returns once the child
/// has forked; throws internal_error when it cannot fork.
void run_detached(const std::function<void()>& work);

/// True when `path` names an executable regular file.
bool is_executable_file(const std::string& path);

/// The directory holding the running executable (from /proc/self/exe), without trailing slash.
std::string executable_dir();

} // namespace trunkgate
