#pragma once
// git's proc-receive hook protocol (githooks(5), "proc-receive"; git >= 2.29): pkt-lines, the
// version negotiation, the pushed commands and push options, and the ok/ng report; and what
// trunkgate answers for a push to refs/for/<branch>[/<topic>]: the change enters the queue.

#include <git2.h>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trunkgate/policy/policy.hpp"
#include "trunkgate/queue/store.hpp"

namespace trunkgate {

/// The longest pkt-line, its 4-byte length header included.
constexpr std::size_t max_pkt_line = 65520;

/// Reads one pkt-line from `in`: its payload, or nullopt for a flush (`0000`). Throws
/// input_error for a length that is not 4 lowercase-or-uppercase hex digits, below 4 (other than
/// the flush) or above max_pkt_line, and for an end of input inside or before the line.
std::optional<std::string> read_pkt_line(std::istream& in);

/// Writes `payload` as one pkt-line. Throws input_error when it does not fit in one.
void write_pkt_line(std::ostream& out, std::string_view payload);

/// Writes a flush packet (`0000`).
void write_flush(std::ostream& out);

/// What git offered in its version block.
struct proc_receive_offer {
    int version = 0;           ///< the N of "version=N"; 0 when git sent none
    bool atomic = false;       ///< the client pushed with --atomic
    bool push_options = false; ///< the client may send push options
};

/// One command git hands the hook (only the refs receive.procReceiveRefs routes to it).
struct proc_receive_command {
    std::string old_id; ///< hex; all zeros for a create
    std::string new_id; ///< hex; all zeros for a delete
    std::string ref;    ///< as pushed: "refs/for/main/fix-1"
};

/// Everything git says before it waits for the report.
struct proc_receive_request {
    proc_receive_offer offer;
    std::vector<proc_receive_command> commands;
    std::vector<std::string> push_options; ///< only when push-options was negotiated
};

/// Reads git's version block up to its flush: "version=N" and the capabilities after the NUL,
/// in any order. Throws input_error for a malformed block or a version other than 1.
proc_receive_offer read_proc_receive_offer(std::istream& in);

/// Answers the version block: `version=1\0push-options` when git offered push options, else
/// `version=1`; then a flush.
void write_proc_receive_version(std::ostream& out, const proc_receive_offer& offer);

/// Reads the commands ("<old> <new> <ref>", no newline) up to their flush. Throws input_error
/// for a line of another shape.
std::vector<proc_receive_command> read_proc_receive_commands(std::istream& in);

/// Reads the push options (one per pkt-line, no newline) up to their flush. Throws input_error.
std::vector<std::string> read_proc_receive_push_options(std::istream& in);

/// The whole of git's side, answering the version on `out` (flushed) in between: the offer,
/// the commands, and the push options when both sides have them. Throws input_error.
proc_receive_request read_proc_receive_request(std::istream& in, std::ostream& out);

/// The answer for one command.
struct proc_receive_result {
    std::string ref;
    bool ok = false;
    std::string reason; ///< for ng: the client shows it in parentheses
};

/// Writes `ok <ref>\n` or `ng <ref> <reason>\n` per result, then a flush, and flushes `out`.
/// A reason's newlines become spaces (one pkt-line each). Throws input_error for a line too long.
void write_proc_receive_report(std::ostream& out, const std::vector<proc_receive_result>& results);

/// Where a push to refs/for/ asks a change to go.
struct queue_destination {
    std::string target; ///< "refs/heads/main"
    std::string topic;  ///< "" or the rest after the branch: refs/for/main/fix-1 -> "fix-1"
};

/// The queue `ref` (refs/for/<branch>[/<topic>]) names: the branch is the longest prefix of
/// what follows refs/for/ that is a [[queue]] target. nullopt when none is.
std::optional<queue_destination> queue_destination_of(const policy& rules_policy,
                                                      std::string_view ref);

/// What trunkgate answers for one command, and what it tells the pusher.
struct queue_push_answer {
    proc_receive_result result;
    std::vector<std::string> lines; ///< for the pusher's terminal (stderr), without newlines
};

/// Enqueues the change `command` pushes for `pusher`, or refuses it: a ref outside
/// refs/for/<branch>, a branch without a [[queue]], a delete, an --atomic push and a commit the
/// queue refuses (input_error) get `ng` with the reason. `push_options` may hold
/// `trunkgate.priority=high`. Throws libgit2_error and internal_error, which the caller answers
/// with `ng` (fail closed).
queue_push_answer enqueue_pushed(git_repository* repo, const policy& rules_policy,
                                 queue_store& store, const proc_receive_command& command,
                                 const proc_receive_offer& offer,
                                 const std::vector<std::string>& push_options,
                                 const std::string& pusher, std::int64_t now);

} // namespace trunkgate
