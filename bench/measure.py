#!/usr/bin/env python3
"""Times trunkgate-pre-receive against git's own cost for the same facts (python3 stdlib only).

Called by bench/run, which builds the hook and prepares the repositories. Every command is
spawned directly (no shell), so the wall time is the process's own. Commands run round-robin, one
of each per repetition, so drift of the machine hits every row alike; the table reports medians.

Peak RSS comes from a separate pass through GNU time (`/usr/bin/time -f %M`). It cannot come from
our own wait4(): Linux carries the pre-exec image's high-water mark into ru_maxrss, so every child
of this ~14 MiB Python process would report at least ~14 MiB. GNU time forks from a ~1 MiB image.
"""

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ZERO = "0" * 40
GNU_TIME = "/usr/bin/time"
RSS_RUNS = 5


class Command:
    """One timed thing: a list of argv run one after another (their times add up)."""

    def __init__(self, name, steps, env, stdin=None):
        self.name = name
        self.steps = steps
        self.env = env
        self.stdin = stdin  # bytes fed to the first step, or None
        self.times_ms = []
        self.cpu_ms = []
        self.peaks_kib = []

    def run_once(self, workdir, capture=False, rss=False):
        """Runs every step; returns the total wall time in ms and, when capture is set,
        [(exit status, stdout, stderr)]. With rss, records the largest step's peak RSS instead
        (the steps then run under GNU time, so that wall time is not the command's)."""
        results = []
        total_ns = 0
        cpu_s = 0.0
        peak_kib = 0
        for index, argv in enumerate(self.steps):
            stdin_path = os.devnull
            if self.stdin is not None and index == 0:
                stdin_path = os.path.join(workdir, "stdin")
                with open(stdin_path, "wb") as stdin_file:
                    stdin_file.write(self.stdin)
            out_path = os.path.join(workdir, "stdout") if capture else os.devnull
            err_path = os.path.join(workdir, "stderr") if capture else os.devnull
            actions = [
                (os.POSIX_SPAWN_OPEN, 0, stdin_path, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
                (os.POSIX_SPAWN_OPEN, 2, err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
            ]
            rss_path = os.path.join(workdir, "rss")
            if rss:
                argv = [GNU_TIME, "-f", "%M", "-o", rss_path, *argv]
            start = time.perf_counter_ns()
            pid = os.posix_spawn(argv[0], argv, self.env, file_actions=actions)
            _, status, usage = os.wait4(pid, 0)
            total_ns += time.perf_counter_ns() - start
            cpu_s += usage.ru_utime + usage.ru_stime
            if rss:
                with open(rss_path) as rss_file:
                    peak_kib = max(peak_kib, int(rss_file.read().split()[-1]))
            if capture:
                with open(out_path, "rb") as out, open(err_path, "rb") as err:
                    results.append((os.waitstatus_to_exitcode(status), out.read().decode(),
                                    err.read().decode()))
        if rss:
            self.peaks_kib.append(peak_kib)
        return total_ns / 1e6, cpu_s * 1e3, results

    def peak_mib(self):
        return statistics.median(self.peaks_kib) / 1024

    def median_ms(self):
        return statistics.median(self.times_ms)

    def median_cpu_ms(self):
        return statistics.median(self.cpu_ms)

    def quartiles_ms(self):
        if len(self.times_ms) < 2:
            return self.times_ms[0], self.times_ms[0]
        q = statistics.quantiles(self.times_ms, n=4, method="inclusive")
        return q[0], q[2]


def read_tips(path):
    tips = {}
    with open(path) as handle:
        for line in handle:
            key, _, value = line.strip().partition("=")
            if key:
                tips[key] = value
    return tips


def base_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "TRUNKGATE_"))}
    env["LC_ALL"] = "C"
    return env


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
        Command(f"{label}: git rev-list --left-right --count main...stale (one walk)", [walk],
                dict(base_env(), GIT_DIR=os.path.join(directory, "repo.git"))),
        Command(f"{label}: the same walk with a commit-graph", [walk],
                dict(base_env(), GIT_DIR=os.path.join(directory, "graph.git"))),
    ]


