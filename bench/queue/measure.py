#!/usr/bin/env python3
"""Measures the merge queue of issue 12 against a simulated CI (python3 standard library only);
called by bench/run-queue, which builds trunkgate and finds the 10^5-commit trunk.

Each scenario gets its own hard-linked copy of the trunk with `trunkgate install` run in it and a
policy of one [[queue]] (max_parallel M, batch_size B, runner "auto" or "manual", --runner) in
front of main, whose [[protect]] requires the check `build`; its [[events.endpoint]] is the
simulated CI (bench/queue/ci.py), for refs/heads/trunkgate/queue/* only. CHANGES commits are
imported, each on main's tip adding its own file queue-bench/change-NN; a change drawn bad
(seeded, up front, with probability p) also adds bad/NN, and CI fails every speculative commit
whose tree holds a bad file. All changes are queued with `trunkgate queue add`, one after
another; t0 is when the first add returned (a change is in the queue), and each change's
time-to-land runs from its own add's return to its landing.

A watcher thread (bench/queue/watch.py) polls the server every 10 ms and stamps every change of
the queue's journal, every move of main (its reflog) and every runner at work (the holder of
runner.lock, from /proc/locks). Entries are stamped ended when it first sees them ended.

How the queue moves (--runner):
- auto: as in production. `queue add` and CI's `status set` each start a detached, single-flight
  `queue run`; the bench runs none, except as the systemd timer would: after --tick seconds
  without any change of the journal or of main it runs `trunkgate queue run` and counts whether
  that found work (it should not: work found there is an automatic start that was lost).
- manual: the driver (this process, one thread) is the only one to run `trunkgate queue run`:
  once right after the adds, then whenever CI recorded a status since its last run started, and
  otherwise every --tick seconds. Runs are never concurrent, and a status arriving during a run
  makes another run follow at once.

At the end, once CI's builds have all reported, no runner may still be at work (runner.lock is
free) and no run may be left requested (run-requested), before the repository is removed. The
result is checked against the truth (every good change landed, no bad one, main's final tree),
every commit main's reflog shows main pointed to must carry a green `build` recorded before main
moved there, and `trunkgate queue --format json` must agree with the journal.
"""

import argparse
import datetime
import glob
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import benchlib  # noqa: E402
from ci import CI  # noqa: E402
from watch import Watcher  # noqa: E402

SECRET = "bench-queue-secret"
SECRET_ENV = "BENCH_WEBHOOK_SECRET"
ENDED = ("landed", "ejected", "cancelled")


class Scenario:
    def __init__(self, key, max_parallel, batch_size, probability):
        self.key = key
        self.max_parallel = max_parallel
        self.batch_size = batch_size
        self.probability = probability
        self.refused = None     # the policy's refusal, when this build cannot run it
        self.results = []       # one Outcome per round

    def label(self):
        return (f"({self.key}) max_parallel {self.max_parallel}, batch_size {self.batch_size}, "
                f"p {self.probability:g}")


