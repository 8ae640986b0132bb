#pragma once
// Reading and writing whole files the way trunkgate needs: nothing half-written ever visible.

#include <optional>
#include <string>
#include <vector>

namespace trunkgate {

/// Whether anything is at `path` (stat(2), following symbolic links).
bool file_exists(const std::string& path);

/// The whole content of `path`, or nullopt when it does not exist (ENOENT). Any other failure
/// (EACCES, EIO, a directory) throws file_error, so that a file that is there but unreadable is
/// never taken for one that is gone.
std::optional<std::string> read_file(const std::string& path);

/// Writes `content` to `dir`/`name` with `mode` through a temporary file, fsync, rename and a
/// directory fsync: afterwards the file is on disk whole, or the old one is. Throws internal_error.
void write_durably(const std::string& dir, const std::string& name, const std::string& content,
                   unsigned mode = 0640);

/// Writes all of `text` to `fd`, retrying short writes and EINTR. False, with errno set, when a
/// write fails (a write that returns 0 counts as EIO).
bool write_all(int fd, const std::string& text);

/// The fsync(2) that write_durably calls on the file: a seam for tests of a failing disk.
extern int (*fsync_for_tests)(int);

/// The names in `dir` (not . and ..), sorted; none when it does not exist. Throws file_error when
/// it exists but cannot be listed: a directory that cannot be read must not look empty.
std::vector<std::string> directory_names(const std::string& dir);

} // namespace trunkgate
