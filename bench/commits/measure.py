#!/usr/bin/env python3
"""Times the commit rules of issue 3 (python3 standard library only); called by bench/run-commits.

For each scenario prepared under --work (DIR/<id>/repo.git, DIR/<id>/stdin, DIR/<id>/new-commits)
it times, round-robin so drift of the machine hits each alike:
  trunkgate  trunkgate-pre-receive with the policy of bench/commits/ (every rule on);
  floor      the git pipeline that lists the same facts: `git rev-list NEW --not --all |
             git diff-tree --stdin -r --root --pretty=raw | (new blob ids) | git cat-file
             --batch-check`, one `sh -c` process;
  peer       bench/peers/commit-rules.sh, a conventional shell pre-receive hook.
Each is first run once untimed and checked (verdict, output), then timed; peak RSS comes from
separate runs under GNU time (for the import, the timed runs themselves run under it).
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402

FLOOR = ("git rev-list \"$@\" --not --all"
         " | git diff-tree --stdin -r --root --pretty=raw"
         " | awk '/^:/ && ($2 == \"100644\" || $2 == \"100755\") { print $4 }'"
         " | git cat-file --batch-check")

SCENARIOS = [
    # id, title, expected hook exit, text the hook must print, target text, reps key
    ("a", "(a) feature push: create, 10 new commits on main's tip (10^5 history)", 0, [],
     "≤ 20 ms", "fast"),
    ("b", "(b) import: create a branch carrying 10^5 new commits", 1, ["[changed-files]"],
     "≤ 1.5× floor, ≥ 30× faster than peer, ≤ 200 MiB", "import"),
    ("c", "(c) branch pushed 99,999 commits behind trunk (10 new commits)", 1, ["[up-to-date]"],
     "≤ 20 ms", "behind"),
    ("d", "(d) one push creating 1,000 annotated tags", 0, [], "≤ 1 s", "fast"),
]


class Scenario:
    def __init__(self, ident, title, expect_exit, expect_text, target, kind, work, args):
        self.ident = ident
        self.title = title
        self.expect_exit = expect_exit
        self.expect_text = expect_text
        self.target = target
        self.kind = kind
        directory = os.path.join(work, ident)
        self.repo = os.path.join(directory, "repo.git")
        with open(os.path.join(directory, "stdin"), "rb") as handle:
            self.stdin = handle.read()
        with open(os.path.join(directory, "new-commits")) as handle:
            self.new_commits = int(handle.read().strip())
        env = dict(benchlib.base_env(), GIT_DIR=self.repo)
        hook_env = dict(env, TRUNKGATE_POLICY=args.policy, TRUNKGATE_USER="bench")
        tips = [line.split()[1] for line in self.stdin.decode().splitlines()]
        self.hook = benchlib.Command("trunkgate", [args.hook], hook_env, self.stdin, self.repo)
        self.floor = benchlib.Command("floor", ["/bin/sh", "-c", FLOOR, "floor", *tips], env,
                                      b"", self.repo)
        self.peer = benchlib.Command("peer", [args.peer], env, self.stdin, self.repo)
        self.hook_verdict = self.peer_verdict = ""
        self.floor_lines = 0
        self.peer_note = ""


def verdict_of(outcome):
    text = "accept" if outcome.status == 0 else "reject"
    if outcome.status == 0 and "warning" in outcome.stderr:
        text += " (warnings)"
    return text


def verify(item, workdir):
    """One untimed run of each side; stops the benchmark when a verdict is not the expected one
    or the peer disagrees with trunkgate."""
    hook = item.hook.run(workdir, capture=True)
    problems = []
    if hook.status != item.expect_exit:
        problems.append(f"trunkgate exited {hook.status}, expected {item.expect_exit}")
    for text in item.expect_text:
        if text not in hook.stderr:
            problems.append(f"trunkgate's output lacks {text!r}")
    item.hook_verdict = verdict_of(hook)
    floor = item.floor.run(workdir, capture=True)
    if floor.status != 0 or "missing" in floor.stdout:
        problems.append(f"the floor pipeline failed ({floor.status}): {floor.stderr.strip()}")
    item.floor_lines = len(floor.stdout.splitlines())
    if problems:
        sys.exit(f"bench: {item.title}: {'; '.join(problems)}\n{hook.stderr}")
    print(f"bench: {item.ident}: trunkgate {item.hook_verdict} in {hook.wall_ms:.0f} ms; "
          f"floor sized {item.floor_lines} blobs in {floor.wall_ms:.0f} ms", file=sys.stderr)


def verify_peer(item, workdir, timeout=None):
    """Runs the peer once; the verdict must match trunkgate's (the commit rules are the same).
    With a timeout, returns (outcome, samples): the peer's progress, [(seconds, commits)]."""
    env = dict(item.peer.env)
    progress = os.path.join(workdir, "peer-progress")
    if os.path.exists(progress):
        os.unlink(progress)
    env["PEER_PROGRESS"] = progress
    samples = []

    def record(seconds):
        try:
            with open(progress) as handle:
                checked = int(handle.read().strip() or 0)
        except (OSError, ValueError):
            return
        if not samples or samples[-1][1] != checked:
            samples.append((seconds, checked))

    command = benchlib.Command("peer", item.peer.steps[0], env, item.stdin, item.repo)
    outcome = command.run(workdir, capture=True, timeout=timeout, on_poll=record)
    if outcome.timed_out:
        return outcome, samples
    item.peer_verdict = verdict_of(outcome)
    if item.peer_verdict.split()[0] != item.hook_verdict.split()[0]:
        # The peer implements the commit rules only: a push trunkgate rejects for a ref rule
        # (up-to-date) is accepted by it, which is expected and reported.
        if not any(text == "[up-to-date]" for text in item.expect_text):
            sys.exit(f"bench: {item.title}: the peer says {item.peer_verdict}, trunkgate "
                     f"{item.hook_verdict}\n{outcome.stderr}")
    return outcome, item.new_commits


