#pragma once
// Push events: one GitHub-compatible `push` payload per updated ref (docs/events.md).

#include <git2.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "trunkgate/history/ref_update.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

/// Who pushed and how; the post-receive hook fills it from its environment.
struct event_context {
    std::string pusher;                    ///< identity ([identity] env), may be empty
    std::vector<std::string> push_options; ///< from `git push -o`
    std::string git_dir;                   ///< with trailing slash
    std::int64_t pushed_at = 0;            ///< Unix seconds: repository.pushed_at, updated_at
};

struct push_event {
    std::string ref;
    std::string body;                 ///< GitHub's push event, exactly its schema's keys
    std::int64_t total_commits = 0;   ///< the pushed commits, listed or not
    std::int64_t listed_commits = 0;  ///< in `commits`: at most max_commits, fewer when trimmed
    std::int64_t dropped_commits = 0; ///< left out of `commits` to stay within max_payload_bytes
    bool over_limit = false;          ///< larger than max_payload_bytes even with no commit listed
    std::int64_t repository_id = 0;   ///< repository.id, for the X-GitHub-Hook-* headers
};

/// Builds one event per updated ref, in push order, after git has updated the refs (post-receive),
/// and hands each to `sink` as soon as it is built, so only one event is held at a time.
/// `commits` lists the pushed commits (before..after for an update; for a new ref, those no
/// other ref had before the push), oldest first, at most [events] max_commits of the newest and
/// no more than fit in max_payload_bytes (the oldest are dropped first); push_event counts them
/// all. The body has exactly the keys of GitHub's published push schema (docs/events.md):
/// repository, pusher and sender are derived where the server has no record (github_shape.hpp).
/// Messages are re-encoded to UTF-8 from the commit's `encoding` header and lose their trailing
/// newline; longer than max_message_bytes, they are cut on a UTF-8 boundary and end with
/// truncated_message_marker(). What the push hides is computed once for all refs, so the cost
/// grows with the refs and commits pushed, not with refs × refs. Throws libgit2_error, and
/// whatever `sink` throws.
void build_push_events(git_repository* repo, const policy& rules_policy,
                       const std::vector<ref_update>& updates, const event_context& context,
                       const std::function<void(push_event&&)>& sink);

/// The line appended to a commit message cut to [events] max_message_bytes:
/// "\n[trunkgate: message truncated, N bytes in full]" with N the message's full size.
std::string truncated_message_marker(std::size_t full_size);

/// Whether the push options ask CI to skip: ci.skip, ci.skip=true or ci.skip=1 (GitLab's).
bool asks_ci_skip(const std::vector<std::string>& push_options);

/// `body` (a push event) with trunkgate's own top-level keys added at its end, for endpoints
/// with payload = "github+trunkgate": total_commits, push_options and ci_skip.
std::string with_trunkgate_fields(const std::string& body, std::int64_t total_commits,
                                  const std::vector<std::string>& push_options);

} // namespace trunkgate