def nearest_rank(values, fraction):
    """The nearest-rank percentile of values (NaN when there are none)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class Outcome:
    """One run of one scenario: what happened and what was checked."""

    def __init__(self, runner):
        self.runner = runner            # "auto" or "manual"
        self.finished = False
        self.changes = 0
        self.bad = []                   # change numbers drawn bad
        self.landed = 0
        self.ejected = 0
        self.adds_s = 0.0               # the first add's start until the last add returned
        self.total_s = float("nan")     # t0 until the last entry ended
        self.land_s = []                # time-to-land of each landed change (from its add)
        self.landing_ms = []            # landing latency of each move of main
        self.build_ms = []              # build latency of each build CI was asked for
        self.builds = 0                 # distinct speculative commits CI was asked to build
        self.build_requests = 0
        self.red_s = 0.0
        self.red_tips = []
        self.runs = []                  # Run of every `queue run` the bench made
        self.passes_ms = []             # wall time of every hold of runner.lock the watcher saw
        self.runner_cpu_ms = []         # CPU time of every runner process seen at work
        self.runner_starts = 0          # auto: runner processes started (runner.log)
        self.runner_turned_away = 0     # auto: of which found another at work (runner.log)
        self.adds = []                  # benchlib.Outcome of every `queue add`
        self.status_sets = []           # (wall ms, CPU ms) of CI's `status set`
        self.overshoot_ms = []          # how late CI's builds reported, beyond T
        self.problems = []              # failed checks, in words
        self.lost_starts = []           # auto: evidence of an automatic start that was lost
        self.truth = ""                 # "all N good landed, none of the B bad"

    def p50(self):
        return statistics.median(self.land_s) if self.land_s else float("nan")

    def p95(self):
        return nearest_rank(self.land_s, 0.95)

    def per_hour(self):
        return self.landed / self.total_s * 3600 if self.finished and self.total_s else 0.0

    def builds_per_landed(self):
        return self.builds / self.landed if self.landed else float("nan")

    def ticks(self):
        return sum(1 for run in self.runs if run.trigger == "tick")

    def tick_work(self):
        return sum(1 for run in self.runs if run.trigger == "tick" and run.changed)


class Run:
    """One `trunkgate queue run` the bench made: why ("start", "status" or "tick"), its wall
    and CPU time (ms), whether it changed the journal (manual) or found work (auto: it said
    more than that another run is at work), and for a run a status woke, the ms from that
    status set's return to this run's spawn (the driver's wake-up)."""

    def __init__(self, trigger, outcome, changed, wake_ms, spawned):
        self.trigger = trigger
        self.wall_ms = outcome.wall_ms
        self.cpu_ms = outcome.cpu_ms
        self.changed = changed
        self.wake_ms = wake_ms
        self.spawned = spawned


class Bench:
    def __init__(self, args):
        self.args = args
        self.trunkgate = os.path.join(args.bin, "trunkgate")
        self.git = shutil.which("git")
        self.env = benchlib.base_env()
        self.env[SECRET_ENV] = SECRET
        self.ci_env = dict(self.env, TRUNKGATE_USER="ci-bot")
        self.dev_env = dict(self.env, TRUNKGATE_USER="dev")
        self.runner_env = dict(self.env, TRUNKGATE_USER="queue-runner")
        ci_scratch = os.path.join(args.work, "ci")
        os.makedirs(ci_scratch, exist_ok=True)
        self.ci = CI(self.trunkgate, self.ci_env, SECRET, args.build_seconds, ci_scratch)

    def git_in(self, repo, *argv, stdin=None, check=True):
        result = subprocess.run([self.git, "--git-dir", repo, *argv], input=stdin,
                                capture_output=True, env=self.env)
        if check and result.returncode != 0:
            sys.exit(f"bench: git {' '.join(argv)} in {repo}: {result.stderr.decode().strip()}")
        return result.stdout.decode()

    def trunkgate_run(self, argv, env, check=True):
        result = subprocess.run([self.trunkgate, *argv], capture_output=True, text=True, env=env)
        if check and result.returncode != 0:
            sys.exit(f"bench: trunkgate {' '.join(argv)}: exit {result.returncode}\n"
                     f"{result.stdout}{result.stderr}")
        return result

    def policy_text(self, scenario):
        return f"""# bench/run-queue: scenario {scenario.label()}
[[protect]]
refs = ["refs/heads/main"]
required_checks = ["build"]

[checks]
writers = ["ci-bot"]

[[queue]]
target = "refs/heads/main"
method = "rebase"
max_parallel = {scenario.max_parallel}
batch_size = {scenario.batch_size}
runner = "{self.args.runner}"

[events]
deliver = "inline"

[[events.endpoint]]
url = "{self.ci.url()}"
secret_env = "{SECRET_ENV}"
refs = ["refs/heads/trunkgate/queue/*"]
timeout_ms = 5000
"""

    def refusal(self, scenario):
        """The policy's error when this build refuses the scenario's policy, else None."""
        path = os.path.join(self.args.work, f"lint-{scenario.key}.toml")
        with open(path, "w") as handle:
            handle.write(self.policy_text(scenario))
        linted = self.trunkgate_run(["policy", "lint", path], self.env, check=False)
        if linted.returncode == 0:
            return None
        return (linted.stderr.strip() or linted.stdout.strip()).replace(path + ":", "")

    def prepare(self, scenario, round_number, bad):
        """The scenario's server repository, trunkgate installed, main green, the changes
        imported; returns (repo, main's tip, [commit of each change])."""
        repo = os.path.join(self.args.work, f"r{round_number}-{scenario.key}", "server.git")
        shutil.rmtree(os.path.dirname(repo), ignore_errors=True)
        os.makedirs(os.path.dirname(repo))
        subprocess.run(["cp", "-al", self.args.trunk, repo], check=True)
        # Appending to a hard-linked reflog would write into the cache: start without any.
        shutil.rmtree(os.path.join(repo, "logs"), ignore_errors=True)
        self.git_in(repo, "config", "gc.auto", "0")
        self.git_in(repo, "config", "core.logAllRefUpdates", "always")
        policy = os.path.join(os.path.dirname(repo), "policy.toml")
        with open(policy, "w") as handle:
            handle.write(self.policy_text(scenario))
        self.trunkgate_run(["install", "--policy", policy, repo], self.env)
        main = self.git_in(repo, "rev-parse", "refs/heads/main").strip()
        # CI built main's tip before the bench: trunk starts green.
        self.trunkgate_run(["status", "set", "--repo", repo, main, "build", "success"],
                           self.ci_env)
        when = int(time.time())
        stream = []
        for number in range(self.args.changes):
            message = f"queue bench: change {number:02d}\n".encode()
            stream.append(f"commit refs/bench/change-{number:02d}\n"
                          f"author Ada Lovelace <ada@example.com> {when} +0000\n"
                          f"committer Ada Lovelace <ada@example.com> {when} +0000\n".encode())
            stream.append(b"data %d\n%s\n" % (len(message), message))
            stream.append(f"from {main}\n".encode())
            files = [f"queue-bench/change-{number:02d}"]
            if number in bad:
                files.append(f"bad/{number:02d}")
            for path in files:
                blob = f"{path}\n".encode()
                stream.append(f"M 100644 inline {path}\ndata {len(blob)}\n".encode() + blob)
            stream.append(b"\n")
        stream.append(b"done\n")
        self.git_in(repo, "fast-import", "--quiet", "--date-format=raw", stdin=b"".join(stream))
        commits = [self.git_in(repo, "rev-parse", f"refs/bench/change-{n:02d}").strip()
                   for n in range(self.args.changes)]
        return repo, main, commits


def read_journal(repo):
    """{id: entry} from the queue's entry files (docs/queue.md, "Where the queue lives")."""
    entries = {}
    for path in glob.glob(os.path.join(repo, "trunkgate", "queue", "entries", "*.json")):
        with open(path) as handle:
            entry = json.load(handle)
        entries[entry["id"]] = entry
    return entries


def draw_bad(changes, probability, seed):
    """The changes that are bad, decided up front: change n is bad when the n-th draw of a
    random.Random(seed) is below the probability."""
    rng = random.Random(seed)
    return [n for n in range(changes) if rng.random() < probability]


def run_scenario(bench, scenario, round_number):
    args = bench.args
    outcome = Outcome(args.runner)
    outcome.changes = args.changes
    outcome.bad = draw_bad(args.changes, scenario.probability, args.seed)
    repo, initial, commits = bench.prepare(scenario, round_number, set(outcome.bad))
    bench.ci.reset(repo)
    deadline_s = args.changes * (args.build_seconds + 5) * 3 + 60
    watcher = Watcher(repo)
    watcher.start()

    scratch = os.path.join(os.path.dirname(repo), "scratch")
    os.makedirs(scratch)
    adds_started = time.monotonic()
    ids, add_returned, timeline = [], [], []
    for number, commit in enumerate(commits):
        add = benchlib.Command("queue add", [bench.trunkgate, "queue", "add", "--repo", repo,
                                             "--target", "main", commit], bench.dev_env)
        added = add.run(scratch, capture=True)
        add_returned.append(time.monotonic())
        if added.status != 0 or "(id " not in added.stdout:
            sys.exit(f"bench: queue add {commit}: exit {added.status}\n{added.stderr}")
        outcome.adds.append(added)
        ids.append(added.stdout.split("(id ", 1)[1].split(")", 1)[0])
        timeline.append((add_returned[-1], f"queue add change {number:02d}: {ids[-1]}, "
                                           f"{added.wall_ms:.0f} ms"))
    t0 = add_returned[0]  # a change is in the queue
    outcome.adds_s = add_returned[-1] - adds_started
    change_of = {entry_id: number for number, entry_id in enumerate(ids)}

    queue_run = benchlib.Command("queue run", [bench.trunkgate, "queue", "run", "--repo", repo],
                                 bench.runner_env)
    drive = drive_manually if args.runner == "manual" else drive_automatically
    drive(bench, watcher, queue_run, scratch, ids, outcome, timeline, t0 + deadline_s)

    bench.ci.drain()  # builds still running report before anything is read or removed
    settle(bench, watcher, repo, outcome)
    watcher.stop()
    journal = read_journal(repo)
    ended_at = dict(watcher.ended_at)
    if all(i in ended_at for i in ids):
        outcome.total_s = max(ended_at[i] for i in ids) - t0
    runner_log = read_runner_log(repo, outcome)

    for build in bench.ci.builds:
        timeline.append((build.asked_at, f"CI: event for {build.ref} at {build.sha[:7]}"))
        if build.reported_at is not None:
            timeline.append((build.reported_until, f"CI: {build.sha[:7]} build {build.state} "
                                                   f"(status set: {build.status_set_ms:.0f} ms "
                                                   f"until it returned)"))
    timeline += [(when, f"journal: {entry_id} {state}"
                        + (f" {speculative[:7]}" if speculative else "")
                        + (f" (batch {batch})" if batch != entry_id else ""))
                 for when, entry_id, state, speculative, batch in watcher.changes]
    timeline += [(when, f"main moved to {commit[:7]}") for commit, _, when in watcher.moves]
    for hold in watcher.holds:
        cpu = watcher.runner_cpu_ms.get(hold.pid)
        timeline.append((hold.start, f"runner {hold.pid} at work"
                                     + (f" (its process: CPU {cpu:.0f} ms in all)"
                                        if cpu is not None else "")))
        if hold.end is not None:
            timeline.append((hold.end, f"runner {hold.pid} let go after "
                                       f"{(hold.end - hold.start) * 1000:.0f} ms"))
    with open(os.path.join(args.timelines, f"r{round_number}-{scenario.key}.log"), "w") as log:
        log.write(f"# {scenario.label()}, runner {args.runner}, round {round_number}; "
                  f"seconds from t0 (the first queue add returned); watcher stamps are at most "
                  f"10 ms late\n")
        log.writelines(f"{t - t0:8.3f}  {text}\n" for t, text in sorted(timeline,
                                                                         key=lambda x: x[0]))
        if runner_log:
            log.write("\n# runner.log (the detached runners' output)\n" + runner_log)
    check_outcome(bench, repo, initial, outcome, ids, change_of, journal, watcher,
                  add_returned, adds_started, t0, scenario.batch_size)
    shutil.rmtree(os.path.dirname(repo), ignore_errors=True)
    return outcome


def drive_manually(bench, watcher, queue_run, scratch, ids, outcome, timeline, deadline):
    """runner = "manual": the bench's driver is the only one to run `queue run` (module doc)."""
    args = bench.args
    trigger, woke_by = "start", None
    previous = read_journal(watcher.repo)
    while True:
        bench.ci.status_arrived.clear()  # a status during the run makes another run follow
        spawned = time.monotonic()
        ran = queue_run.run(scratch, capture=True)
        returned = time.monotonic()
        if ran.status != 0 or "another queue run is at work" in ran.stdout:
            outcome.problems.append(f"queue run: exit {ran.status}: "
                                    f"{(ran.stdout + ran.stderr).strip()[:300]}")
        journal = read_journal(watcher.repo)
        changed = any((e["state"], e["speculative"]) !=
                      (previous.get(i, {}).get("state"), previous.get(i, {}).get("speculative"))
                      for i, e in journal.items())
        wake_ms = (spawned - woke_by) * 1000 if woke_by is not None else None
        outcome.runs.append(Run(trigger, ran, changed, wake_ms, spawned))
        timeline.append((spawned, f"queue run ({trigger}): {ran.wall_ms:.0f} ms, CPU "
                                  f"{ran.cpu_ms:.0f} ms"))
        timeline += [(returned, "  " + line.split(": ", 1)[-1])
                     for line in ran.stdout.splitlines()]
        previous = journal
        if all(journal.get(i, {}).get("state") in ENDED for i in ids):
            outcome.finished = True
            return
        left = deadline - time.monotonic()
        if left <= 0:
            outcome.problems.append(not_finished(journal, ids, args))
            return
        woke = bench.ci.status_arrived.wait(min(args.tick, left))
        trigger = "status" if woke else "tick"
        with bench.ci.lock:
            woke_by = bench.ci.last_status_at if woke else None


def drive_automatically(bench, watcher, queue_run, scratch, ids, outcome, timeline, deadline):
    """runner = "auto": the queue moves through the runners `queue add` and `status set` start;
    the bench only waits for every entry to end, and after --tick seconds without a change of
    the journal or of main runs `queue run` as the systemd timer would (module doc)."""
    args = bench.args
    quiet_since = time.monotonic()
    while True:
        watcher.progress.clear()  # a change after this wakes the wait below
        if all(state in ENDED for state in watcher.states(ids).values()):
            outcome.finished = True
            return
        now = time.monotonic()
        if now >= deadline:
            outcome.problems.append(not_finished(read_journal(watcher.repo), ids, args))
            return
        with watcher.lock:
            quiet_since = max(quiet_since, watcher.last_change)
        if now - quiet_since < args.tick:
            watcher.progress.wait(min(quiet_since + args.tick, deadline) - now)
            continue
        ran = queue_run.run(scratch, capture=True)
        said = [line.split(": ", 1)[-1] for line in ran.stdout.splitlines()]
        found_work = any("another queue run is at work" not in line for line in said)
        outcome.runs.append(Run("tick", ran, found_work, None, now))
        timeline.append((now, f"TICK: queue run after {args.tick:g} s without a change: "
                              f"{ran.wall_ms:.0f} ms, exit {ran.status}"
                              + (", FOUND WORK" if found_work else "")))
        timeline += [(now, "  " + line) for line in said]
        if ran.status != 0:
            outcome.problems.append(f"queue run (tick): exit {ran.status}: "
                                    f"{(ran.stdout + ran.stderr).strip()[:300]}")
        if found_work:
            outcome.lost_starts.append(f"the timer's queue run found work (timeline: TICK): "
                                       f"{' / '.join(said)[:300]}")
        quiet_since = time.monotonic()


def not_finished(journal, ids, args):
    return (f"not finished in time ({args.changes} changes): " + ", ".join(
        f"{i} {journal.get(i, {}).get('state')}" for i in ids
        if journal.get(i, {}).get("state") not in ENDED))


def settle(bench, watcher, repo, outcome, patience_s=30.0, stranded_s=5.0):
    """Waits until no runner is at work and no run is requested, then confirms it with
    `flock -n runner.lock` (safe now: nothing starts a runner any more). A request that no
    runner takes for stranded_s seconds is an automatic start that was lost."""
    queue_dir = os.path.join(repo, "trunkgate", "queue")
    requested = os.path.join(queue_dir, "run-requested")
    started = time.monotonic()
    stranded_since = None
    calm = 0
    while calm < 3:  # three looks in a row, 50 ms apart
        time.sleep(0.05)
        now = time.monotonic()
        if watcher.runner_at_rest():
            calm += 1
            stranded_since = None
            continue
        calm = 0
        if os.path.exists(requested) and watcher.holder() is None:
            stranded_since = stranded_since or now
            if now - stranded_since >= stranded_s:
                outcome.lost_starts.append(f"run-requested left for {stranded_s:g} s with no "
                                           f"runner at work after every build reported")
                break
        else:
            stranded_since = None
        if now - started >= patience_s:
            outcome.problems.append(f"a runner still at work {patience_s:g} s after every "
                                    f"build reported (pid {watcher.holder()})")
            break
    lock = os.path.join(queue_dir, "runner.lock")
    if os.path.exists(lock):
        free = subprocess.run(["flock", "-n", "-E", "75", lock, "true"]).returncode
        if free != 0:
            outcome.problems.append(f"flock -n runner.lock: exit {free} (a runner holds it) "
                                    f"before the server was removed")
    if os.path.exists(requested):
        outcome.problems.append("run-requested still exists before the server was removed")


def read_runner_log(repo, outcome):
    """The detached runners' log (auto), counted into outcome: runners started, turned away
    (another was at work), and errors (a problem). Returns its text."""
    path = os.path.join(repo, "trunkgate", "queue", "runner.log")
    if not os.path.exists(path):
        return ""
    with open(path, errors="replace") as handle:
        text = handle.read()
    for line in text.splitlines():
        if line.endswith(" queue run"):
            outcome.runner_starts += 1
        elif line.startswith("another queue run is at work"):
            outcome.runner_turned_away += 1
        elif line.startswith("error:") or "not all queued" in line:
            outcome.problems.append(f"runner.log: {line[:300]}")
    return text


def check_outcome(bench, repo, initial, outcome, ids, change_of, journal, watcher,
                  add_returned, adds_started, t0, batch_size):
    """Fills in the outcome's figures and checks them against the truth."""
    ci = bench.ci
    ended_at = watcher.ended_at
    outcome.build_requests = len(ci.builds)
    outcome.builds = len({build.sha for build in ci.builds})
    reported = [b for b in ci.builds if b.status_set_ms is not None]
    outcome.status_sets = [(b.status_set_ms, b.status_set_cpu_ms) for b in reported]
    outcome.overshoot_ms = [(b.reported_at - b.asked_at - bench.args.build_seconds) * 1000
                            for b in reported]
    outcome.passes_ms = [(h.end - h.start) * 1000 for h in watcher.holds if h.end is not None]
    outcome.runner_cpu_ms = list({h.pid: watcher.runner_cpu_ms[h.pid] for h in watcher.holds
                                  if h.pid in watcher.runner_cpu_ms}.values())
    outcome.problems += ci.failures
    if ci.bad_signatures:
        outcome.problems.append(f"{ci.bad_signatures} of {ci.requests} events badly signed")
    # CI hears of every speculative commit the queue publishes (a batch's last), once each:
    # a retry is a fresh commit.
    published, asked = watcher.published_builds(), {build.sha for build in ci.builds}
    if published != asked or outcome.build_requests != len(asked):
        outcome.problems.append(f"the queue put up {len(published)} commits for CI, CI was "
                                f"asked {outcome.build_requests} times for {len(asked)} commits "
                                f"({len(published - asked)} never asked, {len(asked - published)}"
                                f" not seen under test)")
    if batch_size == 1 and sum(journal[i]["builds"] for i in ids) != outcome.build_requests:
        outcome.problems.append(f"the journal counts {sum(journal[i]['builds'] for i in ids)} "
                                f"builds, CI was asked for {outcome.build_requests}")
    bad = set(outcome.bad)
    for index, entry_id in enumerate(ids):
        number, state = change_of[entry_id], journal[entry_id]["state"]
        if state == "landed":
            outcome.landed += 1
            outcome.land_s.append(ended_at[entry_id] - add_returned[index])
        elif state == "ejected":
            outcome.ejected += 1
        if number in bad and state == "landed":
            outcome.problems.append(f"bad change {number:02d} ({entry_id}) landed")
        if number not in bad and state != "landed":
            outcome.problems.append(f"good change {number:02d} ({entry_id}) is {state}: "
                                    f"{journal[entry_id]['reason']}")
    # main's final tree holds exactly the good changes.
    listed = bench.git_in(repo, "ls-tree", "-r", "--name-only", "refs/heads/main", "--",
                          "queue-bench", "bad").split()
    expected = sorted([f"queue-bench/change-{n:02d}" for n in range(outcome.changes)
                       if n not in bad])
    if sorted(listed) != expected:
        outcome.problems.append(f"main's final tree holds {len(listed)} of the bench's files, "
                                f"expected the {len(expected)} good changes' and no bad/")
    good, nbad = outcome.changes - len(bad), len(bad)
    landed_good = sum(1 for i in ids if change_of[i] not in bad
                      and journal[i]["state"] == "landed")
    landed_bad = sum(1 for i in ids if change_of[i] in bad and journal[i]["state"] == "landed")
    outcome.truth = f"{landed_good}/{good} good landed, {landed_bad}/{nbad} bad landed"

    # The public listing agrees with the journal.
    listing = json.loads(bench.trunkgate_run(["queue", "--repo", repo, "--format", "json"],
                                             bench.env).stdout)
    listed_states = {e["id"]: e["state"] for q in listing["queues"] for e in q["entries"]}
    if any(listed_states.get(i) != journal[i]["state"] for i in ids):
        outcome.problems.append("trunkgate queue --format json disagrees with the journal")

    # Red time: every commit main pointed to must carry a green build recorded before main
    # moved there. Moves are stamped by the watcher.
    moves = list(watcher.moves)  # (commit, reflog unix time, when the watcher saw it)
    tips = [(initial, None, adds_started)] + [(c, unix, seen) for c, unix, seen in moves]
    end = t0 + outcome.total_s if outcome.finished else tips[-1][2]
    for index, (commit, moved_unix, since) in enumerate(tips):
        got = bench.trunkgate_run(["status", "get", "--repo", repo, commit, "--format", "json"],
                                  bench.env, check=False)
        build = json.loads(got.stdout).get("build", {}) if got.returncode == 0 else {}
        green = build.get("state") == "success"
        if green and moved_unix is not None:
            green = unix_of(build.get("updated_at", "")) <= moved_unix
        if not green:
            until = tips[index + 1][2] if index + 1 < len(tips) else end
            outcome.red_s += max(0.0, until - since)
            outcome.red_tips.append(commit[:12])
    if outcome.red_tips:
        outcome.problems.append(f"main pointed at {len(outcome.red_tips)} commit(s) without a "
                                f"green build first: {', '.join(outcome.red_tips)}")
    # One move per landed change; a batch lands its changes in one move.
    if len(moves) > outcome.landed or (batch_size == 1 and len(moves) != outcome.landed):
        outcome.problems.append(f"main moved {len(moves)} times for {outcome.landed} landings")

    outcome.landing_ms = landing_latencies(ci.builds, moves)
    outcome.build_ms = build_latencies(ci.builds, watcher, add_returned, outcome.runs)


def landing_latencies(builds, moves):
    """For each move of main, in ms: from the `status set` that let it happen returning to the
    watcher seeing main move. main moves in order, each time to a commit CI reported green, so
    the move to the i-th commit waited for the green builds of that commit and of every commit
    main moved to before it: the last of those reports to return is what let it happen."""
    green_at = {}
    for build in builds:
        if build.state == "success" and build.reported_until is not None:
            green_at[build.sha] = min(green_at.get(build.sha, build.reported_until),
                                      build.reported_until)
    latencies, enabled = [], None
    for commit, _, seen in moves:
        if commit not in green_at:
            continue  # the red-time check reports it
        enabled = green_at[commit] if enabled is None else max(enabled, green_at[commit])
        latencies.append((seen - enabled) * 1000)
    return latencies


def build_latencies(builds, watcher, add_returned, runs):
    """For each build CI was asked for, in ms: from the `queue add` or `status set` that caused
    it returning to its push event reaching CI. The cause is the latest of those that returned
    before the journal first showed the build's commit under test (before the poll preceding
    the one that saw it), leaving out statuses of commits no longer under test when CI started
    reporting them (a dropped build's verdict causes nothing) and counting the timer's runs."""
    causes = list(add_returned)
    causes += [b.reported_until for b in builds if b.reported_until is not None
               and watcher.under_test_at(b.sha, b.reported_at)]
    causes += [run.spawned for run in runs if run.trigger == "tick"]
    causes.sort()
    latencies = []
    for build in builds:
        shown = watcher.first_under_test.get(build.sha, (build.asked_at, build.asked_at))[0]
        before = [c for c in causes if c <= shown]
        if before:
            latencies.append((build.asked_at - before[-1]) * 1000)
    return latencies


def unix_of(text):
    """Seconds since the epoch of an ISO 8601 time such as 2026-11-27T04:50:32+00:00."""
    try:
        return int(datetime.datetime.fromisoformat(text).timestamp())
    except ValueError:
        return 2 ** 62


def median_of(values):
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def figure(value, digits=1):
    return "-" if value != value else f"{value:,.{digits}f}"


def overhead_ms(outcome, build_seconds):
    """Time to land every change beyond CI's, per change, in ms: total / changes - T."""
    return (outcome.total_s / outcome.changes - build_seconds) * 1000


def rounds_median(results, values_of, fraction=None):
    """The median over the rounds of each round's median (or nearest-rank percentile)."""
    if fraction is None:
        return median_of([median_of(values_of(o)) for o in results])
    return median_of([nearest_rank(values_of(o), fraction) for o in results])


def overhead_table(baseline, args):
    """Where the per-change time beyond T goes in the baseline (1): medians over its rounds of
    each part's median."""
    r, build_seconds = baseline.results, args.build_seconds

    def med(values_of):
        return rounds_median(r, values_of)

    def per_change(count_of):
        return figure(median_of([count_of(o) / o.changes for o in r]), 2)

    rows = [
        ["time to land all / changes - T", figure(median_of(
            [overhead_ms(o, build_seconds) for o in r]), 0), "", ""],
        ["landing latency: status set returned -> main moved, p50 / p95",
         figure(med(lambda o: o.landing_ms), 0) + " / "
         + figure(rounds_median(r, lambda o: o.landing_ms, 0.95), 0), "", per_change(
             lambda o: len(o.landing_ms))],
        ["build latency: add or status returned -> event at CI, p50 / p95",
         figure(med(lambda o: o.build_ms), 0) + " / "
         + figure(rounds_median(r, lambda o: o.build_ms, 0.95), 0), "", per_change(
             lambda o: len(o.build_ms))],
    ]
    if args.runner == "auto":
        rows += [
            ["runner pass (runner.lock held, from /proc/locks)", figure(med(
                lambda o: o.passes_ms), 0), "", per_change(lambda o: len(o.passes_ms))],
            ["runner process at work (detached; CPU from /proc, at least)", "",
             figure(med(lambda o: o.runner_cpu_ms), 0), per_change(
                 lambda o: len(o.runner_cpu_ms))],
            ["runner started, found another at work (runner.log)", "", "", per_change(
                lambda o: o.runner_turned_away)],
        ]
    else:
        rows.append(["trunkgate queue run (driver)", figure(med(
            lambda o: [x.wall_ms for x in o.runs]), 0), figure(med(
                lambda o: [x.cpu_ms for x in o.runs]), 0), per_change(lambda o: len(o.runs))])
    rows += [
        ["trunkgate status set (CI's report" + (", starts a runner)" if args.runner == "auto"
                                                else ")"),
         figure(med(lambda o: [w for w, _ in o.status_sets]), 0),
         figure(med(lambda o: [c for _, c in o.status_sets]), 0),
         per_change(lambda o: len(o.status_sets))],
        ["trunkgate queue add" + (" (starts a runner)" if args.runner == "auto" else ""),
         figure(med(lambda o: [a.wall_ms for a in o.adds]), 0),
         figure(med(lambda o: [a.cpu_ms for a in o.adds]), 0), "1.00"],
    ]
    if args.runner == "manual":
        rows.append(["harness: status set returned -> queue run spawned",
                     figure(med(lambda o: [x.wake_ms for x in o.runs if x.wake_ms is not None]),
                            1), "", ""])
    rows.append(["harness: CI reported later than T after the event",
                 figure(med(lambda o: o.overshoot_ms), 1), "", ""])
    return benchlib.Table(["(1) per change", "wall ms", "CPU ms", "per change"], rows, 1)


def table(scenarios, baseline):
    headers = ["scenario", "landed", "ejected", "total s", "vs (1)", "p50 s", "p95 s",
               "changes/h", "builds/landed", "red s"]
    rows = []
    base_total = median_of([o.total_s for o in baseline.results]) if baseline else float("nan")
    for s in scenarios:
        if s.refused:
            rows.append([s.label(), "pending"] + [""] * (len(headers) - 2))
            continue
        r = s.results
        total = median_of([o.total_s for o in r])
        rows.append([
            s.label(),
            "/".join(sorted({f"{o.landed}" for o in r})) + f" of {r[0].changes}",
            "/".join(sorted({f"{o.ejected}" for o in r})),
            figure(total), figure(base_total / total, 2) + "x" if total == total else "-",
            figure(median_of([o.p50() for o in r])), figure(median_of([o.p95() for o in r])),
            figure(median_of([o.per_hour() for o in r]), 0),
            figure(median_of([o.builds_per_landed() for o in r]), 2),
            figure(max(o.red_s for o in r))])
    return benchlib.Table(headers, rows, 1)


def motion_table(scenarios, args):
    """How the queue moved in each scenario: landing and build latency, and its runs."""
    auto = args.runner == "auto"
    headers = ["scenario", "landing p50 ms", "landing p95 ms", "build p50 ms", "build p95 ms"]
    headers += (["runners started", "turned away", "passes", "pass ms", "runner CPU ms"] if auto
                else ["queue runs", "run ms", "run CPU ms"])
    headers.append("ticks (found work)")
    rows = []
    for s in scenarios:
        if s.refused or not s.results:
            continue
        r = s.results
        row = [s.label(),
               figure(rounds_median(r, lambda o: o.landing_ms), 0),
               figure(rounds_median(r, lambda o: o.landing_ms, 0.95), 0),
               figure(rounds_median(r, lambda o: o.build_ms), 0),
               figure(rounds_median(r, lambda o: o.build_ms, 0.95), 0)]
        if auto:
            row += [figure(median_of([o.runner_starts for o in r]), 0),
                    figure(median_of([o.runner_turned_away for o in r]), 0),
                    figure(median_of([len(o.passes_ms) for o in r]), 0),
                    figure(rounds_median(r, lambda o: o.passes_ms), 0),
                    figure(rounds_median(r, lambda o: o.runner_cpu_ms), 0)]
        else:
            row += [figure(median_of([len(o.runs) for o in r]), 0),
                    figure(rounds_median(r, lambda o: [x.wall_ms for x in o.runs]), 0),
                    figure(rounds_median(r, lambda o: [x.cpu_ms for x in o.runs]), 0)]
        row.append("/".join(f"{o.ticks()}({o.tick_work()})" for o in r))
        rows.append(row)
    return benchlib.Table(headers, rows, 1)


def verdicts(bench, by_key):
    """[(target, PASS / MISS / PENDING / NOT RUN, evidence)] for issue 12's targets."""
    args = bench.args
    stated = args.changes == 20 and args.build_seconds == 2
    caveat = "" if stated else f" (the target is stated for 20 changes, T = 2 s; this run: " \
        f"{args.changes} changes, T = {args.build_seconds:g} s)"
    out = []

    def ran(key):
        s = by_key.get(key)
        return s if s and not s.refused and s.results else None

    one, four = ran("1"), ran("2")
    target = (f"{args.changes} changes, p = 0: max_parallel 4 lands all at least 3x faster "
              f"than max_parallel 1, at most 1.1 builds per landed change")
    if one and four:
        ratio = median_of([o.total_s for o in one.results]) / \
            median_of([o.total_s for o in four.results])
        builds = max(o.builds_per_landed() for o in four.results)
        all_landed = all(o.landed == o.changes for o in one.results + four.results)
        ok = ratio >= 3 and builds <= 1.1 and all_landed
        rounds = [a.total_s / b.total_s for a, b in zip(one.results, four.results)]
        out.append((target, "PASS" if ok else "MISS",
                    f"{ratio:.2f}x faster (medians; round by round "
                    f"{', '.join(f'{r:.2f}x' for r in rounds)}), {builds:.2f} builds per landed "
                    f"change (worst round), {'all' if all_landed else 'NOT all'} landed"
                    + caveat))
    else:
        out.append((target, "NOT RUN", "needs scenarios (1) and (2) (BENCH_ONLY)"))
    for key in ("5", "6"):
        s = by_key.get(key)
        target = (f"p = {args.probability:g}, {s.label() if s else key}: every good change "
                  f"lands, no bad one does, trunk red 0 s")
        if not s or (not s.refused and not s.results):
            out.append((target, "NOT RUN", "BENCH_ONLY"))
        elif s.refused:
            out.append((target, "PENDING", "batch_size 4: not supported by this build (policy "
                        "refused it)"))
        else:
            ok = all(not o.problems and o.finished for o in s.results)
            truths = "; ".join(sorted({o.truth for o in s.results}))
            red = max(o.red_s for o in s.results)
            out.append((target, "PASS" if ok else "MISS",
                        f"bad changes {', '.join(f'{n:02d}' for n in s.results[0].bad) or 'none'}"
                        f" (seed {args.seed}); {truths}; red {red:.1f} s"))
    target = "queue overhead beyond CI time, max_parallel 1, p = 0: at most 100 ms per change"
    if one:
        total = median_of([overhead_ms(o, args.build_seconds) for o in one.results])
        landing = rounds_median(one.results, lambda o: o.landing_ms)
        building = rounds_median(one.results, lambda o: o.build_ms)
        out.append((target, "PASS" if total <= 100 else "MISS",
                    f"{total:.0f} ms per change from t0 (the first queue add returned); "
                    f"finer: landing latency p50 {landing:.0f} ms, build latency p50 "
                    f"{building:.0f} ms (the table above)" + caveat))
    else:
        out.append((target, "NOT RUN", "needs scenario (1)"))
    ran_any = [(s, o) for s in by_key.values() if not s.refused for o in s.results]
    if args.runner == "auto":
        lost = [(s, o) for s, o in ran_any if o.lost_starts]
        ticks = sum(o.ticks() for _, o in ran_any)
        out.append(("runner auto: no automatic start lost (the timer's queue run never finds "
                    "work, no run-requested left without a runner)",
                    "PASS" if not lost else "MISS",
                    "; ".join(f"({s.key}): {' | '.join(o.lost_starts)}" for s, o in lost)[:2000]
                    or f"{ticks} timer run(s) in all, none found work"))
    problems = [(s, o) for s, o in ran_any if o.problems]
    out.append(("every scenario: the checks (truth, trunk never red, listing = journal, "
                "signatures, runner at rest and nothing requested at the end)",
                "PASS" if not problems else "MISS",
                "; ".join(f"({s.key}): {' | '.join(o.problems)}" for s, o in problems)[:2000]
                or "no problem in any round"))
    return out


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", required=True, help="directory of the trunkgate binaries")
    parser.add_argument("--trunk", required=True, help="the bare repository to copy")
    parser.add_argument("--work", required=True)
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--timelines", required=True,
                        help="where each scenario's timeline (runs, their output, CI) goes")
    parser.add_argument("--revision", default="unknown")
    parser.add_argument("--command", default="bench/run-queue")
    parser.add_argument("--build-seconds", type=float, default=2.0, help="T")
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--probability", type=float, default=0.1, help="p of (5) and (6)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tick", type=float, default=5.0)
    parser.add_argument("--runner", choices=("auto", "manual"), default="auto",
                        help="the policy's [[queue]] runner, and so who runs queue run")
    parser.add_argument("--only", default="123456")
    return parser.parse_args()