def drop_page_cache(repo):
    """Evicts the repository's packs from the page cache (those files only), so every run starts
    from the same state. Peak RSS counts the pages of the mapped pack and .idx that a process
    touched, and how many pages one fault maps depends on what is cached: after a sequential read
    of the .idx (cp, cat, a backup) the kernel holds it in large folios and the same 10-commit
    push into the 10^6-commit repository counted 49 MiB instead of 14 MiB."""
    pack_dir = os.path.join(repo, "objects", "pack")
    for name in os.listdir(pack_dir):
        fd = os.open(os.path.join(pack_dir, name), os.O_RDONLY)
        try:
            os.fsync(fd)  # dirty pages would stay cached
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def load_average():
    with open("/proc/loadavg") as loadavg:
        return " ".join(loadavg.read().split()[:3])


def build_scenarios(label, repo, tips, args, git):
    env = base_env()
    env["GIT_DIR"] = repo

    def hook(policy, line):
        hook_env = dict(env, TRUNKGATE_POLICY=policy, TRUNKGATE_USER="bench")
        return Command("trunkgate", [[args.hook]], hook_env, stdin=(line + "\n").encode())

    def git_facts(name, branch):
        # What git itself runs to learn the same facts: ahead, behind, contains trunk.
        return Command(name, [
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
                 Command("git: merge-base + rev-list --merges", [
                     [git, "merge-base", "--is-ancestor", tips["main"], tips["next"]],
                     [git, "rev-list", "--count", "--merges", f"{tips['main']}..{tips['next']}"],
                 ], env),
                 0, [], ["0"]),
    ]


def verify(item, workdir):
    """One untimed run of each side; fails loudly when the verdict is not the expected one."""
    _, _, results = item.hook.run_once(workdir, capture=True)
    status, _, stderr = results[0]
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
    _, _, results = item.baseline.run_once(workdir, capture=True)
    printed = [out.strip() for _, out, _ in results if out.strip()]
    if printed != item.check_baseline:
        sys.exit(f"bench: [{item.label}] {item.title}: git printed {printed}, "
                 f"expected {item.check_baseline}")


def machine():
    info = {}
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    mem_kib = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    cpu = info.get("model name", "unknown CPU")
    if "cpu MHz" in info:
        cpu += f", {float(info['cpu MHz']):.0f} MHz"
    if "hypervisor" in info.get("flags", "").split():
        cpu += ", virtual machine"
    return f"{os.cpu_count()} CPUs ({cpu}), {mem_kib / 1048576:.1f} GiB RAM, " \
           f"Linux {platform.release()}"


def version_of(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"


def table(rows, headers, text_columns):
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers))]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(str(c).ljust(w) if i < text_columns else str(c).rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)


