#!/usr/bin/env python3
"""Times trunkgate-pre-receive against git's own cost for the same facts (python3 stdlib only).

Called by bench/run, which builds the hook and prepares the repositories. Every command is
spawned directly (no shell), so the wall time is the process's own. Commands run round-robin, one
of each per repetition, so drift of the machine hits every row alike; the table reports medians.

Peak RSS comes from a separate pass through GNU time; bench/benchlib.py (shared with the other
benchmarks) says why and runs the commands.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

import benchlib

ZERO = "0" * 40
RSS_RUNS = 5


class Scenario:
    def __init__(self, label, title, hook, baseline, expect_exit, expect_text, check_baseline):
        self.label = label
        self.title = title
        self.hook = hook
        self.baseline = baseline
        self.expect_exit = expect_exit
        self.expect_text = expect_text          # strings the hook's stderr must contain
        self.check_baseline = check_baseline    # expected stdout lines of the git steps
        self.verdict = ""


def single_walks(label, directory, tips, git):
    """git's cheapest way to both counts of the stale branch: one symmetric-difference walk, in
    the benchmark's repository and in a copy with a commit-graph (as `git gc` leaves a server)."""
    walk = [git, "rev-list", "--left-right", "--count", f"{tips['main']}...{tips['stale']}"]
    return [
        benchlib.Command(
            f"{label}: git rev-list --left-right --count main...stale (one walk)", walk,
            dict(benchlib.base_env(), GIT_DIR=os.path.join(directory, "repo.git"))),
        benchlib.Command(
            f"{label}: the same walk with a commit-graph", walk,
            dict(benchlib.base_env(), GIT_DIR=os.path.join(directory, "graph.git"))),
    ]


def build_scenarios(label, repo, tips, args, git):
    env = benchlib.base_env()
    env["GIT_DIR"] = repo

    def hook(policy, line):
        hook_env = dict(env, TRUNKGATE_POLICY=policy, TRUNKGATE_USER="bench")
        return benchlib.Command("trunkgate", [args.hook], hook_env, stdin=(line + "\n").encode())

    def git_facts(name, branch):
        # What git itself runs to learn the same facts: ahead, behind, contains trunk.
        return benchlib.Command.sequence(name, [
            [git, "rev-list", "--count", f"{tips['main']}..{branch}"],
            [git, "rev-list", "--count", f"{branch}..{tips['main']}"],
            [git, "merge-base", "--is-ancestor", tips["main"], branch],
        ], env)

    behind = int(tips["behind"])
    stale_facts = git_facts("git: rev-list x2 + merge-base", tips["stale"])
    return [
        Scenario(label, "(a) feature push: create, 10 commits on main's tip",
                 hook(args.policy, f"{ZERO} {tips['fresh']} refs/heads/feature/bench-fresh"),
                 git_facts("git: rev-list x2 + merge-base", tips["fresh"]),
                 0, [], ["10", "0"]),
        Scenario(label, "(a') feature push: create, 10 commits, 40 behind main",
                 hook(args.policy, f"{ZERO} {tips['behind40']} refs/heads/feature/bench-b40"),
                 git_facts("git: rev-list x2 + merge-base", tips["behind40"]),
                 0, [], ["10", "40"]),
        Scenario(label, f"(b) stale branch: create, 3 commits, {behind} behind; up-to-date = block",
                 hook(args.policy, f"{ZERO} {tips['stale']} refs/heads/feature/bench-stale"),
                 stale_facts, 1, ["[up-to-date]"], ["3", str(behind)]),
        Scenario(label, "(b') same branch, up-to-date = warn (walks to the fork point)",
                 hook(args.warn_policy, f"{ZERO} {tips['stale']} refs/heads/feature/bench-stale"),
                 stale_facts, 0, ["[up-to-date]", str(behind)], ["3", str(behind)]),
        Scenario(label, "(c) main fast-forward by 10 commits (protected, linear history)",
                 hook(args.policy, f"{tips['main']} {tips['next']} refs/heads/main"),
                 benchlib.Command.sequence("git: merge-base + rev-list --merges", [
                     [git, "merge-base", "--is-ancestor", tips["main"], tips["next"]],
                     [git, "rev-list", "--count", "--merges", f"{tips['main']}..{tips['next']}"],
                 ], env),
                 0, [], ["0"]),
    ]


