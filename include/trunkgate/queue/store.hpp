#pragma once
// The merge queue's journal: one durable file per entry under $GIT_DIR/trunkgate/queue/, and one
// function per state transition, each durable before it returns and safe to run twice
// (docs/queue.md, "States").

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trunkgate/util/error.hpp"

namespace trunkgate {

/// Where an entry is. waiting, testing and landing are active; the others are ended.
enum class queue_state { waiting, testing, landing, landed, ejected, cancelled };

std::string_view to_string(queue_state state);
std::optional<queue_state> parse_queue_state(std::string_view text);
bool is_active(queue_state state);

/// One change in a queue.
struct queue_entry {
    std::string id;     ///< "q-0042", unique in the repository
    std::string target; ///< the branch it lands on, "refs/heads/main"
    std::string topic;  ///< from refs/for/<branch>/<topic>; "" for none
    std::string commit; ///< the change's tip as enqueued (hex)
    std::string pusher; ///< who enqueued it
    std::int64_t enqueued_at = 0;
    std::int64_t order = 0; ///< place in the queue: lower goes first
    bool priority = false;  ///< enqueued with priority (goes before every non-priority entry)
    queue_state state = queue_state::waiting;
    std::string speculative; ///< the commit under test (hex), while testing or landing
    std::string built_on;    ///< the commit the speculative one was built on (hex)
    std::int64_t testing_since = 0;
    std::int64_t builds = 0;                   ///< speculative builds made for it so far
    std::int64_t failed_builds = 0;            ///< of which failed or timed out (retries used + 1)
    std::map<std::string, std::string> checks; ///< required context -> state, as last read
    std::string landing_from;                  ///< landing: the target's tip it moves from (hex)
    std::string reason; ///< ended: why (ejected, cancelled); waiting: why it was rebuilt
    std::int64_t ended_at = 0;
    /// The batch it is built in (testing, landing; kept once landed): the id of the batch's
    /// last entry, which names its branch. "" (journals before batches): a batch of its own.
    std::string batch;
    std::int64_t batch_size = 0; ///< entries in that batch when it was built; 0 reads as 1
    /// The largest batch it may be built in from now on, set by bisection (and to 1 for a
    /// retry); 0: only the policy's batch_size bounds it. It never grows while the entry waits.
    std::int64_t batch_limit = 0;
    /// Every speculative commit it was built in, oldest first: its CI builds (a batch shares
    /// one). Journals written before this list have none.
    std::vector<std::string> built;
};

/// The id of the batch `entry` is built in: `batch`, or its own id when that is empty.
std::string batch_of(const queue_entry& entry);
/// How many entries were built with it: `batch_size`, at least 1.
std::int64_t batch_size_of(const queue_entry& entry);

/// The entry as its journal file holds it (JSON), and back. parse_queue_entry throws
/// input_error naming what is wrong.
std::string queue_entry_json(const queue_entry& entry);
queue_entry parse_queue_entry(std::string_view text);

/// Makes `entry` waiting and clears what its build set (speculative commit, base, batch, checks):
/// the rebuild transition, also for a copy of the entry kept in memory.
void clear_build(queue_entry& entry);

/// A queue id is "q-" and digits.
bool is_queue_id(std::string_view text);

/// An exclusive hold on the queue's runner (flock on runner.lock); released on destruction.
class runner_hold {
  public:
    explicit runner_hold(int fd) : fd_(fd) {}
    runner_hold(runner_hold&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    runner_hold& operator=(runner_hold&&) = delete;
    runner_hold(const runner_hold&) = delete;
    ~runner_hold();

  private:
    int fd_;
};

/// The journal of one repository's queues.
class queue_store {
  public:
    /// Opens (creating when missing) `dir`, normally $GIT_DIR/trunkgate/queue. Throws
    /// internal_error when it cannot be created.
    explicit queue_store(std::string dir);

    const std::string& dir() const { return dir_; }

    /// Adds `entry` as waiting at the end of its target's queue (before every non-priority
    /// entry when `entry.priority`), with the next id. Durable before it returns.
    queue_entry enqueue(queue_entry entry, std::int64_t now);

    /// Every entry (of `target` when not empty), active ones in queue order first, then the
    /// ended ones, newest first. Entries that cannot be read are skipped and named in
    /// `unreadable` when given.
    std::vector<queue_entry> entries(std::string_view target = {},
                                     std::vector<std::string>* unreadable = nullptr) const;

    /// The entry `id`, or nullopt when there is none. Throws input_error naming the file when
    /// it is damaged, file_error when it cannot be read.
    std::optional<queue_entry> find(const std::string& id) const;

    // Transitions. Each reads the entry under the store's lock, checks that it is in a state the
    // transition starts from (else returns false and changes nothing), writes it durably and
    // returns true. Running one twice is harmless: the second finds the entry already moved.

    /// waiting or testing -> testing on `speculative`, built on `built_on`, as one of the
    /// `batch_size` entries of the batch `batch` ("" or its own id with 1: built alone).
    /// Counts one build for the entry.
    bool start_testing(const std::string& id, const std::string& speculative,
                       const std::string& built_on, std::int64_t now, const std::string& batch = {},
                       std::int64_t batch_size = 1);
    /// testing -> testing: records the required checks as last read.
    bool record_checks(const std::string& id, const std::map<std::string, std::string>& checks);
    /// testing -> waiting: its build is void (something ahead changed, or a retry); `failed`
    /// counts it as a failed build.
    bool rebuild(const std::string& id, const std::string& reason, bool failed);
    /// testing -> testing: from now on it is built in batches of at most `limit` entries (a
    /// limit it already has that is smaller stays). Written before a bisection rebuilds it, so
    /// a runner killed in between still never merges the halves again.
    bool limit_batch(const std::string& id, std::int64_t limit);
    /// testing -> landing: about to move the target from `from` to the speculative commit.
    bool begin_landing(const std::string& id, const std::string& from);
    /// landing -> landed.
    bool finish_landing(const std::string& id, std::int64_t now);
    /// landing -> testing: the target did not move (it moved elsewhere meanwhile).
    bool abort_landing(const std::string& id);
    /// waiting or testing -> ejected, with the reason.
    bool eject(const std::string& id, const std::string& reason, std::int64_t now);
    /// waiting or testing -> cancelled, with who cancelled.
    bool cancel(const std::string& id, const std::string& reason, std::int64_t now);

    /// The runner's hold, or nullopt when another runner has it (it never waits).
    std::optional<runner_hold> try_hold_runner() const;

    // A run asked for (the file run-requested). Whoever changes what the queue reads asks for a
    // run, then starts one; a runner takes the request once it holds the queue, and passes once
    // more when it finds a new one after its pass. So a start that finds the queue busy is never
    // lost: either the runner at work takes its request, or the start gets the hold itself.

    /// Asks for a run. Throws file_error when the file cannot be written.
    void request_run() const;
    /// Takes the request (true when there was one). Call it while holding the runner.
    bool take_run_request() const;
    /// True when a run was asked for and no runner has taken the request yet.
    bool run_requested() const;

  private:
    template <class Change> bool transition(const std::string& id, Change change);
    std::string entry_path(const std::string& id) const;
    void write(const queue_entry& entry) const;

    std::string dir_;
};

} // namespace trunkgate
