#pragma once
// The branch-protection policy: a TOML file (docs/policy.md documents every key).

#include <re2/re2.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "trunkgate/policy/rule_ids.hpp"

namespace trunkgate {

enum class policy_mode { enforce, evaluate };

/// A compiled RE2 pattern together with its source text (for messages).
struct pattern {
    std::string source;
    std::shared_ptr<const RE2> regex;
    /// True when the pattern matches somewhere in `text` (anchor with ^ and $ for a whole match).
    bool search(std::string_view text) const;
};

/// What [[protect]] require_approval asks for.
struct approval_rule {
    std::vector<std::string> approvers; ///< identity globs
    std::int64_t max_age_days = 7;
    bool allow_self = false;
};

struct protect_rule {
    std::vector<std::string> refs;
    bool allow_force_push = false;
    bool allow_delete = false;
    bool linear_history = false;
    std::vector<std::string> push_allowed{"*"};
    std::vector<std::string> required_checks;      ///< contexts (globs) that must be `success`
    std::string promote_from;                      ///< the new tip must already be on this ref
    std::optional<approval_rule> require_approval; ///< a person must approve the new tip
};

/// How a merge queue puts a change on its target (docs/queue.md).
enum class queue_method {
    rebase,           ///< the change's commits, cherry-picked onto the target
    merge,            ///< a merge commit of the target and the change
    fast_forward_only ///< the change itself, which must already contain the target
};

std::string_view to_string(queue_method method);

/// [[queue]]: a merge queue in front of one branch (docs/queue.md).
struct queue_rule {
    std::string target; ///< full ref name, "refs/heads/main"
    queue_method method = queue_method::rebase;
    std::int64_t max_parallel = 4;           ///< speculative builds under test at once
    std::int64_t batch_size = 1;             ///< changes per speculative build, bisected on failure
    std::int64_t check_timeout_minutes = 60; ///< no verdict by then: ejected (or retried)
    std::int64_t retries = 0;                ///< fresh builds before a failure ejects
    std::vector<std::string> priority;       ///< identity globs whose priority=high counts
    std::vector<std::string> allowed{"*"};   ///< identity globs that may queue changes
    bool automatic_runner = true; ///< runner = "auto": a queue run starts after pushes and statuses
};

/// [checks]: where CI statuses come from.
struct checks_policy {
    enum class source_kind { notes, http } source = source_kind::notes;
    std::string notes_ref = "refs/notes/trunkgate/checks";
    std::vector<std::string> writers; ///< identities allowed to push the notes and approvals refs
    std::string http_url;             ///< combined status; {owner}, {repo}, {sha}; "" for none
    std::string http_check_runs_url;  ///< GitHub check runs, same placeholders; "" for none
    std::string http_token_env;
    std::int64_t http_timeout_ms = 2000;
    bool http_errors_block = true; ///< on_error = "block" (false: "allow", a warning)
};

struct branch_policy {
    std::vector<std::string> refs{"refs/heads/*"};
    std::optional<pattern> name_pattern;
    std::optional<std::int64_t> max_behind;
    std::optional<std::int64_t> max_age_days;
    std::optional<std::int64_t> max_ahead;
};

struct tag_policy {
    std::optional<pattern> name_pattern;
    bool immutable = true;
};

/// Gitignore-style path globs compiled into one RE2 alternation (see docs/policy.md).
struct path_patterns {
    std::vector<std::string> sources;
    std::shared_ptr<const RE2> regex; ///< null when there are no patterns
    /// The first pattern that matches `path` (a full path inside the tree), if any.
    std::optional<std::string> match(std::string_view path) const;
};

/// [commits]: rules for every commit a push adds to the repository.
struct commit_policy {
    std::vector<std::string> refs{"refs/heads/*"};
    std::optional<pattern> message_pattern;
    std::optional<pattern> message_forbidden_pattern;
    std::optional<std::int64_t> max_subject_length;
    std::optional<pattern> author_email_pattern;
    std::optional<pattern> committer_email_pattern;
    std::optional<std::int64_t> max_file_size; ///< bytes
    path_patterns forbidden_paths;
    bool secret_files = false;
    path_patterns secret_paths; ///< secret_file_globs(), compiled when secret_files is true
    std::optional<std::int64_t> max_changed_files;

