#!/usr/bin/env python3
"""Times the history walks of issue 13 (python3 standard library only); called by
bench/run-history.

Expects under --work, prepared by bench/run-history, in no-graph/ (no commit-graph) and graph/
(after `git commit-graph write --reachable`): repo.git, refs-packed.git, refs-loose.git
(optional), post.git and post-refs.git, and the tips file (source, main, behind_tip: 10 new
commits on v2.0.0, pushed_tip: 10 new commits on main's tip, change_refs). Each case times the
same trunkgate command in both copies beside git's command for the same fact in the same copy,
round-robin (one run of each per repetition), after one untimed run of each that must give the
expected verdict, and git's answer where trunkgate prints it:

  1  exact behind count: pre-receive creating a branch at behind_tip, max_behind = 100000 (not
     exceeded, so the walk goes to the fork point); checked with max_behind = 0 and up-to-date
     at warn, whose message must give git's `rev-list --count BRANCH..main`, not "at least".
  2  [commits] rules on that branch (the foundation template, max_behind = 50 blocking, plus
     bench/commits/commits.toml): rejected by up-to-date alone; checked with a
     message_forbidden_pattern that flags every generated commit, which must flag exactly the
     commits of git's `rev-list BRANCH --not --all`.
  3  the 10-commit feature push on main's tip, same policy, and trunkgate-post-receive with
     [events] (inline delivery to a refused loopback port): the event's total_commits must be
     git's count.
  4  the same push into the copies with 100,000 more refs (packed; loose when prepared).

Peak RSS comes from separate runs under GNU time (bench/benchlib.py says why).
"""

import argparse
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402

ZERO = "0" * 40
STATES = [("no-graph", "no"), ("graph", "yes")]
BEHIND_REF = "refs/heads/feature/bench-behind"
PUSHED_REF = "refs/heads/feature/bench-tip"
SECRET = "bench-secret"
# Flags every commit bench/gen-history.py writes ("fix parser (change 12)") and no other rule's
# business: the witness that shows which commits the [commits] rules were given.
WITNESS_PATTERN = r"\(change [0-9]+\)"
RSS_RUNS = 3


def refused_port():
    """A loopback port nothing listens on (connecting to it is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Policies:
    """The policy files of the cases, written under --work and linted."""

    def __init__(self, args, port):
        with open(args.template) as handle:
            template = handle.read()
        with open(args.commit_rules) as handle:
            commit_rules = handle.read()
        behind = replace_line(template, r"^max_behind = .*$", "max_behind = 100000")
        behind_witness = replace_line(template, r"^max_behind = .*$", "max_behind = 0")
        behind_witness = replace_line(behind_witness, r"^\[enforcement\].*$",
                                      "[enforcement]\nup-to-date = \"warn\"")
        commits = template + "\n" + commit_rules
        commits_witness = replace_line(commits, r"^message_forbidden_pattern = .*$",
                                       f"message_forbidden_pattern = '{WITNESS_PATTERN}'")
        events = commits + f"""
# bench/run-history: events on, delivered inline to a port nothing listens on (one refused
# connection per push, no background process left to compete with the next run)
[repository]
full_name = "bench/history"

[events]
spool_dir = "trunkgate/spool-bench"
deliver = "inline"