def markdown(rows, headers, text_columns):
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join("---" if i < text_columns else "--:"
                            for i in range(len(headers))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def main():
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
    args = parser.parse_args()

    git = shutil.which("git")
    true = shutil.which("true")
    scenarios = []
    references = []
    for spec in args.set:
        label, _, directory = spec.partition("=")
        repo = os.path.join(directory, "repo.git")
        tips = read_tips(os.path.join(directory, "tips"))
        drop_page_cache(repo)
        scenarios += build_scenarios(label, repo, tips, args, git)
        references += single_walks(label, directory, tips, git)
    first_repo = os.path.join(args.set[0].partition("=")[2], "repo.git")
    floor_env = dict(base_env(), GIT_DIR=first_repo)
    hook_env = dict(floor_env, TRUNKGATE_POLICY=args.policy, TRUNKGATE_USER="bench")
    floors = [
        Command("/bin/true (process start)", [[true]], floor_env),
        Command("git --version (git start)", [[git, "--version"]], floor_env),
        Command("trunkgate-pre-receive, no update lines", [[args.hook]], hook_env, stdin=b""),
    ]

    timed = []
    for item in [*floors, *(c for s in scenarios for c in (s.hook, s.baseline)), *references]:
        if not any(item is seen for seen in timed):
            timed.append(item)

    with tempfile.TemporaryDirectory(prefix="trunkgate-bench-") as workdir:
        for item in scenarios:
            verify(item, workdir)
        for _ in range(args.warmup):
            for item in timed:
                item.run_once(workdir, capture=False)
        load_before = load_average()
        started = time.monotonic()
        for rep in range(args.reps):
            for item in timed:
                elapsed, cpu, _ = item.run_once(workdir)
                item.times_ms.append(elapsed)
                item.cpu_ms.append(cpu)
            if sys.stderr.isatty():
                print(f"\rbench: repetition {rep + 1}/{args.reps}", end="", file=sys.stderr,
                      flush=True)
        print(f"\rbench: {args.reps} repetitions in {time.monotonic() - started:.0f} s",
              file=sys.stderr)
        load_after = load_average()
        for _ in range(min(args.reps, RSS_RUNS)):
            for item in timed:
                item.run_once(workdir, rss=True)

    headers = ["set", "scenario", "verdict", "trunkgate ms", "git ms", "ratio",
               "trunkgate RSS MiB", "git RSS MiB"]
    rows = []
    for s in scenarios:
        ours, theirs = s.hook.median_ms(), s.baseline.median_ms()
        rows.append([s.label, s.title, s.verdict, f"{ours:.1f}", f"{theirs:.1f}",
                     f"{ours / theirs:.2f}", f"{s.hook.peak_mib():.1f}",
                     f"{s.baseline.peak_mib():.1f}"])
    floor_headers = ["command", "median ms", "p25-p75 ms", "CPU ms", "peak RSS MiB"]
    floor_rows = [[f.name, f"{f.median_ms():.2f}", "{:.2f}-{:.2f}".format(*f.quartiles_ms()),
                   f"{f.median_cpu_ms():.2f}", f"{f.peak_mib():.1f}"]
                  for f in floors + references]
    startup_cpu = floors[2].median_cpu_ms()
    detail_headers = ["set", "scenario", "trunkgate CPU ms", "git CPU ms", "CPU ratio",
                      "trunkgate CPU minus no-op ms", "trunkgate p25-p75 ms", "git p25-p75 ms"]
    detail_rows = [[s.label, s.title, f"{s.hook.median_cpu_ms():.1f}",
                    f"{s.baseline.median_cpu_ms():.1f}",
                    f"{s.hook.median_cpu_ms() / max(s.baseline.median_cpu_ms(), 0.001):.2f}",
                    f"{s.hook.median_cpu_ms() - startup_cpu:.1f}",
                    "{:.1f}-{:.1f}".format(*s.hook.quartiles_ms()),
                    "{:.1f}-{:.1f}".format(*s.baseline.quartiles_ms())] for s in scenarios]

    print()
    print(table(rows, headers, 3))
    print()
    print(table(detail_rows, detail_headers, 2))
    print()
    print(table(floor_rows, floor_headers, 1))
    print(f"\nload average before timing: {load_before}; after: {load_after}")

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    libgit2 = version_of(["dpkg-query", "-W", "-f=${Version}", "libgit2-dev"])
    with open(args.markdown, "w") as md:
        md.write(f"# trunkgate benchmark results\n\n"
                 f"- run: {stamp}, `bench/run`, {args.reps} repetitions (+{args.warmup} warm-up), "
                 f"medians\n"
                 f"- trunkgate: {args.revision}\n"
                 f"- machine: {machine()}\n"
                 f"- {version_of([git, '--version'])}, libgit2 {libgit2}\n"
                 f"- load average (1, 5, 15 min) before timing: {load_before}; "
                 f"after: {load_after}\n\n"
                 f"Wall-clock medians; ratio = trunkgate median / git median. RSS = peak "
                 f"resident set from `/usr/bin/time -f %M`, median of "
                 f"{min(args.reps, RSS_RUNS)} runs; for git, its largest command.\n\n")
        md.write(markdown(rows, headers, 3) + "\n\n")
        md.write("## CPU time (user + sys) and spread\n\n"
                 "CPU medians move little when other work shares the machine; wall medians "
                 "do. \"CPU minus no-op\" subtracts the hook's own start-up (no update "
                 "lines, below): what the push itself cost.\n\n")
        md.write(markdown(detail_rows, detail_headers, 2) + "\n\n")
        md.write("## Floors and single-walk reference\n\n")
        md.write(markdown(floor_rows, floor_headers, 1) + "\n")
    print(f"\nbench: wrote {args.markdown}", file=sys.stderr)


if __name__ == "__main__":
    main()