    /// True when any commit rule is configured (otherwise no commit is read at all).
    bool any() const;
};

/// Parses a size: an integer number of bytes, or a number with B, KB, MB, GB (powers of 1000) or
/// KiB, MiB, GiB (powers of 1024), e.g. "5 MiB". nullopt when `text` is not a size.
std::optional<std::int64_t> parse_size(std::string_view text);

/// Compiles gitignore-style globs: a pattern without a slash matches a file name at any depth
/// (`*.pem`), one with a slash matches from the root (`secrets/**`, `**/id_rsa`); `*` stays within
/// a directory, `**` crosses directories, a trailing `/` matches everything below a directory.
/// Throws std::invalid_argument naming a pattern RE2 cannot compile.
path_patterns compile_path_patterns(const std::vector<std::string>& globs);

/// The built-in list of well-known secret file names ([commits] secret_files = true).
const std::vector<std::string>& secret_file_globs();

/// [repository]: how events name the repository. Every key is optional: what is not given is
/// derived (docs/events.md, "The repository object").
struct repository_policy {
    std::string full_name;          ///< "owner/name"; default: "<parent dir>/<dir without .git>"
    std::string url;                ///< web page; default https://<host name>/<full_name>
    std::string api_url;            ///< API root; default <scheme://host of url>/api/v3
    std::string clone_url;          ///< default <url>.git
    std::string ssh_url;            ///< default git@<host of url>:<full_name>.git
    std::string commit_url;         ///< {sha}; default <url>/commit/{sha}
    std::string compare_url;        ///< {before}, {after}; default GitHub's compare forms
    std::optional<std::int64_t> id; ///< default: derived from the repository's path
    bool is_private = true;         ///< `private` and `visibility`
};

/// What an endpoint's payload carries: GitHub's push event exactly, or GitHub's plus trunkgate's
/// total_commits, push_options and ci_skip.
enum class payload_format { github, github_trunkgate };

/// One [[events.endpoint]]: where push events are posted.
struct endpoint_policy {
    std::string url;
    std::string secret_env;  ///< environment variable holding the HMAC secret
    std::string secret_file; ///< or a file holding it (trailing newline ignored)
    std::string auth_env;    ///< environment variable holding "user:password" for Basic auth
    std::string auth_file;   ///< or a file holding it (trailing newline ignored)
    std::vector<std::string> refs{"refs/heads/*", "refs/tags/*"};
    std::int64_t timeout_ms = 5000;
    std::string ca_file; ///< CA bundle used instead of the system's; TLS peers are always verified
    payload_format payload = payload_format::github;
    std::string user_agent; ///< "" for default_user_agent()
};

enum class delivery_mode { background, inline_wait };

/// [events]: the post-receive hook's spool and delivery.
struct events_policy {
    std::string spool_dir = "trunkgate/spool"; ///< relative to $GIT_DIR unless absolute
    delivery_mode deliver = delivery_mode::background;
    std::int64_t max_commits = 2048;
    std::int64_t max_age_hours = 72;
    std::int64_t max_message_bytes = 65536; ///< per commit message; longer ones are cut, marked
    std::int64_t max_payload_bytes =
        26214400; ///< per event (GitHub's 25 MiB); oldest commits dropped
    std::vector<endpoint_policy> endpoints;
};

/// [report]: what `trunkgate report` counts as a deployment (docs/report.md).
struct report_policy {
    /// Refs (globs) whose moves are deployments; nullopt: the refs of every [[protect]] entry
    /// with promote_from.
    std::optional<std::vector<std::string>> deploy_refs;
    std::int64_t failure_window_days = 7; ///< a revert this soon after a deployment fails it
};

struct policy {
    std::string source; ///< the file it was read from, as given
    policy_mode mode = policy_mode::enforce;
    std::string trunk_branch = "main";
    std::vector<protect_rule> protect;
    std::vector<queue_rule> queues; ///< [[queue]], at most one per target
    branch_policy branches;
    tag_policy tags;
    std::optional<commit_policy> commits; ///< absent: no [commits] section
    repository_policy repository;
    events_policy events;
    checks_policy checks;
    report_policy report;
    std::vector<std::string> bypass_identities;            ///< [bypass] identities
    std::map<std::string, level, std::less<>> enforcement; ///< rule id -> level override
    std::vector<std::string> identity_env{"TRUNKGATE_USER", "GL_USER", "REMOTE_USER",
                                          "GITEA_PUSHER_NAME", "USER"};
    /// [identity.users]: login -> the email addresses that are theirs (events' `username`).
    std::map<std::string, std::vector<std::string>, std::less<>> identity_users;
    std::string contact;