def main():
    args = parse_args()
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.timelines, exist_ok=True)
    p = args.probability
    scenarios = [Scenario("1", 1, 1, 0.0), Scenario("2", 4, 1, 0.0), Scenario("3", 1, 4, 0.0),
                 Scenario("4", 4, 4, 0.0), Scenario("5", 4, 1, p), Scenario("6", 4, 4, p)]
    scenarios = [s for s in scenarios if s.key in args.only]
    bench = Bench(args)
    print(f"bench: seed {args.seed}; T = {args.build_seconds:g} s; {args.changes} changes; "
          f"p = {p:g} draws bad: "
          f"{', '.join(f'{n:02d}' for n in draw_bad(args.changes, p, args.seed)) or 'none'}",
          file=sys.stderr)
    for s in scenarios:
        s.refused = bench.refusal(s) if s.batch_size > 1 else None
        if s.refused:
            print(f"bench: {s.label()}: batch_size {s.batch_size}: not supported by this build "
                  f"(policy refused it: {s.refused})", file=sys.stderr)
    load_before = benchlib.load_average()
    load_samples = [float(load_before.split()[0])]
    started = time.monotonic()
    try:
        for round_number in range(1, args.rounds + 1):
            for s in scenarios:
                if s.refused:
                    continue
                o = run_scenario(bench, s, round_number)
                s.results.append(o)
                load_samples.append(float(benchlib.load_average().split()[0]))
                moved = (f"{o.runner_starts} runners started, {len(o.passes_ms)} passes"
                         if args.runner == "auto" else f"{len(o.runs)} runs")
                print(f"bench: round {round_number}/{args.rounds} {s.label()}: "
                      f"{o.landed} landed, {o.ejected} ejected in {o.total_s:.1f} s, "
                      f"{moved}, {o.builds} builds, {o.ticks()} ticks ({o.tick_work()} found "
                      f"work)" + (f"; LOST STARTS: {' | '.join(o.lost_starts)}"
                                  if o.lost_starts else "")
                      + (f"; PROBLEMS: {' | '.join(o.problems)}" if o.problems else ""),
                      file=sys.stderr)
    finally:
        bench.ci.stop()
    load_after = benchlib.load_average()
    elapsed = time.monotonic() - started
    load_line = (f"before: {load_before}; after: {load_after}; 1 min, sampled after each "
                 f"scenario: {min(load_samples):.2f} to {max(load_samples):.2f} (median "
                 f"{median_of(load_samples):.2f}); {elapsed:.0f} s")

    by_key = {s.key: s for s in scenarios}
    result_table = table(scenarios, by_key.get("1"))
    moved_table = motion_table(scenarios, args)
    parts_table = None
    if by_key.get("1") and by_key["1"].results:
        parts_table = overhead_table(by_key["1"], args)
    checks = verdicts(bench, by_key)
    notes = [f"{s.label()}: pending: batch_size {s.batch_size}: not supported by this build "
             f"(policy refused it: {s.refused})" for s in scenarios if s.refused]
    adds = [o.adds_s for s in scenarios if not s.refused for o in s.results]
    if adds:
        notes.append(f"the {args.changes} `queue add`s, one after another, took "
                     f"{min(adds):.1f} to {max(adds):.1f} s from the first's start to the last's "
                     f"return" + (" (the queue moves meanwhile)" if args.runner == "auto" else
                                  "; with runner manual nothing moves before the driver's "
                                  "first run, after the last"))
    if args.runner == "auto":
        notes.append(f"ticks: `queue run`s the bench made, as a timer would, after "
                     f"{args.tick:g} s without a change of the journal or of main; in brackets "
                     f"those that found work, which means an automatic start was lost (each "
                     f"round)")
    else:
        notes.append(f"ticks: runs the driver made after {args.tick:g} s without a status, in "
                     f"brackets those that changed the queue's journal (each round)")
    lost = [(s, o) for s in scenarios if not s.refused for o in s.results if o.lost_starts]
    print()
    print(result_table.text())
    for note in notes:
        print(f"- {note}")
    print()
    print(moved_table.text())
    print()
    if parts_table:
        print(parts_table.text())
        print()
    for target, verdict, evidence in checks:
        print(f"{verdict:8} {target}\n         {evidence}")
    if lost:
        print(f"\n!!! {sum(len(o.lost_starts) for _, o in lost)} AUTOMATIC START(S) LOST: "
              + "; ".join(f"({s.key}) {x}" for s, o in lost for x in o.lost_starts)
              + " (timelines in bench/out/queue-timelines/)", file=sys.stderr)
    print(f"\nload average {load_line}")
    libraries = [("libgit2", "libgit2-dev"), ("libcurl", "libcurl4-openssl-dev")]
    with open(args.markdown, "w") as md:
        md.write(benchlib.results_header(
            "trunkgate merge queue benchmark (issue 12)",
            f"`{args.command}`, runner {args.runner}, {args.rounds} round(s), medians",
            args.revision, benchlib.versions(bench.git, libraries), load_line))
        md.write(f"T = {args.build_seconds:g} s per build, {args.changes} changes, seed "
                 f"{args.seed}, tick {args.tick:g} s, runner {args.runner}. Times in seconds; "
                 f"t0 is when the first `queue add` returned, time-to-land runs from each "
                 f"change's own add; vs (1) = total time of (1) / this one's.\n\n")
        md.write(result_table.markdown() + "\n\n")
        md.write("\n".join(f"- {note}" for note in notes) + "\n\n")
        md.write(moved_table.markdown() + "\n\n")
        if parts_table:
            md.write(parts_table.markdown() + "\n\n")
        md.write("| target | result | evidence |\n|---|---|---|\n")
        for target, verdict, evidence in checks:
            md.write(f"| {target} | {verdict} | {evidence} |\n")
    print(f"bench: wrote {args.markdown}", file=sys.stderr)


if __name__ == "__main__":
    main()
