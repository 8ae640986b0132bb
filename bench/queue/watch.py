"""The watcher of bench/run-queue (python3 standard library only): a thread that looks at one
server repository every 10 ms and stamps, with the monotonic time it first saw them,

- every change of the queue's journal ($GIT_DIR/trunkgate/queue/entries/*.json): an entry file
  is read again when its inode, mtime or size changed (the store writes each version to a new
  file and renames it over the old one, so a new version always has a new inode);
- every move of main: the lines its reflog ($GIT_DIR/logs/refs/heads/main) gained;
- every runner at work: the process that holds runner.lock, read from /proc/locks without
  taking the lock (taking it, even for a moment, would turn a starting runner away and leave its
  request for nobody), and that process's CPU time from /proc/PID/stat while it lives.

A stamp is at most one interval (10 ms) late. Nothing here writes to the repository.
"""

import json
import os
import threading
import time

ENDED = ("landed", "ejected", "cancelled")
UNDER_TEST = ("testing", "landing")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Hold:
    """One runner at work: the process that held runner.lock, from when to when (monotonic
    seconds, end None while it holds it)."""

    def __init__(self, pid, start):
        self.pid = pid
        self.start = start
        self.end = None


class Watcher:
    def __init__(self, repo, interval=0.01):
        self.repo = repo
        self.interval = interval
        self.entries_dir = os.path.join(repo, "trunkgate", "queue", "entries")
        self.reflog = os.path.join(repo, "logs", "refs", "heads", "main")
        self.lock_path = os.path.join(repo, "trunkgate", "queue", "runner.lock")
        self.lock = threading.Lock()
        self.progress = threading.Event()   # set at every change of the journal or of main
        self.journal = {}                   # id -> entry, as last read
        self.ended_at = {}                  # id -> when first seen ended
        self.changes = []                   # (when, id, state, speculative, batch): its moves
        self.first_under_test = {}          # sha -> (previous poll, poll that first saw it)
        self.left_test = {}                 # sha -> the poll that first saw it no longer tested
        self.last_change = time.monotonic()
        self.moves = []                     # (commit, reflog unix time, when seen)
        self.holds = []                     # Hold of every runner seen at work
        self.runner_cpu_ms = {}             # pid -> its CPU time (user + sys) as last read
        self.polls = 0
        self._keys = {}                     # entry file name -> (inode, mtime ns, size)
        self._reflog_read = 0
        self._lock_id = None                # "maj:min:inode" of runner.lock, as /proc/locks says
        self._watched_pids = {}             # pid -> start time (/proc/PID/stat field 22)
        self._previous_poll = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self):
        self._poll()
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()
        self._poll()

    def _loop(self):
        while not self._stop.wait(self.interval):
            self._poll()

    def _poll(self):
        now = time.monotonic()
        with self.lock:
            self.polls += 1
            changed = self._read_journal(now) | self._read_reflog(now)
            self._watch_runner(now)
            self._previous_poll = now
            if changed:
                self.last_change = now
        if changed:
            self.progress.set()

    def _read_journal(self, now):
        seen = {}
        try:
            with os.scandir(self.entries_dir) as listing:
                for item in listing:
                    if item.name.endswith(".json") and not item.name.startswith("."):
                        info = item.stat()
                        seen[item.name] = (info.st_ino, info.st_mtime_ns, info.st_size)
        except FileNotFoundError:
            return False
        changed = False
        for name, key in seen.items():
            if self._keys.get(name) == key:
                continue
            try:
                with open(os.path.join(self.entries_dir, name)) as handle:
                    entry = json.load(handle)
            except (OSError, ValueError):
                continue  # replaced while read: the next poll reads the new one
            self._keys[name] = key
            before = self.journal.get(entry["id"], {})
            self.journal[entry["id"]] = entry
            if (before.get("state"), before.get("speculative")) == \
                    (entry["state"], entry["speculative"]):
                continue
            changed = True
            if before.get("state") in UNDER_TEST and before.get("speculative") and (
                    entry["state"] not in UNDER_TEST
                    or entry["speculative"] != before["speculative"]):
                self.left_test.setdefault(before["speculative"], now)
            self.changes.append((now, entry["id"], entry["state"], entry["speculative"],
                                 entry.get("batch") or entry["id"]))
            if entry["state"] in ENDED:
                self.ended_at.setdefault(entry["id"], now)
            if entry["state"] in UNDER_TEST and entry["speculative"]:
                self.first_under_test.setdefault(entry["speculative"],
                                                 (self._previous_poll, now))
        return changed

    def _read_reflog(self, now):
        try:
            size = os.stat(self.reflog).st_size
        except FileNotFoundError:
            return False
        if size <= self._reflog_read:
            return False
        with open(self.reflog, "rb") as handle:
            handle.seek(self._reflog_read)
            data = handle.read(size - self._reflog_read)
        complete = data[:data.rfind(b"\n") + 1]  # a line still being written waits
        self._reflog_read += len(complete)
        for line in complete.decode(errors="replace").splitlines():
            head = line.split("\t", 1)[0].split()
            self.moves.append((head[1], int(head[-2]), now))
        return bool(complete)

    def _watch_runner(self, now):
        if self._lock_id is None:
            try:
                info = os.stat(self.lock_path)
            except FileNotFoundError:
                return
            self._lock_id = (f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:"
                             f"{info.st_ino}")
        holder = self.holder()
        current = self.holds[-1] if self.holds and self.holds[-1].end is None else None
        if current and current.pid != holder:
            current.end = now
            current = None
        if holder is not None and current is None:
            self.holds.append(Hold(holder, now))
            self._watched_pids.setdefault(holder, None)
        for pid in list(self._watched_pids):
            self._sample_cpu(pid)

    def holder(self):
        """The pid that holds runner.lock, or None (from /proc/locks; the lock is not taken)."""
        if self._lock_id is None:
            return None
        with open("/proc/locks") as handle:
            for line in handle:
                fields = line.split()
                if "->" in fields:
                    continue  # a process waiting for a lock, not holding it
                if len(fields) >= 6 and fields[5] == self._lock_id:
                    return int(fields[4])
        return None

    def _sample_cpu(self, pid):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                text = handle.read()
        except OSError:
            del self._watched_pids[pid]  # gone: its last reading stays
            return
        command, rest = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:]
        fields = rest.split()  # fields[0] is field 3 of proc(5)
        started = fields[19]
        if command != "trunkgate" or self._watched_pids[pid] not in (None, started):
            del self._watched_pids[pid]  # the pid now belongs to another process
            return
        self._watched_pids[pid] = started
        self.runner_cpu_ms[pid] = (int(fields[11]) + int(fields[12])) * 1000 / CLOCK_TICKS
        if fields[0] == "Z":
            del self._watched_pids[pid]

    # Readers, for the bench's driver and its checks.

    def states(self, ids):
        with self.lock:
            return {i: self.journal.get(i, {}).get("state") for i in ids}

    def published_builds(self):
        """Every commit the queue put up for CI: the speculative commit of each entry seen
        testing as the last of its batch (or alone), whose branch CI hears of."""
        with self.lock:
            return {speculative for _, entry_id, state, speculative, batch in self.changes
                    if state == "testing" and speculative and batch == entry_id}

    def under_test_at(self, sha, when):
        """True when the journal showed sha under test (testing or landing) at `when`, as far
        as the polls can tell: seen by a poll no later than `when`, not yet seen gone."""
        with self.lock:
            first = self.first_under_test.get(sha)
            gone = self.left_test.get(sha)
        return first is not None and first[1] <= when and (gone is None or when < gone)

    def runner_at_rest(self):
        """True when no process holds runner.lock and no run is requested (run-requested)."""
        requested = os.path.exists(os.path.join(self.repo, "trunkgate", "queue",
                                                "run-requested"))
        with self.lock:
            return self.holder() is None and not requested