def verify(item, workdir):
    """One untimed run of each side; fails loudly when the verdict is not the expected one."""
    hook = item.hook.run(workdir, capture=True)
    status, stderr = hook.status, hook.stderr
    problems = []
    if status != item.expect_exit:
        problems.append(f"exit {status}, expected {item.expect_exit}")
    for text in item.expect_text:
        if text not in stderr:
            problems.append(f"stderr lacks {text!r}")
    if problems:
        sys.exit(f"bench: [{item.label}] {item.title}: {'; '.join(problems)}\n{stderr}")
    item.verdict = "accept" if status == 0 else "reject"
    if "warning" in stderr:
        item.verdict += " (warnings)"
    baseline = item.baseline.run(workdir, capture=True)
    printed = [step.stdout.strip() for step in baseline.steps if step.stdout.strip()]
    if printed != item.check_baseline:
        sys.exit(f"bench: [{item.label}] {item.title}: git printed {printed}, "
                 f"expected {item.check_baseline}")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hook", required=True)
    parser.add_argument("--policy", required=True)
    parser.add_argument("--warn-policy", required=True)
    parser.add_argument("--set", action="append", required=True, metavar="LABEL=DIR",
                        help="a prepared repository: DIR/repo.git and DIR/tips")
    parser.add_argument("--reps", type=int, default=21)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--markdown", required=True, help="where to write the results")
    parser.add_argument("--revision", default="unknown", help="trunkgate commit measured")
    return parser.parse_args()


def prepare(args, git):
    """The scenarios and single-walk references of every --set (their packs dropped from the
    page cache), and the start-up floors, measured in the first set's repository."""
    scenarios = []
    references = []
    for spec in args.set:
        label, _, directory = spec.partition("=")
        repo = os.path.join(directory, "repo.git")
        tips = benchlib.read_tips(os.path.join(directory, "tips"))
        benchlib.drop_page_cache(repo)
        scenarios += build_scenarios(label, repo, tips, args, git)
        references += single_walks(label, directory, tips, git)
    first_repo = os.path.join(args.set[0].partition("=")[2], "repo.git")
    floor_env = dict(benchlib.base_env(), GIT_DIR=first_repo)
    hook_env = dict(floor_env, TRUNKGATE_POLICY=args.policy, TRUNKGATE_USER="bench")
    floors = [
        benchlib.Command("/bin/true (process start)", [shutil.which("true")], floor_env),
        benchlib.Command("git --version (git start)", [git, "--version"], floor_env),
        benchlib.Command("trunkgate-pre-receive, no update lines", [args.hook], hook_env,
                         stdin=b""),
    ]
    return scenarios, floors, references


def measure(args, scenarios, timed):
    """Checks every scenario's verdict, then times the commands: warm-up rounds, args.reps
    rounds, then the peak-RSS rounds. Returns the load average before and after the timing."""

    def show_progress(done):
        if sys.stderr.isatty():
            print(f"\rbench: repetition {done}/{args.reps}", end="", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="trunkgate-bench-") as workdir:
        for item in scenarios:
            verify(item, workdir)
        benchlib.warm_up(timed, workdir, args.warmup)
        load_before = benchlib.load_average()
        started = time.monotonic()
        benchlib.time_round_robin(timed, workdir, args.reps, progress=show_progress)
        print(f"\rbench: {args.reps} repetitions in {time.monotonic() - started:.0f} s",
              file=sys.stderr)
        load_after = benchlib.load_average()
        benchlib.record_peaks(timed, workdir, min(args.reps, RSS_RUNS))
    return load_before, load_after


