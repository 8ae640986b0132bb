#pragma once
// The exception types the core throws. Each main catches them once and maps them to an
// exit code (see README "Exit codes").

#include <cstddef>
#include <stdexcept>
#include <string>

namespace trunkgate {

/// A policy file that is missing, unreadable, malformed or invalid. `file`, `line` and `column`
/// locate the problem (line/column are 0 when the problem has no position, e.g. a missing file).
class policy_error : public std::runtime_error {
  public:
    policy_error(std::string file, std::size_t line, std::size_t column,
                 const std::string& problem);
    const std::string& file() const noexcept { return file_; }
    std::size_t line() const noexcept { return line_; }
    std::size_t column() const noexcept { return column_; }
    const std::string& problem() const noexcept { return problem_; }

  private:
    std::string file_;
    std::size_t line_;
    std::size_t column_;
    std::string problem_;
};

/// No policy anywhere trunkgate looks (a repository trunkgate was never installed into).
class missing_policy_error : public policy_error {
  public:
    using policy_error::policy_error;
};

/// Input that does not follow a documented format (an update line, a command-line argument).
class input_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// A failure of the environment: libgit2, the file system, a child process.
class internal_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// A file that could not be read or listed for a reason other than not existing (EACCES, EIO,
/// EISDIR, ...). `error_number()` is the errno.
class file_error : public internal_error {
  public:
    file_error(const std::string& message, int error_number)
        : internal_error(message), error_number_(error_number) {}
    int error_number() const noexcept { return error_number_; }

  private:
    int error_number_;
};

} // namespace trunkgate
