#!/usr/bin/env python3
"""Times `trunkgate report` over git/git's history and a generated two-year audit log (python3
standard library only); called by bench/run-report.

Expects under --work, prepared by bench/run-report: graph/repo.git (after `git commit-graph write
--reachable`) and no-graph/repo.git (the same files, hard-linked, without the commit-graph), and
expected.json (bench/report/generate.py's counts). First it checks the report: one untimed run
of the JSON form in each copy must give exactly the generated landings (direct and queued),
deployments of each deploy ref, rejected pushes and their rules, bypasses and queue entries, and
the two copies must give the same report. Then it times, round-robin (one run of each per
repetition, after one warm-up round), each run under GNU time for its peak RSS:

  trunkgate report --format json, the whole period (graph, no-graph)
  trunkgate report --format html, the whole period (graph)
  trunkgate report (text, the default 28 days) (graph)
  git rev-list --count --since --until main (graph, no-graph): the period's commits
  git log --format=%at%an --since --until main (graph, no-graph): one pass over them
  wc -l audit.log, and python3 parsing every line of it with json.loads: one pass over the log

and prints the results table (ratios against the baselines of the same copy), also written as
markdown to --markdown, with the raw samples to --raw.
"""

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402

TARGET_MS = 2000
TARGET_MIB = 300
STATES = [("graph", "yes"), ("no-graph", "no")]
JSON_PARSE = "import json,sys\nfor line in open(sys.argv[1]): json.loads(line)\n"