    std::string trunk_ref() const { return "refs/heads/" + trunk_branch; }
    /// Every [[protect]] entry whose refs match `ref`.
    std::vector<const protect_rule*> protections_for(std::string_view ref) const;
    /// Every required context of the [[protect]] entries matching `ref`, each once, in order.
    std::vector<std::string> required_checks(std::string_view ref) const;
    /// Whether the [branches] rules apply to `ref`: a branch other than trunk that no [[protect]]
    /// entry matches and `[branches] refs` does.
    bool is_short_lived_branch(std::string_view ref) const;
    /// The [[queue]] entry whose target is `ref`, or null.
    const queue_rule* queue_for(std::string_view ref) const;
    /// For a push to refs/for/<branch>[/<topic>]: the [[queue]] of refs/heads/<branch> (the
    /// longest <branch> that has one), or null; `topic` gets the rest ("" for none).
    const queue_rule* queue_for_submission(std::string_view ref,
                                           std::string* topic = nullptr) const;
    /// `[report] deploy_refs`, or the refs of every [[protect]] entry with promote_from.
    std::vector<std::string> deploy_refs() const;
    /// The level of rule `id`: the [enforcement] override, else `fallback`.
    level level_of(std::string_view id, level fallback) const;
};

/// The repository's "owner/name" for events and status URLs: [repository] full_name, else the
/// parent directory's name, a slash, and the repository directory's name without ".git".
std::string repository_full_name(const policy& rules_policy, const std::string& git_dir);

/// A policy file is read only up to this size (1 MiB); a larger one is a policy_error.
constexpr std::size_t max_policy_bytes = 1 << 20;
/// At most this many values in all of a policy's arrays together (patterns, globs, names).
constexpr std::size_t max_policy_values = 10000;

/// Parses and validates policy text. `source` names it in errors. Throws policy_error with the
/// line and column of the first problem; unknown keys and invalid patterns are errors.
policy parse_policy(std::string_view text, const std::string& source);

/// Reads and parses the policy file at `path`. Throws policy_error.
policy load_policy(const std::string& path);

/// Which step of the lookup found a policy (docs/policy.md "Where the policy is found").
enum class policy_origin {
    explicit_path,   ///< --policy or TRUNKGATE_POLICY
    git_config,      ///< git config trunkgate.policy, at any level
    repository_file, ///< $GIT_DIR/trunkgate.toml
    server_wide,     ///< the server-wide policy (server_policy_path())
};

/// A policy file and the step that chose it.
struct policy_location {
    std::string path;
    policy_origin origin = policy_origin::explicit_path;
};

/// The build's default server-wide policy: /etc/trunkgate/policy.toml unless CMake's
/// TRUNKGATE_SYSTEM_POLICY says otherwise.
std::string default_server_policy();

/// The server-wide policy file: `override_path` (the environment variable
/// TRUNKGATE_SYSTEM_POLICY) when it is set, "" meaning there is none; else
/// default_server_policy().
std::string server_policy_path(const std::optional<std::string>& override_path);

/// Where a policy comes from, in order: `explicit_path` (--policy or TRUNKGATE_POLICY), git config
/// `trunkgate.policy` of the repository (relative paths are relative to $GIT_DIR),
/// `$GIT_DIR/trunkgate.toml` when it exists, then `server_policy` when it is not empty and
/// exists. Returns the first that is set; throws missing_policy_error when none is.
policy_location find_policy(const std::optional<std::string>& explicit_path,
                            const std::optional<std::string>& configured_path,
                            const std::string& git_dir, const std::string& server_policy);

/// find_policy() with the server-wide policy this process's environment names
/// (TRUNKGATE_SYSTEM_POLICY, else the default): the lookup the hooks make. Returns the path.
std::string locate_policy(const std::optional<std::string>& explicit_path,
                          const std::optional<std::string>& configured_path,
                          const std::string& git_dir);

/// How docs/policy.md names a lookup step: "TRUNKGATE_POLICY or --policy", "git config
/// trunkgate.policy", "$GIT_DIR/trunkgate.toml", "the server-wide policy".
std::string describe(policy_origin origin);

} // namespace trunkgate
