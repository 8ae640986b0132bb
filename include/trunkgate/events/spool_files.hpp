#pragma once
// What spool.cpp and spool_staging.cpp share about the spool's files: making its directories,
// and saying why a file in it cannot be opened.

#include <string>

namespace trunkgate {

/// Creates the directory `path` (mode 0750) unless it exists; its parent must exist. Throws
/// internal_error.
void make_dir(const std::string& path);

/// Why `path` cannot be read or opened after the errno `error`, for the person who has to fix
/// it. For EACCES and EPERM also who owns it, its mode and who tried: a deliverer run once as
/// root leaves root:root 0640 files that the repository's own user cannot read.
std::string access_problem(const std::string& path, int error);

} // namespace trunkgate