def stamp(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class Bench:
    def __init__(self, args):
        self.args = args
        with open(os.path.join(args.work, "expected.json")) as handle:
            self.expected = json.load(handle)
        self.trunkgate = os.path.join(args.bin, "trunkgate")
        self.git = shutil.which("git")
        self.since = stamp(self.expected["since"])
        self.until = stamp(self.expected["until"])
        self.now = str(self.expected["now"])

    def repo(self, state):
        return os.path.join(self.args.work, state, "repo.git")

    def env(self, repo=None):
        env = dict(benchlib.base_env(), TRUNKGATE_NOW=self.now)
        if repo:
            env["GIT_DIR"] = repo
        return env

    def report(self, state, form, whole=True):
        """`trunkgate report` in a copy: the whole generated period, or the default 28 days."""
        repo = self.repo(state)
        argv = [self.trunkgate, "report", "--repo", repo]
        if whole:
            argv += ["--since", self.since, "--until", self.until]
        if form != "text":
            argv += ["--format", form]
        period = "2 years" if whole else "28 days (default)"
        name = f"trunkgate report --format {form}, {period}"
        return benchlib.Command(name, argv, self.env(), None, repo)

    def git_command(self, state, name, *argv):
        repo = self.repo(state)
        return benchlib.Command(name, [self.git, *argv], self.env(repo), None, repo)

    def audit_log(self):
        return os.path.join(self.repo("graph"), "trunkgate", "audit.log")


def check_report(bench, workdir):
    """Runs the JSON report once in each copy and compares it with what was generated; returns
    the report (graph copy) and the notes for the results file. Stops on a mismatch."""
    reports = {}
    for state, _ in STATES:
        outcome = bench.report(state, "json").run(workdir, capture=True)
        if outcome.status != 0:
            sys.exit(f"bench: trunkgate report ({state}) exited {outcome.status}:\n"
                     f"{outcome.stderr}")
        try:
            reports[state] = json.loads(outcome.stdout)
        except ValueError as error:
            sys.exit(f"bench: trunkgate report ({state}) printed no JSON: {error}\n"
                     f"{outcome.stdout[:2000]}")
        with open(os.path.join(bench.args.work, f"report-{state}.json"), "w") as handle:
            handle.write(outcome.stdout)
    report = reports["graph"]
    expected = bench.expected
    problems = []

    def same(what, ours, generated):
        if ours != generated:
            problems.append(f"{what}: the report says {ours}, the generator made {generated}")

    integration = report.get("integration", {})
    same("landings", integration.get("landings"), expected["landings"])
    same("direct landings", integration.get("direct"), expected["direct"])
    same("queued landings", integration.get("queued"), expected["queued"])
    deployments = {d.get("ref"): d for d in report.get("deployments", [])}
    for ref, count in expected["deployments"].items():
        same(f"deployments of {ref}", deployments.get(ref, {}).get("count"), count)
    rejections = report.get("rejections", {})
    same("rejected pushes", rejections.get("pushes"), expected["rejections"])
    same("rejections by rule",
         {r.get("rule"): r.get("pushes") for r in rejections.get("by_rule", [])},
         expected["by_rule"])
    same("bypasses", len(report.get("bypasses", [])), expected["bypasses"])
    queue = report.get("queue") or {}
    for state in ("landed", "ejected", "cancelled"):
        same(f"queue entries {state}", queue.get(state), expected["queue"][state])
    same("since", report.get("since"), stamp(expected["since"]).replace("Z", "+00:00"))
    same("until", report.get("until"), stamp(expected["until"]).replace("Z", "+00:00"))
    without_path = {s: {k: v for k, v in r.items() if k != "repository"}
                    for s, r in reports.items()}
    if without_path["graph"] != without_path["no-graph"]:
        differing = sorted(k for k in without_path["graph"]
                           if without_path["graph"].get(k) != without_path["no-graph"].get(k))
        problems.append(f"the report differs with and without the commit-graph in: "
                        f"{', '.join(differing)}")
    if problems:
        sys.exit("bench: the report does not give what was generated:\n  "
                 + "\n  ".join(problems))
    return report


def informational(report, expected):
    """Figures the generator can only bound, beside what it made: shown, not checked."""
    ended = report.get("branches", {}).get("ended", [])
    merged = sum(1 for e in ended if e.get("how") == "merged")
    deleted = sum(1 for e in ended if e.get("how") == "deleted")
    lines = [
        f"branch lives ended: report {len(ended):,} ({merged:,} merged, {deleted:,} deleted); "
        f"generated {expected['branches_ended_merged']:,} topic branches merged by their "
        f"landing, {expected['branches_ended_deleted']:,} other branches deleted",
        f"live branches: report {len(report.get('branches', {}).get('live', [])):,} "
        f"(generated {expected['live_feature_branches']:,} feature branches left alive, plus "
        f"git.git's own branches)",
        f"active pushers: {report.get('integration', {}).get('active_pushers')}",
        f"queue builds: report {(report.get('queue') or {}).get('builds')} (generated "
        f"{expected.get('queue_builds')} distinct speculative commits in `built`)",
    ]
    for deploy in report.get("deployments", []):
        lines.append(
            f"{deploy.get('ref')}: {deploy.get('count')} deployments, {deploy.get('failed')} "
            f"failed (generated rollbacks: {expected['rollbacks']} on production), lead time "
            f"median {deploy.get('lead_time', {}).get('median')} s, bands "
            f"{deploy.get('bands')}")
    health = report.get("trunk_health", {})
    lines.append(f"trunk red share: {health.get('red_share')} ({len(health.get('red', []))} "
                 f"red spans)")
    size = report.get("integration", {}).get("size", {})
    lines.append(f"landing size: median {size.get('median')}, p95 {size.get('p95')} commits")
    return lines


def ms(value):
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def results_table(rows, baselines):
    """rows: (command, state, kind). Ratios: against `git log` of the same copy and the Python
    pass over the audit log."""
    headers = ["command", "commit-graph", "median ms", "CPU ms", "p25-p75 ms", "peak RSS MiB",
               "÷ git log", "÷ log parse", "target", "result"]
    table = []
    for command, state, is_report in rows:
        median = command.median_ms()
        git_log = baselines.get(("git log", state), baselines[("git log", "yes")]).median_ms()
        parse = baselines[("parse", "—")].median_ms()
        target, result = "—", "—"
        if is_report and "2 years" in command.name:
            target = f"≤ {TARGET_MS / 1000:.0f} s, ≤ {TARGET_MIB} MiB"
            result = ("PASS" if median <= TARGET_MS and command.peak_mib() <= TARGET_MIB
                      else "MISS")
        table.append([command.name, state, ms(median), ms(command.median_cpu_ms()),
                      command.spread(), f"{command.peak_mib():.1f}",
                      f"{median / git_log:.2f}", f"{median / parse:.2f}", target, result])
    return benchlib.Table(headers, table, 2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--raw", required=True)
    parser.add_argument("--revision", default="")
    parser.add_argument("--command", default="bench/run-report")
    args = parser.parse_args()
    args.work = os.path.abspath(args.work)
    bench = Bench(args)
    expected = bench.expected

    with tempfile.TemporaryDirectory(prefix="trunkgate-bench-report-") as workdir:
        report = check_report(bench, workdir)
        print("bench: the report gives every generated count (landings, deployments, "
              "rejections, bypasses, queue)", file=sys.stderr)
        for form, name in (("html", "report.html"), ("text", "report.txt")):
            outcome = bench.report("graph", form).run(workdir, capture=True)
            if outcome.status != 0:
                sys.exit(f"bench: trunkgate report --format {form} exited {outcome.status}:\n"
                         f"{outcome.stderr}")
            with open(os.path.join(args.work, name), "w") as handle:
                handle.write(outcome.stdout)

        rows = []
        baselines = {}
        for state, graph in STATES:
            rows.append((bench.report(state, "json"), graph, True))
        rows.append((bench.report("graph", "html"), "yes", True))
        rows.append((bench.report("graph", "text", whole=False), "yes", True))
        for state, graph in STATES:
            period = [f"--since={expected['since']}", f"--until={expected['until']}"]
            count = bench.git_command(state, "git rev-list --count --since --until main",
                                      "rev-list", "--count", *period, "refs/heads/main")
            log = bench.git_command(state, "git log --format=%at%an --since --until main",
                                    "log", "--format=%at%an", *period, "refs/heads/main")
            baselines[("git log", graph)] = log
            rows += [(count, graph, False), (log, graph, False)]
        wc = benchlib.Command("wc -l audit.log", [shutil.which("wc"), "-l", bench.audit_log()],
                              bench.env(), None, None)
        parse = benchlib.Command("python3: json.loads of every audit.log line",
                                 [sys.executable, "-c", JSON_PARSE, bench.audit_log()],
                                 bench.env(), None, None)
        baselines[("parse", "—")] = parse
        rows += [(wc, "—", False), (parse, "—", False)]

        commands = [row[0] for row in rows]
        load_before = benchlib.load_average()
        started = time.monotonic()
        benchlib.warm_up(commands, workdir)
        benchlib.time_round_robin(
            commands, workdir, args.reps, rss=True,
            progress=lambda done: print(f"bench: round {done}/{args.reps}", file=sys.stderr))
        load_after = benchlib.load_average()
        print(f"bench: {args.reps} rounds in {time.monotonic() - started:.0f} s",
              file=sys.stderr)

    table = results_table(rows, baselines)
    notes = informational(report, expected)
    size = (f"{expected['audit_log_bytes'] / 1048576:.1f} MiB audit log, "
            f"{expected['audit_log_lines']:,} lines ({expected['pushes']:,} pushes: "
            f"{expected['decisions']['accept']:,} accepted, {expected['decisions']['reject']:,} "
            f"rejected, {expected['decisions']['bypass']:,} bypassed; "
            f"{expected['landed_records']:,} landed records), "
            f"{expected['landings']:,} trunk landings ({expected['queued']:,} by the queue) over "
            f"{expected['trunk_first_parent_commits']:,} first-parent commits, "
            + ", ".join(f"{n:,} deployments of {r}" for r, n in expected["deployments"].items())
            + f", {expected['queue_entries']:,} queue entries, {expected['notes']:,} status "
            f"notes; period {stamp(expected['since'])} to {stamp(expected['until'])}")
    print()
    print(table.text())
    print()
    print(size)
    for line in notes:
        print(f"- {line}")
    print(f"load average before {load_before}, after {load_after}")

    versions = benchlib.versions(bench.git, [("libgit2", "libgit2-dev")])
    header = benchlib.results_header(
        "trunkgate report over git/git (bench/run-report)", args.command, args.revision,
        versions, f"{load_before} before, {load_after} after")
    with open(args.markdown, "w") as handle:
        handle.write(header)
        handle.write(f"- data: {size}\n- {args.reps} repetitions per command, round-robin, "
                     f"each under GNU time; medians\n\n")
        handle.write(table.markdown() + "\n\n")
        handle.write("".join(f"- {line}\n" for line in notes))
    with open(args.raw, "w") as handle:
        json.dump({"expected": expected, "load_before": load_before, "load_after": load_after,
                   "rows": [{"command": c.name, "commit_graph": s, "argv": c.steps,
                             "wall_ms": c.times_ms, "cpu_ms": c.cpu_ms,
                             "peak_kib": c.peaks_kib} for c, s, _ in rows]},
                  handle, indent=2)
        handle.write("\n")


if __name__ == "__main__":
    main()