def project(outcome, samples, item):
    """The peer's time for the whole import, from the rate it kept over the second half of its
    run (the first commit, which adds every file, costs one `git cat-file -s` per file and would
    inflate a plain average). Sets item.peer_note; returns milliseconds."""
    seconds = outcome.wall_ms / 1000
    checked = samples[-1][1] if samples else 0
    later = [s for s in samples if s[0] >= seconds / 2] or samples
    if len(later) >= 2 and later[-1][1] > later[0][1]:
        rate = (later[-1][1] - later[0][1]) / (later[-1][0] - later[0][0])
    else:
        rate = max(checked, 1) / seconds
    projected = later[-1][0] + (item.new_commits - checked) / rate if samples else float("inf")
    item.peer_note = (f"stopped after {seconds:.0f} s having checked {checked:,} of "
                      f"{item.new_commits:,} commits (the first one adds 3,000 files); "
                      f"{rate:.0f} commits/s over the second half, projected "
                      f"{projected:,.0f} s for all")
    return projected * 1000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hook", required=True)
    parser.add_argument("--peer", required=True)
    parser.add_argument("--policy", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--reps", type=int, default=21, help="repetitions of (a) and (d)")
    parser.add_argument("--import-reps", type=int, default=3, help="repetitions of (b)")
    parser.add_argument("--behind-reps", type=int, default=7, help="repetitions of (c)")
    parser.add_argument("--peer-timeout", type=float, default=60,
                        help="seconds the peer may spend on the import (b); 0 skips it")
    parser.add_argument("--rss-runs", type=int, default=3)
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--revision", default="unknown")
    parser.add_argument("--command", default="bench/run-commits")
    parser.add_argument("--only", default="abcd", help="scenario ids to run")
    return parser.parse_args()


def startup_commands(args, git, repo):
    """Process start-up floors: /bin/true, git --version and the hook with no update lines."""
    env = dict(benchlib.base_env(), GIT_DIR=repo)
    return [
        benchlib.Command("/bin/true (process start)", [shutil.which("true")], env, b"", repo),
        benchlib.Command("git --version (git start)", [git, "--version"], env, b"", repo),
        benchlib.Command("trunkgate-pre-receive, no update lines", [args.hook],
                         dict(env, TRUNKGATE_POLICY=args.policy, TRUNKGATE_USER="bench"), b"",
                         repo),
    ]


def measure_import(item, workdir, count, args):
    """(b): count runs of trunkgate and the floor, each also the RSS run (seconds per run: GNU
    time's fork is noise), then the peer once, stopped at --peer-timeout and projected."""
    benchlib.time_round_robin([item.hook, item.floor], workdir, count, rss=True)
    if args.peer_timeout > 0:
        outcome, samples = verify_peer(item, workdir, args.peer_timeout)
        if outcome.timed_out:
            item.peer.times_ms.append(project(outcome, samples, item))
            item.peer_verdict = "(timed out)"
        else:
            item.peer.times_ms.append(outcome.wall_ms)
            item.peer.cpu_ms.append(outcome.cpu_ms)
            item.peer_note = "one complete run"
    print(f"bench: b: peer {item.peer_note or 'skipped'}", file=sys.stderr)


def measure(args, scenarios, startup):
    """Checks and times every scenario, then the start-up floors."""
    reps = {"fast": args.reps, "import": args.import_reps, "behind": args.behind_reps}
    with tempfile.TemporaryDirectory(prefix="trunkgate-bench-commits-") as workdir:
        for item in scenarios:
            benchlib.drop_page_cache(item.repo)
            verify(item, workdir)
            count = reps[item.kind]
            if item.kind == "import":
                measure_import(item, workdir, count, args)
                continue
            verify_peer(item, workdir)
            benchlib.measure_round_robin([item.hook, item.floor, item.peer], workdir, count,
                                         min(args.rss_runs, count))
            print(f"bench: {item.ident}: {count} repetitions done", file=sys.stderr)
        benchlib.measure_round_robin(startup, workdir, args.reps, args.rss_runs)


def ms(value):
    """Milliseconds as the tables show them: one decimal below a second, none above."""
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def mib(command):
    """A command's median peak RSS in MiB, or - when none was recorded."""
    return f"{command.peak_mib():.1f}" if command.peaks_kib else "-"


def summary_table(scenarios):
    """Each scenario's medians against the floor and the peer, their peak RSS and target."""
    headers = ["scenario", "new commits", "verdict (trunkgate / peer)", "runs",
               "trunkgate ms", "floor ms", "ratio vs floor", "peer ms", "peer / trunkgate",
               "trunkgate RSS MiB", "floor RSS MiB", "peer RSS MiB", "target"]
    rows = []
    for item in scenarios:
        ours, floor = item.hook.median_ms(), item.floor.median_ms()
        peer = item.peer.median_ms() if item.peer.times_ms else float("nan")
        peer_text = ms(peer) + (" (projected)" if "projected" in item.peer_note else "")
        rows.append([item.title, f"{item.new_commits:,}",
                     f"{item.hook_verdict} / {item.peer_verdict or 'not run'}",
                     str(len(item.hook.times_ms)), ms(ours), ms(floor), f"{ours / floor:.2f}",
                     peer_text, f"{peer / ours:.1f}", mib(item.hook), mib(item.floor),
                     mib(item.peer), item.target])
    return benchlib.Table(headers, rows, 4)


def detail_table(scenarios):
    """Each scenario's CPU medians and wall spread, and the floor's output size."""
    headers = ["scenario", "trunkgate CPU ms", "floor CPU ms", "peer CPU ms",
               "trunkgate p25-p75 ms", "floor p25-p75 ms", "floor output lines"]
    rows = []
    for item in scenarios:
        peer_cpu = f"{item.peer.median_cpu_ms():,.1f}" if item.peer.cpu_ms else "-"
        rows.append([item.title, f"{item.hook.median_cpu_ms():,.1f}",
                     f"{item.floor.median_cpu_ms():,.1f}", peer_cpu, item.hook.spread(),
                     item.floor.spread(), str(item.floor_lines)])
    return benchlib.Table(headers, rows, 1)


def startup_table(startup):
    """The start-up floors' medians, spread and peak RSS."""
    headers = ["command", "median ms", "p25-p75 ms", "CPU ms", "peak RSS MiB"]
    rows = [[c.name, f"{c.median_ms():.2f}", c.spread(), f"{c.median_cpu_ms():.2f}",
             f"{c.peak_mib():.1f}"] for c in startup]
    return benchlib.Table(headers, rows, 1)


def write_results(args, git, load, summary, notes, detail, startup):
    """Writes --markdown: the header lines (load: the load-average text), the tables and the
    notes on the peer."""
    with open(args.markdown, "w") as md:
        md.write(benchlib.results_header(
            "trunkgate commit-rule benchmark (issue 3)",
            f"`{args.command}`, medians of the runs shown "
            f"(after one untimed, checked run of each command)",
            args.revision, benchlib.versions(git, [("libgit2", "libgit2-dev")]), load))
        md.write("Wall-clock medians. ratio = trunkgate / floor (the git pipeline that lists "
                 "the same facts, measured in this run); peer / trunkgate = how many times "
                 "faster trunkgate is than the shell hook. Peak RSS from `/usr/bin/time -f %M` "
                 "(median of the RSS runs; for the floor its largest process).\n\n")
        md.write(summary.markdown() + "\n\n")
        if notes:
            md.write("\n".join(notes) + "\n\n")
        md.write("## CPU time (user + sys) and spread\n\n")
        md.write(detail.markdown() + "\n\n")
        md.write("## Process start-up\n\n")
        md.write(startup.markdown() + "\n")


def main():
    args = parse_args()
    scenarios = [Scenario(*spec, args.work, args) for spec in SCENARIOS if spec[0] in args.only]
    git = shutil.which("git")
    startup = startup_commands(args, git, scenarios[0].repo)
    load_before = benchlib.load_average()
    started = time.monotonic()
    measure(args, scenarios, startup)
    load_after = benchlib.load_average()
    elapsed = time.monotonic() - started

    summary, detail = summary_table(scenarios), detail_table(scenarios)
    startup_rows = startup_table(startup)
    notes = [f"- {item.title}: peer {item.peer_note}" for item in scenarios if item.peer_note]
    print()
    print(summary.text())
    print()
    print(detail.text())
    print()
    print(startup_rows.text())
    for note in notes:
        print(note)
    print(f"\nload average before: {load_before}; after: {load_after}; {elapsed:.0f} s")
    write_results(args, git,
                  f"before: {load_before}; after: {load_after}; measuring took {elapsed:.0f} s",
                  summary, notes, detail, startup_rows)
    print(f"bench: wrote {args.markdown}", file=sys.stderr)


if __name__ == "__main__":
    main()
