#pragma once
// Test helpers: a temporary directory that removes itself, running programs without a shell,
// and a server/clone pair of git repositories driven with the real git client.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace trunkgate::testing {

/// The trunkgate programs under test (build/bin) and the source tree.
std::string bin_path(const std::string& program);
std::string source_path(const std::string& relative);

/// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class temp_dir {
  public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

  private:
    std::string path_;
};

struct run_result {
    int status = -1; ///< exit status, or 128 + signal
    std::string out; ///< standard output
    std::string err; ///< standard error
    std::string all() const { return out + err; }
};

/// Runs argv[0] (searched in PATH) in `cwd` with `env` added to this process's environment and
/// `input` on stdin. Never uses a shell.
run_result run(const std::vector<std::string>& argv, const std::string& cwd = ".",
               const std::map<std::string, std::string>& env = {}, const std::string& input = "");

/// For a forked child only: runs argv[0] (searched in PATH) in `cwd` with `env` added, keeping the
/// standard streams it has. Never returns: exit 126 when `cwd` is unusable, 127 when exec fails.
[[noreturn]] void exec_child(const std::vector<std::string>& argv, const std::string& cwd,
                             const std::map<std::string, std::string>& env);

/// For a forked child only: stdin from /dev/null, stdout and stderr appended to `output_path`,
/// then exec_child().
[[noreturn]] void exec_child_logged(const std::vector<std::string>& argv, const std::string& cwd,
                                    const std::map<std::string, std::string>& env,
                                    const std::string& output_path);

/// A program started in the background, with stdout and stderr going to `output_path`; killed
/// (SIGKILL) and reaped on destruction if it is still running, so a failing test leaves no
/// process behind.
class background_process {
  public:
    /// Starts argv[0] (searched in PATH) in `cwd` with `env` added to this process's environment.
    /// Throws std::runtime_error when it cannot fork.
    background_process(const std::vector<std::string>& argv, const std::string& cwd,
                       const std::map<std::string, std::string>& env,
                       const std::string& output_path);
    ~background_process();
    background_process(const background_process&) = delete;
    background_process& operator=(const background_process&) = delete;

    int pid() const { return pid_; }
    /// Sends `signal` to the process (nothing once it has been reaped).
    void kill(int signal) const;
    /// Waits for the process to end; its exit status, or 128 + the signal that ended it.
    int wait();

  private:
    int pid_ = -1;
    std::optional<int> status_;
};

/// Calls `condition` every 10 ms until it returns true; false when `timeout` passes first.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

/// The all-zero object id git uses for "no object" in update lines.
extern const std::string zero_id;

/// Unix time `days` days before now.
long long days_ago(double days);

/// The lines git relayed from the server's hooks (`remote: ...`), without that prefix and without
/// the padding git appends to each line.
std::vector<std::string> remote_lines(const run_result& result);
/// remote_lines() joined, one per line: what the server's hooks told the pusher, so an assertion
/// cannot be met by git's own output.
std::string remote_text(const run_result& result);

/// Writes `content` to `path`, creating parent directories.
void write_file(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);

/// A bare "server" repository and a clone to push from, both in one temp_dir.
/// Commits get fixed author/committer identities; dates are set per commit.
class git_sandbox {
  public:
    git_sandbox();
    const std::string& server() const { return server_; }
    const std::string& clone() const { return clone_; }
    const std::string& dir() const { return root_.path(); }

    /// Runs `git ARGS` in the clone (with `env` added), or in `cwd` when given.
    run_result git(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env = {}) const;
    run_result git_in(const std::string& cwd, const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env = {}) const;
    /// The environment the sandbox gives git and trunkgate (HOME, identities, ...) plus `extra`.
    std::map<std::string, std::string>
    environment(const std::map<std::string, std::string>& extra = {}) const;
    /// `trunkgate ARGS` (build/bin/trunkgate) in the clone.
    run_result trunkgate(const std::vector<std::string>& args, const std::string& input = "",
                         const std::map<std::string, std::string>& env = {}) const;

    /// Commits a change to `file` in the clone at Unix time `when` (default: now); returns the id.
    std::string commit(const std::string& message, const std::string& file = "",
                       std::optional<long long> when = std::nullopt);
    /// Merges `branch` into the current branch of the clone with a merge commit (--no-ff) whose
    /// subject is `message`, at Unix time `when` (default: now); returns the merge commit's id.
    std::string merge(const std::string& branch, const std::string& message,
                      std::optional<long long> when = std::nullopt);
    /// `count` commits in a row, each touching `file`.
    std::string commits(int count, const std::string& prefix, std::optional<long long> when = {});
    /// The object id `rev` names in the server repository, or "" when it does not exist.
    std::string server_rev(const std::string& rev) const;
    /// The object id `rev` names in the clone.
    std::string clone_rev(const std::string& rev) const;
    /// Installs trunkgate into the server with `policy_text` as trunkgate.toml (the default
    /// template when empty).
    void install(const std::string& policy_text = "");
    /// Runs build/bin/trunkgate-pre-receive as git would, with GIT_DIR set to the server and
    /// `input` (update lines) on stdin.
    run_result run_hook(const std::string& input,
                        const std::map<std::string, std::string>& env = {}) const;
    /// Overwrites the server's trunkgate.toml without validating it (install refuses bad ones).
    void write_server_policy(const std::string& policy_text) const;
    /// `git push ARGS` from the clone; `env` reaches the hook (e.g. TRUNKGATE_USER).
    run_result push(const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env = {}) const;

  private:
    temp_dir root_;
    std::string server_;
    std::string clone_;
    int counter_ = 0;
};

} // namespace trunkgate::testing
