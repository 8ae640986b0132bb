#pragma once
// Real users for end-to-end tests of ownership: a repository served by another user than the one
// running trunkgate (root, or someone who is neither root nor the owner). Root only.

#include <map>
#include <string>
#include <vector>

#include "support/sandbox.hpp"

namespace trunkgate::testing {

/// `name` when the system has that user; otherwise creates it (`useradd --system`, no home, no
/// login shell) and returns it. Throws std::runtime_error when it cannot (not root).
std::string ensure_user(const std::string& name);

/// Gives `path` and everything below it to `user` and that user's group (chown -R).
void chown_tree(const std::string& path, const std::string& user);

/// Lets any user reach `dir` (chmod 0755): temp_dir makes its directories 0700.
void open_up(const std::string& dir);

/// Runs argv as `user`, as runuser(1) would (its groups, its login group, the user; HOME, USER and
/// LOGNAME from its passwd entry), through setpriv(1): runuser opens a PAM session that logs to
/// /dev/log, and blocks there while another test holds /dev/log without reading it. `env` is
/// added first, as for run().
run_result run_as(const std::string& user, const std::vector<std::string>& argv,
                  const std::string& cwd, const std::map<std::string, std::string>& env = {},
                  const std::string& input = "");

/// The paths below `path` (itself included) that `user` does not own (`find PATH ! -user USER`),
/// one per line; empty when there are none.
std::string not_owned_by(const std::string& path, const std::string& user);

} // namespace trunkgate::testing