def summary_table(scenarios):
    """Wall medians and peak RSS of each scenario against git's."""
    headers = ["set", "scenario", "verdict", "trunkgate ms", "git ms", "ratio",
               "trunkgate RSS MiB", "git RSS MiB"]
    rows = []
    for s in scenarios:
        ours, theirs = s.hook.median_ms(), s.baseline.median_ms()
        rows.append([s.label, s.title, s.verdict, f"{ours:.1f}", f"{theirs:.1f}",
                     f"{ours / theirs:.2f}", f"{s.hook.peak_mib():.1f}",
                     f"{s.baseline.peak_mib():.1f}"])
    return benchlib.Table(headers, rows, 3)


def detail_table(scenarios, startup_cpu):
    """CPU medians, CPU above the hook's start-up, and wall spread of each scenario."""
    headers = ["set", "scenario", "trunkgate CPU ms", "git CPU ms", "CPU ratio",
               "trunkgate CPU minus no-op ms", "trunkgate p25-p75 ms", "git p25-p75 ms"]
    rows = [[s.label, s.title, f"{s.hook.median_cpu_ms():.1f}",
             f"{s.baseline.median_cpu_ms():.1f}",
             f"{s.hook.median_cpu_ms() / max(s.baseline.median_cpu_ms(), 0.001):.2f}",
             f"{s.hook.median_cpu_ms() - startup_cpu:.1f}",
             "{:.1f}-{:.1f}".format(*s.hook.quartiles_ms()),
             "{:.1f}-{:.1f}".format(*s.baseline.quartiles_ms())] for s in scenarios]
    return benchlib.Table(headers, rows, 2)


def floor_table(commands):
    """Wall and CPU medians and peak RSS of the start-up floors and single-walk references."""
    headers = ["command", "median ms", "p25-p75 ms", "CPU ms", "peak RSS MiB"]
    rows = [[f.name, f"{f.median_ms():.2f}", "{:.2f}-{:.2f}".format(*f.quartiles_ms()),
             f"{f.median_cpu_ms():.2f}", f"{f.peak_mib():.1f}"] for f in commands]
    return benchlib.Table(headers, rows, 1)


def write_results(args, git, loads, summary, detail, floors):
    """Writes --markdown: the header lines, then the three tables with their explanations."""
    load_before, load_after = loads
    with open(args.markdown, "w") as md:
        md.write(benchlib.results_header(
            "trunkgate benchmark results",
            f"`bench/run`, {args.reps} repetitions (+{args.warmup} warm-up), medians",
            args.revision, benchlib.versions(git, [("libgit2", "libgit2-dev")]),
            f"before timing: {load_before}; after: {load_after}", clock=True))
        md.write(f"Wall-clock medians; ratio = trunkgate median / git median. RSS = peak "
                 f"resident set from `/usr/bin/time -f %M`, median of "
                 f"{min(args.reps, RSS_RUNS)} runs; for git, its largest command.\n\n")
        md.write(summary.markdown() + "\n\n")
        md.write("## CPU time (user + sys) and spread\n\n"
                 "CPU medians move little when other work shares the machine; wall medians "
                 "do. \"CPU minus no-op\" subtracts the hook's own start-up (no update "
                 "lines, below): what the push itself cost.\n\n")
        md.write(detail.markdown() + "\n\n")
        md.write("## Floors and single-walk reference\n\n")
        md.write(floors.markdown() + "\n")


def main():
    args = parse_args()
    git = shutil.which("git")
    scenarios, floors, references = prepare(args, git)
    timed = []
    for item in [*floors, *(c for s in scenarios for c in (s.hook, s.baseline)), *references]:
        if not any(item is seen for seen in timed):
            timed.append(item)
    loads = measure(args, scenarios, timed)

    summary = summary_table(scenarios)
    detail = detail_table(scenarios, floors[2].median_cpu_ms())
    floor = floor_table(floors + references)
    print()
    print(summary.text())
    print()
    print(detail.text())
    print()
    print(floor.text())
    print(f"\nload average before timing: {loads[0]}; after: {loads[1]}")
    write_results(args, git, loads, summary, detail, floor)
    print(f"\nbench: wrote {args.markdown}", file=sys.stderr)


if __name__ == "__main__":
    main()
