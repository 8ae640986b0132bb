#pragma once
// The durable queue of event deliveries: one JSON file per delivery (one event for one
// endpoint), written with temp file, fsync, rename and directory fsync before any attempt.
// Layout under the spool directory: queue/ (waiting or failed), delivered/ (the most recent
// 1,000), dead/ (given up after [events] max_age_hours), events.log (what happened, one line each),
// staging/<push-id>/ (one push's deliveries on their way into queue/, all or none) and
// abandoned/<push-id>/ (what a hook killed while staging left behind; never delivered).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "trunkgate/events/spool_entry.hpp"
#include "trunkgate/util/error.hpp"

namespace trunkgate {

/// A file in a spool area that is not a readable, valid entry: unreadable (EACCES, EIO, ...),
/// not an entry (corrupt JSON, a bad field), or (in queue/) impossible to lock. Listed, reported
/// and logged; never skipped silently, never deleted, never moved.
struct unreadable_entry {
    std::string area;   ///< "queue", "delivered" or "dead"
    std::string id;     ///< the file's name without ".json" (a valid entry's delivery id)
    std::string reason; ///< why, for a person: the error, and for EACCES the file's owner and mode
};

/// What one spool area holds.
struct spool_listing {
    std::vector<spool_entry> entries;         ///< the valid entries, in queue order
    std::vector<unreadable_entry> unreadable; ///< everything else that looks like an entry, by name
};

/// A queued entry that cannot be read, parsed or locked right now; what() is the reason.
class entry_error : public internal_error {
  public:
    entry_error(std::string id, const std::string& reason)
        : internal_error(reason), id_(std::move(id)) {}
    const std::string& id() const noexcept { return id_; }

  private:
    std::string id_;
};

class spool;

/// An entry locked for delivery by this process (flock); released on destruction, also when the
/// process dies, so a killed deliverer never strands an event.
class claimed_entry {
  public:
    claimed_entry(const spool& owner, spool_entry entry, int lock_fd);
    ~claimed_entry();
    claimed_entry(const claimed_entry&) = delete;
    claimed_entry& operator=(const claimed_entry&) = delete;
    claimed_entry(claimed_entry&& other) noexcept;
    spool_entry& entry() { return entry_; }
    /// Writes the entry back to queue/ (after a failed attempt).
    void save();
    /// Moves the entry to delivered/ or dead/.
    void retire(const std::string& area);

  private:
    const spool* owner_;
    spool_entry entry_;
    int lock_fd_;
    bool retired_ = false;
};

class spool {
  public:
    /// Opens (creating when needed) the spool at `dir`. Throws internal_error.
    explicit spool(std::string dir);
    const std::string& dir() const { return dir_; }

    /// Adds a new entry to queue/, durably. Throws internal_error.
    void add(const spool_entry& entry) const;
    /// The entries of one area ("queue", "delivered", "dead") in queue order, and the files in it
    /// that cannot be read or parsed (a file that vanishes meanwhile, retired by another
    /// process, is neither). Logs nothing, changes nothing. Throws file_error when the area
    /// exists but cannot be listed.
    spool_listing list(const std::string& area) const;
    /// Locks a queued entry and reads it; nullopt when another process holds it or it has left
    /// the queue. Throws entry_error when its lock file cannot be opened or locked, or the entry
    /// cannot be read or parsed.
    std::optional<claimed_entry> claim(const std::string& id) const;
    /// Puts a delivered, failed or dead entry back in the queue with the same id and body, due now.
    /// Returns false when no entry has that id. Throws entry_error when it cannot be read.
    bool requeue(const std::string& id, std::int64_t now) const;
    /// Appends one line to events.log.
    void log(const std::string& line) const;
    /// Appends lines to events.log in as few write()s as possible (whole lines each).
    void log_lines(const std::vector<std::string>& lines) const;

    /// Deals with the staging areas of pushes whose hook is gone (killed, or stopped by a
    /// failed publish): a sealed one is published into queue/; one that was never sealed is
    /// moved to abandoned/<push-id>/ and reported to events.log and the system log. Returns one
    /// line per area dealt with. An area whose hook is alive is left alone.
    std::vector<std::string> recover_staged() const;
    /// abandoned/<push-id> areas, with how many entries each holds.
    std::vector<std::pair<std::string, std::size_t>> abandoned() const;

    std::string path(const std::string& area, const std::string& id) const;
    void write(const std::string& area, const spool_entry& entry) const;
    void prune_delivered(std::size_t keep) const;

  private:
    std::string dir_;
};

/// What publishing a staged push did.
struct publish_result {
    std::vector<std::string> published; ///< delivery ids now in queue/, in queue order
    std::size_t left = 0;               ///< still staged (publishing stopped part-way)
    std::string problem;                ///< why publishing stopped; empty when all were published
};

/// One push's deliveries, staged in staging/<push-id>/ (same filesystem as queue/) and then
/// published into queue/ together, so a push's events are queued all or none:
///   stage: add() writes each entry (no fsync yet), seal() makes all of them durable with one
///          syncfs(2) and writes the `sealed` marker durably; a failure here means nothing is
///          queued (discard() removes what was staged);
///   publish: renames each entry into queue/ in order, then fsyncs queue/. A failure part-way
///          leaves the rest staged and sealed: `trunkgate deliver` publishes them later.
/// The hook holds flock on staging/<push-id>.lock throughout, so recover_staged() can tell a
/// live push from the leftovers of a killed one.
class staged_push {
  public:
    /// Creates the staging area for a push of `ref_count` refs. Throws internal_error.
    staged_push(const spool& owner, std::size_t ref_count);
    /// Discards whatever is still staged unless the push was sealed; releases the lock.
    ~staged_push();
    staged_push(const staged_push&) = delete;
    staged_push& operator=(const staged_push&) = delete;

    const std::string& id() const { return id_; }
    std::size_t size() const { return ids_.size(); }
    /// Writes one entry into the staging area. Throws internal_error (e.g. ENOSPC, EACCES).
    void add(const spool_entry& entry);
    /// Makes every staged entry durable and marks the push complete. Throws internal_error.
    void seal();
    /// Moves the sealed entries into queue/. Never throws for a failed rename: see the result.
    publish_result publish();
    /// Removes every staged entry and the staging area (after a failure while staging).
    void discard() noexcept;

  private:
    void add_file(const std::string& name, const std::string& content) const;

    const spool* owner_;
    std::string id_;
    std::string dir_;
    int lock_fd_ = -1;
    bool sealed_ = false;
    std::vector<std::string> ids_;
};

/// For tests: replaces rename(2) when entries are published into queue/ (to fail part-way, as a
/// full disk can); an empty function restores rename(2).
void set_publish_rename(std::function<int(const char* from, const char* to)> rename);

} // namespace trunkgate