[[events.endpoint]]
url = "http://127.0.0.1:{port}/hooks/push"
secret_env = "TRUNKGATE_WEBHOOK_SECRET"
"""
        self.port = port
        self.behind = write(args.work, "behind.toml", behind)
        self.behind_witness = write(args.work, "behind-witness.toml", behind_witness)
        self.commits = write(args.work, "commits.toml", commits)
        self.commits_witness = write(args.work, "commits-witness.toml", commits_witness)
        self.events = write(args.work, "events.toml", events)
        for path in (self.behind, self.behind_witness, self.commits, self.commits_witness,
                     self.events):
            subprocess.run([os.path.join(args.bin, "trunkgate"), "policy", "lint", path],
                           check=True, stdout=subprocess.DEVNULL)


def replace_line(text, pattern, replacement):
    """text with the one line matching pattern replaced; stops when there is none."""
    changed, count = re.subn(pattern, replacement, text, count=1, flags=re.MULTILINE)
    if count != 1:
        sys.exit(f"bench: the policy template has no line matching {pattern}")
    return changed


def write(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as handle:
        handle.write(text)
    return path


class Row:
    """One case in one repository state: trunkgate's command beside git's, the target and the
    check run once before timing (check(hook outcome, git outcome) returns problems)."""

    def __init__(self, case, title, state, hook, git, target, passes, check):
        self.case = case
        self.title = title
        self.state = state
        self.hook = hook
        self.git = git
        self.target = target          # text; "" when the issue sets none
        self.passes = passes          # (trunkgate ms, git ms) -> bool, None without a target
        self.check = check
        self.checked = ""             # what the check established, for the notes

    def result(self):
        if self.passes is None:
            return "—"
        return "PASS" if self.passes(self.hook.median_ms(), self.git.median_ms()) else "MISS"


class Bench:
    """The programs, the prepared repositories and the policies."""

    def __init__(self, args):
        self.args = args
        self.tips = benchlib.read_tips(os.path.join(args.work, "tips"))
        self.git = shutil.which("git")
        self.pre_receive = os.path.join(args.bin, "trunkgate-pre-receive")
        self.post_receive = os.path.join(args.bin, "trunkgate-post-receive")
        self.policies = Policies(args, refused_port())

    def repo(self, state, name):
        return os.path.join(self.args.work, state, f"{name}.git")

    def has(self, state, name):
        return os.path.isdir(self.repo(state, name))

    def env(self, repo, policy=None):
        env = dict(benchlib.base_env(), GIT_DIR=repo)
        if policy:
            env.update(TRUNKGATE_POLICY=policy, TRUNKGATE_USER="bench",
                       TRUNKGATE_WEBHOOK_SECRET=SECRET)
        return env

    def hook(self, program, repo, policy, old, new, ref):
        """The hook as git runs it: GIT_DIR, the policy, the user, one update line."""
        return benchlib.Command(os.path.basename(program), [program], self.env(repo, policy),
                                f"{old} {new} {ref}\n".encode(), repo)

    def git_command(self, name, repo, *argv):
        return benchlib.Command(name, [self.git, *argv], self.env(repo), b"", repo)

    def witness(self, repo, policy, line):
        """One untimed, captured run of pre-receive with a witness policy."""
        command = benchlib.Command("witness", [self.pre_receive], self.env(repo, policy),
                                   line.encode(), repo)
        with tempfile.TemporaryDirectory(prefix="trunkgate-bench-history-") as workdir:
            return command.run(workdir, capture=True)


def listed_commits(witness_output):
    """The short ids of the commits the witness policy flagged, in order."""
    return re.findall(r"\[commit-message\] commit ([0-9a-f]{7,40}) ", witness_output)


def same_commits(short_ids, full_ids):
    return (len(short_ids) == len(full_ids)
            and all(any(full.startswith(short) for full in full_ids) for short in short_ids))


def expect_exit(outcome, status, texts=(), absent=()):
    problems = []
    if outcome.status != status:
        problems.append(f"trunkgate exited {outcome.status}, expected {status}")
    problems += [f"trunkgate's output lacks {t!r}" for t in texts if t not in outcome.stderr]
    problems += [f"trunkgate's output has {t!r}" for t in absent if t in outcome.stderr]
    return problems


def behind_check(bench, row_list, row_index, repo, tip):
    """A check for case 1: accepted without an up-to-date finding, and the witness policy's
    message gives git's exact count (git's outcome: the count)."""

    def check(hook, git):
        problems = expect_exit(hook, 0, absent=["[up-to-date]"])
        behind = git.stdout.strip()
        witness = bench.witness(repo, bench.policies.behind_witness,
                                f"{ZERO} {tip} {BEHIND_REF}\n")
        said = re.search(r"\[up-to-date\] warning: branch is (at least )?([0-9]+) commits",
                         witness.stderr)
        if not said or said.group(1) or said.group(2) != behind:
            problems.append(f"git counts {behind} behind; trunkgate's message says "
                            f"{said.group(0) if said else 'nothing'}\n{witness.stderr}")
        row_list[row_index].checked = f"behind {behind} (git, and trunkgate's message)"
        return problems

    return check


def behind_rows(bench):
    """Case 1: the exact behind count of the branch on v2.0.0."""
    tip = bench.tips["behind_tip"]
    rows = []
    for state, graph in STATES:
        repo = bench.repo(state, "repo")
        rows.append(Row(
            "1", "exact behind count, 10 commits on v2.0.0 (max_behind = 100000)", graph,
            bench.hook(bench.pre_receive, repo, bench.policies.behind, ZERO, tip, BEHIND_REF),
            bench.git_command("git rev-list --count BRANCH..main", repo, "rev-list", "--count",
                              f"{tip}..refs/heads/main"),
            "≤ git" if graph == "yes" else "",
            (lambda ours, git: ours <= git) if graph == "yes" else None,
            behind_check(bench, rows, len(rows), repo, tip)))
    return rows


def listing_check(bench, row_list, row_index, repo, policy, line, status, texts):
    """A check for the cases that list new commits: the verdict, and the commits a witness
    policy flags must be the ones git lists (git's outcome: one id per line, or a count)."""

    def check(hook, git):
        problems = expect_exit(hook, status, texts)
        expected = subprocess.run([bench.git, "rev-list", line.split()[1], "--not", "--all"],
                                  env=bench.env(repo), capture_output=True, text=True,
                                  check=True).stdout.split()
        if git.stdout.split() not in (expected, [str(len(expected))]):
            problems.append(f"git printed {git.stdout.strip()!r}")
        flagged = listed_commits(bench.witness(repo, policy, line).stderr)
        if not same_commits(flagged, expected):
            problems.append(f"the [commits] rules saw {flagged}, git lists {expected}")
        row_list[row_index].checked = (f"{len(expected)} new commits (git and the [commits] "
                                       f"rules)")
        return problems

    return check


def commit_rules_rows(bench):
    """Case 2: the [commits] rules on the branch on v2.0.0."""
    tip = bench.tips["behind_tip"]
    rows = []
    for state, graph in STATES:
        repo = bench.repo(state, "repo")
        line = f"{ZERO} {tip} {BEHIND_REF}\n"
        rows.append(Row(
            "2", "[commits] rules, same branch (rejected by up-to-date at 50)", graph,
            bench.hook(bench.pre_receive, repo, bench.policies.commits, ZERO, tip, BEHIND_REF),
            bench.git_command("git rev-list BRANCH --not --all", repo, "rev-list", tip,
                              "--not", "--all"),
            "≤ 50 ms" if graph == "yes" else "",
            (lambda ours, git: ours <= 50) if graph == "yes" else None,
            listing_check(bench, rows, len(rows), repo, bench.policies.commits_witness, line, 1,
                          ["1 problem", "[up-to-date]"])))
    return rows


def event_check(bench, row_list, row_index, repo):
    """post-receive queued one event whose total_commits is git's count of new commits."""

    def check(hook, git):
        problems = expect_exit(hook, 0, [f"1 event queued for 127.0.0.1:{bench.policies.port}"])
        entries = glob.glob(os.path.join(repo, "trunkgate", "spool-bench", "queue", "*.json"))
        if len(entries) != 1:
            return problems + [f"{len(entries)} queued events, expected 1"]
        with open(entries[0]) as handle:
            entry = json.load(handle)
        total = next((h.partition(":")[2].strip() for h in entry.get("headers", [])
                      if h.lower().startswith("x-trunkgate-total-commits:")), None)
        if total != git.stdout.strip():
            problems.append(f"the event has total_commits {total}, git counts "
                            f"{git.stdout.strip()}")
        row_list[row_index].checked = f"event total_commits {total} (git: {git.stdout.strip()})"
        return problems

    return check


def push_rows(bench, case, repo_name, post_name, title, target_text, passes):
    """Cases 3 and 4: pre-receive of the 10-commit push into repo_name, and post-receive with
    [events] in post_name (when prepared), in both states."""
    tip = bench.tips["pushed_tip"]
    line = f"{ZERO} {tip} {PUSHED_REF}\n"
    rows = []
    for state, graph in STATES:
        repo = bench.repo(state, repo_name)
        count = ["--count"] if case == "4" else []
        rows.append(Row(
            case, title, graph,
            bench.hook(bench.pre_receive, repo, bench.policies.commits, ZERO, tip, PUSHED_REF),
            bench.git_command(" ".join(["git rev-list", *count, "NEW --not --all"]), repo,
                              "rev-list", *count, tip, "--not", "--all"),
            target_text, passes,
            listing_check(bench, rows, len(rows), repo, bench.policies.commits_witness, line, 0,
                          [])))
    if not post_name:
        return rows
    for state, graph in STATES:
        repo = bench.repo(state, post_name)
        rows.append(Row(
            case, "post-receive with [events], same push", graph,
            bench.hook(bench.post_receive, repo, bench.policies.events, ZERO, tip, PUSHED_REF),
            bench.git_command("git rev-list --count NEW --not --exclude=REF --all", repo,
                              "rev-list", "--count", tip, "--not", f"--exclude={PUSHED_REF}",
                              "--all"),
            "", None, event_check(bench, rows, len(rows), repo)))
    return rows


def cases(bench):
    """The rows of every case asked for, by case id."""
    only = bench.args.only
    chosen = {}
    if "1" in only:
        chosen["1"] = behind_rows(bench)
    if "2" in only:
        chosen["2"] = commit_rules_rows(bench)
    if "3" in only:
        chosen["3"] = push_rows(bench, "3", "repo", "post",
                                "feature push, 10 commits on main's tip", "≤ 20 ms",
                                lambda ours, git: ours <= 20)
    if "4" in only:
        refs = f"{int(bench.tips['change_refs']):,}"
        chosen["4"] = push_rows(bench, "4", "refs-packed", "post-refs",
                                f"same push, {refs} more refs (packed)", "≤ 2× git",
                                lambda ours, git: ours <= 2 * git)
        if bench.has("no-graph", "refs-loose"):
            chosen["4"] += push_rows(bench, "4", "refs-loose", None,
                                     f"same push, {refs} more refs (loose)", "≤ 2× git",
                                     lambda ours, git: ours <= 2 * git)
    return chosen


def startup_commands(bench):
    """The start-up floors: git --version and pre-receive with no update lines."""
    repo = bench.repo("no-graph", "repo")
    return [
        benchlib.Command("git --version (git start)", [bench.git, "--version"],
                         bench.env(repo), b"", repo),
        benchlib.Command("trunkgate-pre-receive, no update lines", [bench.pre_receive],
                         bench.env(repo, bench.policies.commits), b"", repo),
    ]


def measure(bench, chosen, startup):
    """Per case: checks every row once, then times its commands round-robin. Case 3 (tens of
    ms) gets a warm-up round, --reps rounds and separate peak-RSS rounds; the cases that cost
    in proportion to the history or the refs (1, 2, 4: seconds per run) get --walk-reps rounds
    run under GNU time, whose fork is noise there, after the check run that warmed them."""
    args = bench.args
    with tempfile.TemporaryDirectory(prefix="trunkgate-bench-history-") as workdir:
        for case, rows in chosen.items():
            for row in rows:
                benchlib.drop_page_cache(row.hook.cwd)
            for row in rows:
                hook = row.hook.run(workdir, capture=True)
                git = row.git.run(workdir, capture=True)
                problems = row.check(hook, git)
                if problems:
                    sys.exit(f"bench: ({case}) {row.title}, commit-graph {row.state}: "
                             + "; ".join(problems) + f"\n{hook.stderr}")
            started = time.monotonic()
            commands = [c for row in rows for c in (row.hook, row.git)]
            if case == "3":
                reps = args.reps
                benchlib.measure_round_robin(commands, workdir, reps, min(RSS_RUNS, reps))
            else:
                reps = args.walk_reps
                benchlib.time_round_robin(commands, workdir, reps, rss=True)
            print(f"bench: ({case}) {reps} repetitions in {time.monotonic() - started:.0f} s",
                  file=sys.stderr)
        benchlib.measure_round_robin(startup, workdir, args.reps, RSS_RUNS)


def ms(value):
    """Milliseconds as the tables show them: one decimal below a second, none above."""
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def summary_table(rows):
    headers = ["case", "commit-graph", "trunkgate command", "git command", "trunkgate ms",
               "git ms", "ratio", "trunkgate RSS MiB", "git RSS MiB", "target", "result"]
    table = []
    for row in rows:
        ours, theirs = row.hook.median_ms(), row.git.median_ms()
        table.append([f"({row.case}) {row.title}", row.state, row.hook.name, row.git.name,
                      ms(ours), ms(theirs), f"{ours / theirs:.2f}",
                      f"{row.hook.peak_mib():.1f}", f"{row.git.peak_mib():.1f}",
                      row.target or "—", row.result()])
    return benchlib.Table(headers, table, 4)


def detail_table(rows):
    headers = ["case", "commit-graph", "trunkgate command", "runs", "trunkgate CPU ms",
               "git CPU ms", "trunkgate p25-p75 ms", "git p25-p75 ms"]
    return benchlib.Table(headers, [
        [f"({row.case}) {row.title}", row.state, row.hook.name, str(len(row.hook.times_ms)),
         ms(row.hook.median_cpu_ms()), ms(row.git.median_cpu_ms()), row.hook.spread(),
         row.git.spread()] for row in rows], 3)


def startup_table(startup):
    headers = ["command", "median ms", "p25-p75 ms", "CPU ms", "peak RSS MiB"]
    return benchlib.Table(headers, [
        [c.name, f"{c.median_ms():.1f}", c.spread(), f"{c.median_cpu_ms():.1f}",
         f"{c.peak_mib():.1f}"] for c in startup], 1)


def history_line(bench):
    """What history was measured: its source, commits on main and refs."""
    repo = bench.repo("no-graph", "repo")
    count = subprocess.run([bench.git, "rev-list", "--count", "refs/heads/main"],
                           env=bench.env(repo), capture_output=True, text=True).stdout.strip()
    refs = subprocess.run([bench.git, "for-each-ref", "--format=x"], env=bench.env(repo),
                          capture_output=True, text=True).stdout.count("\n")
    commits = subprocess.run([bench.git, "rev-list", "--count", "--all"], env=bench.env(repo),
                             capture_output=True, text=True).stdout.strip()
    return (f"history: {bench.tips['source']}: {int(commits):,} commits, {int(count):,} on "
            f"main, {refs:,} refs (before the {int(bench.tips['change_refs']):,} change refs "
            f"of case 4)")


def checked_notes(rows):
    """What the checks before timing established, one line per case row (both states)."""
    found = {}
    for row in rows:
        found.setdefault(f"({row.case}) {row.title}", {})[row.state] = row.checked
    notes = []
    for key, by_state in found.items():
        if len(set(by_state.values())) == 1:
            notes.append(f"{key}: checked before timing, with and without a commit-graph: "
                         f"{next(iter(by_state.values()))}")
        else:
            notes.append(f"{key}: checked before timing: " + "; ".join(
                f"commit-graph {state}: {text}" for state, text in by_state.items()))
    return notes


def write_results(bench, header, tables, notes):
    summary, detail, startup = tables
    with open(bench.args.markdown, "w") as md:
        md.write(header)
        md.write("Wall-clock medians; ratio = trunkgate / git in the same repository state. "
                 "commit-graph yes = after `git commit-graph write --reachable` (the pushed "
                 "commits are not in it, as on a server). Targets are issue 13's; — where it "
                 "sets none. Peak RSS from `/usr/bin/time -f %M`: for case 3 the median of "
                 f"{RSS_RUNS} separate runs, for the others that of the timed runs.\n\n")
        md.write(summary.markdown() + "\n\n")
        md.write("\n".join(f"- {note}" for note in notes) + "\n\n")
        md.write("## CPU time (user + sys) and spread\n\n" + detail.markdown() + "\n\n")
        md.write("## Process start-up\n\n" + startup.markdown() + "\n")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", required=True, help="directory of the trunkgate binaries")
    parser.add_argument("--template", required=True, help="the foundation policy template")
    parser.add_argument("--commit-rules", required=True, help="the [commits] table to add")
    parser.add_argument("--work", required=True)
    parser.add_argument("--reps", type=int, default=21, help="repetitions of case 3")
    parser.add_argument("--walk-reps", type=int, default=7, help="repetitions of 1, 2 and 4")
    parser.add_argument("--only", default="1234")
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--revision", default="unknown")
    parser.add_argument("--command", default="bench/run-history")
    return parser.parse_args()


def main():
    args = parse_args()
    bench = Bench(args)
    chosen = cases(bench)
    rows = [row for case_rows in chosen.values() for row in case_rows]
    startup = startup_commands(bench)
    history = history_line(bench)
    load_before = benchlib.load_average()
    started = time.monotonic()
    measure(bench, chosen, startup)
    elapsed = time.monotonic() - started
    load_after = benchlib.load_average()

    tables = summary_table(rows), detail_table(rows), startup_table(startup)
    notes = [history] + checked_notes(rows)
    for table in tables:
        print()
        print(table.text())
    print()
    for note in notes:
        print(note)
    load = f"before: {load_before}; after: {load_after}; measuring took {elapsed:.0f} s"
    print(f"\nload average {load}")
    header = benchlib.results_header(
        "trunkgate history-walk benchmark (issue 13)",
        f"`{args.command}`, medians of the runs shown (after one untimed, checked run of "
        f"each command)", args.revision,
        benchlib.versions(bench.git, [("libgit2", "libgit2-dev")]), load)
    write_results(bench, header, tables, notes)
    print(f"bench: wrote {args.markdown}", file=sys.stderr)


if __name__ == "__main__":
    main()
