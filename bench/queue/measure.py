#!/usr/bin/env python3
"""Measures the merge queue of issue 12 against a simulated CI (python3 standard library only);
called by bench/run-queue, which builds trunkgate and finds the 10^5-commit trunk.

Each scenario gets its own hard-linked copy of the trunk with `trunkgate install` run in it and a
policy of one [[queue]] (max_parallel M, batch_size B, runner "manual") in front of main, whose
[[protect]] requires the check `build`; its [[events.endpoint]] is the simulated CI
(bench/queue/ci.py), for refs/heads/trunkgate/queue/* only. CHANGES commits are imported, each on
main's tip adding its own file queue-bench/change-NN; a change drawn bad (seeded, up front, with
probability p) also adds bad/NN, and CI fails every speculative commit whose tree holds a bad
file. All changes are queued with `trunkgate queue add`, one after another; t0 is when the last
add returned (every change is in the queue), and the adds are timed on their own.

The driver (this process, one thread) is the only one to run `trunkgate queue run`: once right
after the adds, then whenever CI recorded a status since its last run started, and otherwise
every --tick seconds. Runs are never concurrent, so none is lost to the runner's single-flight
lock, and a status arriving during a run makes another run follow at once. After each run it
reads the queue's journal ($GIT_DIR/trunkgate/queue/entries/, docs/queue.md) and stamps every
entry that ended with the monotonic time the run returned. At the end it checks the result
against the truth (every good change landed, no bad one, main's final tree), every commit main's
reflog shows main pointed to for a green `build` recorded before main moved there, and that
`trunkgate queue --format json` agrees with the journal.
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


class Outcome:
    """One run of one scenario: what happened and what was checked."""

    def __init__(self):
        self.finished = False
        self.changes = 0
        self.bad = []                   # change numbers drawn bad
        self.landed = 0
        self.ejected = 0
        self.total_s = float("nan")     # t0 until the last entry ended
        self.land_s = []                # time-to-land of each landed change
        self.builds = 0                 # distinct speculative commits CI was asked to build
        self.build_requests = 0
        self.red_s = 0.0
        self.red_tips = []
        self.runs = []                  # Run of every `queue run`
        self.adds = []                  # benchlib.Outcome of every `queue add`
        self.status_sets = []           # (wall ms, CPU ms) of CI's `status set`
        self.overshoot_ms = []          # how late CI's builds reported, beyond T
        self.problems = []              # failed checks, in words
        self.truth = ""                 # "all N good landed, none of the B bad"

    def p50(self):
        return statistics.median(self.land_s) if self.land_s else float("nan")

    def p95(self):
        if not self.land_s:
            return float("nan")
        ordered = sorted(self.land_s)  # nearest rank
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]

    def per_hour(self):
        return self.landed / self.total_s * 3600 if self.finished and self.total_s else 0.0

    def builds_per_landed(self):
        return self.builds / self.landed if self.landed else float("nan")

    def tick_work(self):
        return sum(1 for run in self.runs if run.trigger == "tick" and run.changed)


class Run:
    """One `trunkgate queue run` of the driver: why it ran ("start", "status" or "tick"), its
    wall and CPU time (ms), whether the journal changed, and for a run a status woke, the ms
    from that status set's return to this run's spawn (the driver's wake-up)."""

    def __init__(self, trigger, outcome, changed, wake_ms):
        self.trigger = trigger
        self.wall_ms = outcome.wall_ms
        self.cpu_ms = outcome.cpu_ms
        self.changed = changed
        self.wake_ms = wake_ms


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
runner = "manual"

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
    outcome = Outcome()
    outcome.changes = args.changes
    outcome.bad = draw_bad(args.changes, scenario.probability, args.seed)
    repo, initial, commits = bench.prepare(scenario, round_number, set(outcome.bad))
    bench.ci.reset(repo)
    deadline_s = args.changes * (args.build_seconds + 5) * 3 + 60

    scratch = os.path.join(os.path.dirname(repo), "scratch")
    os.makedirs(scratch)
    adds_started = time.monotonic()
    ids = []
    for commit in commits:
        add = benchlib.Command("queue add", [bench.trunkgate, "queue", "add", "--repo", repo,
                                             "--target", "main", commit], bench.dev_env)
        added = add.run(scratch, capture=True)
        if added.status != 0 or "(id " not in added.stdout:
            sys.exit(f"bench: queue add {commit}: exit {added.status}\n{added.stderr}")
        outcome.adds.append(added)
        ids.append(added.stdout.split("(id ", 1)[1].split(")", 1)[0])
    change_of = {entry_id: number for number, entry_id in enumerate(ids)}
    t0 = time.monotonic()  # every change is in the queue

    queue_run = benchlib.Command("queue run", [bench.trunkgate, "queue", "run", "--repo", repo],
                                 bench.runner_env)
    ended_at = {}
    timeline = [(adds_started - t0, f"{len(ids)} x queue add, {(t0 - adds_started) * 1000:.0f}"
                                    f" ms together; t0 when the last returned")]
    trigger, woke_by = "start", None
    previous = read_journal(repo)
    while True:
        bench.ci.status_arrived.clear()  # a status during the run makes another run follow
        spawned = time.monotonic()
        ran = queue_run.run(scratch, capture=True)
        returned = time.monotonic()
        if ran.status != 0 or "another queue run is at work" in ran.stdout:
            outcome.problems.append(f"queue run: exit {ran.status}: "
                                    f"{(ran.stdout + ran.stderr).strip()[:300]}")
        journal = read_journal(repo)
        changed = any((e["state"], e["speculative"]) !=
                      (previous.get(i, {}).get("state"), previous.get(i, {}).get("speculative"))
                      for i, e in journal.items())
        wake_ms = (spawned - woke_by) * 1000 if woke_by is not None else None
        outcome.runs.append(Run(trigger, ran, changed, wake_ms))
        timeline.append((spawned - t0, f"queue run ({trigger}): {ran.wall_ms:.0f} ms, CPU "
                                       f"{ran.cpu_ms:.0f} ms"))
        timeline += [(returned - t0, "  " + line.split(": ", 1)[-1])
                     for line in ran.stdout.splitlines()]
        previous = journal
        for entry_id, entry in journal.items():
            if entry["state"] in ENDED and entry_id not in ended_at:
                ended_at[entry_id] = returned
        if all(journal.get(i, {}).get("state") in ENDED for i in ids):
            outcome.finished = True
            break
        left = t0 + deadline_s - time.monotonic()
        if left <= 0:
            outcome.problems.append(f"not finished after {deadline_s:.0f} s: " + ", ".join(
                f"{i} {journal[i]['state']}" for i in ids if journal[i]["state"] not in ENDED))
            break
        woke = bench.ci.status_arrived.wait(min(args.tick, left))
        trigger = "status" if woke else "tick"
        with bench.ci.lock:
            woke_by = bench.ci.last_status_at if woke else None
    if ended_at:
        outcome.total_s = max(ended_at.values()) - t0

    bench.ci.drain()  # builds still running report before anything is read or removed
    for build in bench.ci.builds:
        timeline.append((build.asked_at - t0, f"CI: event for {build.ref} at {build.sha[:7]}"))
        if build.reported_at is not None:
            timeline.append((build.reported_at - t0, f"CI: {build.sha[:7]} build {build.state}"
                                                     f" (status set: {build.status_set_ms:.0f} ms)"))
    with open(os.path.join(args.timelines, f"r{round_number}-{scenario.key}.log"), "w") as log:
        log.write(f"# {scenario.label()}, round {round_number}; seconds from t0\n")
        log.writelines(f"{t:8.3f}  {text}\n" for t, text in sorted(timeline,
                                                                    key=lambda x: x[0]))
    check_outcome(bench, repo, initial, outcome, ids, change_of, journal, ended_at, t0,
                  scenario.batch_size)
    shutil.rmtree(os.path.dirname(repo), ignore_errors=True)
    return outcome


def check_outcome(bench, repo, initial, outcome, ids, change_of, journal, ended_at, t0,
                  batch_size):
    """Fills in the outcome's figures and checks them against the truth."""
    ci = bench.ci
    outcome.build_requests = len(ci.builds)
    outcome.builds = len({build.sha for build in ci.builds})
    reported = [b for b in ci.builds if b.status_set_ms is not None]
    outcome.status_sets = [(b.status_set_ms, b.status_set_cpu_ms) for b in reported]
    outcome.overshoot_ms = [(b.reported_at - b.asked_at - bench.args.build_seconds) * 1000
                            for b in reported]
    outcome.problems += ci.failures
    if ci.bad_signatures:
        outcome.problems.append(f"{ci.bad_signatures} of {ci.requests} events badly signed")
    # CI hears of every speculative commit the queue publishes: one event per build.
    published = sum(journal[i]["builds"] for i in ids)
    if published != outcome.build_requests:
        outcome.problems.append(f"the queue built {published} speculative commits, CI was "
                                f"asked for {outcome.build_requests}")
    bad = set(outcome.bad)
    for entry_id in ids:
        number, state = change_of[entry_id], journal[entry_id]["state"]
        if state == "landed":
            outcome.landed += 1
            outcome.land_s.append(ended_at[entry_id] - t0)
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
    # moved there. Moves are stamped with the time the run that made them returned.
    moves = []  # (commit, reflog unix time)
    log = os.path.join(repo, "logs", "refs", "heads", "main")
    if os.path.exists(log):
        with open(log) as handle:
            for line in handle:
                head = line.split("\t", 1)[0].split()
                moves.append((head[1], int(head[-2])))
    landed_when = {journal[i]["speculative"]: ended_at[i] for i in ids
                   if journal[i]["state"] == "landed"}
    tips = [(initial, None, t0)] + [(c, unix, landed_when.get(c, t0)) for c, unix in moves]
    end = t0 + (outcome.total_s if outcome.total_s == outcome.total_s else 0)
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


def overhead_table(baseline, build_seconds):
    """Where the per-change time beyond T goes in the baseline (1): medians over its rounds of
    each part's median."""
    r = baseline.results

    def med(values_of):
        return median_of([median_of(values_of(o)) for o in r])

    rows = [
        ["time to land all / changes - T", figure(median_of(
            [overhead_ms(o, build_seconds) for o in r]), 0), "", ""],
        ["trunkgate queue run (driver)", figure(med(lambda o: [x.wall_ms for x in o.runs]), 0),
         figure(med(lambda o: [x.cpu_ms for x in o.runs]), 0),
         figure(median_of([len(o.runs) / o.changes for o in r]), 2)],
        ["trunkgate status set (CI's report)",
         figure(med(lambda o: [w for w, _ in o.status_sets]), 0),
         figure(med(lambda o: [c for _, c in o.status_sets]), 0),
         figure(median_of([len(o.status_sets) / o.changes for o in r]), 2)],
        ["trunkgate queue add (before t0; not in the line above)",
         figure(med(lambda o: [a.wall_ms for a in o.adds]), 0),
         figure(med(lambda o: [a.cpu_ms for a in o.adds]), 0), "1.00"],
        ["harness: status set returned -> queue run spawned",
         figure(med(lambda o: [x.wake_ms for x in o.runs if x.wake_ms is not None]), 1), "",
         ""],
        ["harness: CI reported later than T after the event",
         figure(med(lambda o: o.overshoot_ms), 1), "", ""],
    ]
    return benchlib.Table(["(1) per change", "wall ms", "CPU ms", "per change"], rows, 1)


def table(scenarios, baseline):
    headers = ["scenario", "landed", "ejected", "total s", "vs (1)", "p50 s", "p95 s",
               "changes/h", "builds/landed", "red s", "queue runs", "ticks", "run ms",
               "run CPU ms"]
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
            figure(max(o.red_s for o in r)),
            figure(median_of([len(o.runs) for o in r]), 0),
            "/".join(sorted({f"{sum(1 for x in o.runs if x.trigger == 'tick')}"
                             f"({o.tick_work()})" for o in r})),
            figure(median_of([median_of([x.wall_ms for x in o.runs]) for o in r]), 0),
            figure(median_of([median_of([x.cpu_ms for x in o.runs]) for o in r]), 0)])
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
        adds = median_of([median_of([a.wall_ms for a in o.adds]) for o in one.results])
        out.append((target, "PASS" if total <= 100 else "MISS",
                    f"{total:.0f} ms per change from t0, and {adds:.0f} ms of `queue add` "
                    f"before it (the parts: the table above)" + caveat))
    else:
        out.append((target, "NOT RUN", "needs scenario (1)"))
    problems = [(s, o) for s in by_key.values() if not s.refused for o in s.results
                if o.problems]
    out.append(("every scenario: the checks (truth, trunk never red, listing = journal, "
                "signatures, no busy runner)", "PASS" if not problems else "MISS",
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
    started = time.monotonic()
    try:
        for round_number in range(1, args.rounds + 1):
            for s in scenarios:
                if s.refused:
                    continue
                o = run_scenario(bench, s, round_number)
                s.results.append(o)
                print(f"bench: round {round_number}/{args.rounds} {s.label()}: "
                      f"{o.landed} landed, {o.ejected} ejected in {o.total_s:.1f} s, "
                      f"{len(o.runs)} runs, {o.builds} builds"
                      + (f"; PROBLEMS: {' | '.join(o.problems)}" if o.problems else ""),
                      file=sys.stderr)
    finally:
        bench.ci.stop()
    load_after = benchlib.load_average()
    elapsed = time.monotonic() - started

    by_key = {s.key: s for s in scenarios}
    result_table = table(scenarios, by_key.get("1"))
    parts_table = None
    if by_key.get("1") and by_key["1"].results:
        parts_table = overhead_table(by_key["1"], args.build_seconds)
    checks = verdicts(bench, by_key)
    notes = [f"{s.label()}: pending: batch_size {s.batch_size}: not supported by this build "
             f"(policy refused it: {s.refused})" for s in scenarios if s.refused]
    notes.append(f"ticks: runs the driver made after {args.tick:g} s without a status, in "
                 f"brackets those that changed the queue's journal (each round)")
    print()
    print(result_table.text())
    for note in notes:
        print(f"- {note}")
    print()
    if parts_table:
        print(parts_table.text())
        print()
    for target, verdict, evidence in checks:
        print(f"{verdict:8} {target}\n         {evidence}")
    print(f"\nload average before: {load_before}; after: {load_after}; {elapsed:.0f} s")
    libraries = [("libgit2", "libgit2-dev"), ("libcurl", "libcurl4-openssl-dev")]
    with open(args.markdown, "w") as md:
        md.write(benchlib.results_header(
            "trunkgate merge queue benchmark (issue 12)",
            f"`{args.command}`, {args.rounds} round(s), medians",
            args.revision, benchlib.versions(bench.git, libraries),
            f"before: {load_before}; after: {load_after}; {elapsed:.0f} s"))
        md.write(f"T = {args.build_seconds:g} s per build, {args.changes} changes, seed "
                 f"{args.seed}, driver tick {args.tick:g} s. Times in seconds from t0 (the "
                 f"last `queue add` returned); vs (1) = total time of (1) / this one's.\n\n")
        md.write(result_table.markdown() + "\n\n")
        md.write("\n".join(f"- {note}" for note in notes) + "\n\n")
        if parts_table:
            md.write(parts_table.markdown() + "\n\n")
        md.write("| target | result | evidence |\n|---|---|---|\n")
        for target, verdict, evidence in checks:
            md.write(f"| {target} | {verdict} | {evidence} |\n")
    print(f"bench: wrote {args.markdown}", file=sys.stderr)


if __name__ == "__main__":
    main()
