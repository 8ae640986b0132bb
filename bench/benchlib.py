"""Timing helpers shared by the benchmarks under bench/ (python3 standard library only):
bench/measure.py (bench/run), bench/commits/measure.py (bench/run-commits) and
bench/events/measure.py (bench/run-events). Commands, their round-robin repetitions and
statistics, the header lines of a results file, and text and markdown tables.

A Command is one process, or a few run one after another whose times add up (argv, environment,
stdin bytes for the first). Each is spawned directly with posix_spawn and reaped with wait4(), so
the wall time measured is the process's own plus a fork; CPU time (user + sys) comes from its
rusage. Shell pipelines are timed as one `sh -c` process.

Peak RSS comes from separate runs under GNU time (`/usr/bin/time -f %M`). It cannot come from
our own wait4(): Linux carries the pre-exec image's high-water mark into ru_maxrss, so every
child of this ~14 MiB Python process would report at least ~14 MiB. GNU time forks from a ~1 MiB
image. For a pipeline GNU time reports the largest process of it.
"""

import datetime
import os
import platform
import signal
import statistics
import subprocess
import time

GNU_TIME = "/usr/bin/time"


class Outcome:
    """One run of a Command: wall and CPU time in ms, exit status, the captured stdout and stderr
    (empty unless captured), peak RSS in KiB (None unless run under GNU time) and whether it was
    stopped at its timeout. steps holds each process's own Outcome (just this one for a single
    process)."""

    def __init__(self, wall_ms, cpu_ms, status, stdout, stderr, rss_kib, timed_out):
        self.wall_ms = wall_ms
        self.cpu_ms = cpu_ms
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.rss_kib = rss_kib
        self.timed_out = timed_out
        self.steps = [self]

    @classmethod
    def of_steps(cls, steps):
        """The Outcome of processes run one after another: their times added up, the first
        failing exit status, their outputs joined, the largest peak RSS."""
        peaks = [step.rss_kib for step in steps if step.rss_kib is not None]
        whole = cls(sum(step.wall_ms for step in steps), sum(step.cpu_ms for step in steps),
                    next((step.status for step in steps if step.status), 0),
                    "".join(step.stdout for step in steps),
                    "".join(step.stderr for step in steps),
                    max(peaks) if peaks else None, any(step.timed_out for step in steps))
        whole.steps = steps
        return whole


def _wait(pid, timeout, on_poll):
    """Reaps pid; returns (wait status, rusage, timed out). With timeout (seconds) a process that
    is still running then is killed with its whole process group (it was started with setsid);
    on_poll(seconds waited) is called about every 20 ms meanwhile."""
    if timeout is None:
        _, status, usage = os.wait4(pid, 0)
        return status, usage, False
    deadline = time.monotonic() + timeout
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage, False
        if on_poll:
            on_poll(timeout - (deadline - time.monotonic()))
        if time.monotonic() > deadline:
            os.killpg(pid, signal.SIGTERM)  # the group this run started (setsid)
            _, status, usage = os.wait4(pid, 0)
            return status, usage, True
        time.sleep(0.02)


class Command:
    """One timed thing. Its samples accumulate in times_ms, cpu_ms and peaks_kib.

    argv is one process; Command.sequence makes one of several. stdin (bytes) is fed to the first
    process through a file, None gives it /dev/null. With cwd the processes start there."""

    def __init__(self, name, argv, env, stdin=None, cwd=None):
        self.name = name
        self.steps = [list(argv)]
        self.env = env
        self.stdin = stdin
        self.cwd = cwd
        self.times_ms = []
        self.cpu_ms = []
        self.peaks_kib = []

    @classmethod
    def sequence(cls, name, steps, env, stdin=None, cwd=None):
        """A Command of several processes (a list of argv) run one after another: their wall and
        CPU times add up, its peak RSS is the largest of theirs."""
        command = cls(name, steps[0], env, stdin, cwd)
        command.steps = [list(argv) for argv in steps]
        return command

    def run(self, workdir, rss=False, timeout=None, capture=False, on_poll=None):
        """Runs the command once (scratch files go to workdir) and returns its Outcome. With rss
        each process runs under GNU time (its wall time then includes GNU time's own fork). With
        timeout (seconds) a process that is still going is killed with its whole process group
        and reported as timed out, and no further process runs; on_poll(seconds) is called about
        every 20 ms while it waits. With capture, stdout and stderr are kept."""
        stdin_path = os.devnull
        if self.stdin is not None:
            stdin_path = os.path.join(workdir, "stdin")
            with open(stdin_path, "wb") as handle:
                handle.write(self.stdin)
        steps = []
        for argv in self.steps:
            steps.append(self._run_process(argv, workdir, stdin_path, rss, timeout, capture,
                                           on_poll))
            stdin_path = os.devnull
            if steps[-1].timed_out:
                break
        return steps[0] if len(steps) == 1 else Outcome.of_steps(steps)

    def _run_process(self, argv, workdir, stdin_path, rss, timeout, capture, on_poll):
        """One process of run(), timed from just before its spawn to its reaping."""
        out_path = os.path.join(workdir, "stdout") if capture else os.devnull
        err_path = os.path.join(workdir, "stderr") if capture else os.devnull
        rss_path = os.path.join(workdir, "rss")
        if rss:
            argv = [GNU_TIME, "-f", "%M", "-o", rss_path, *argv]
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, stdin_path, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
            (os.POSIX_SPAWN_OPEN, 2, err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
        ]
        previous = os.getcwd() if self.cwd else None
        if self.cwd:
            os.chdir(self.cwd)
        try:
            start = time.perf_counter_ns()
            pid = os.posix_spawn(argv[0], argv, self.env, file_actions=actions,
                                 setsid=timeout is not None)
        finally:
            if previous:
                os.chdir(previous)
        status, usage, timed_out = _wait(pid, timeout, on_poll)
        wall_ms = (time.perf_counter_ns() - start) / 1e6
        cpu_ms = (usage.ru_utime + usage.ru_stime) * 1e3
        rss_kib = None
        if rss and not timed_out:
            with open(rss_path) as handle:
                rss_kib = int(handle.read().split()[-1])
        stdout = stderr = ""
        if capture:
            with open(out_path, "rb") as out, open(err_path, "rb") as err:
                stdout = out.read().decode(errors="replace")
                stderr = err.read().decode(errors="replace")
        return Outcome(wall_ms, cpu_ms, os.waitstatus_to_exitcode(status), stdout, stderr,
                       rss_kib, timed_out)

    def sample(self, workdir, rss=False):
        """One timed run that counts; with rss its peak RSS is kept as well."""
        outcome = self.run(workdir, rss=rss)
        self.times_ms.append(outcome.wall_ms)
        self.cpu_ms.append(outcome.cpu_ms)
        if rss:
            self.peaks_kib.append(outcome.rss_kib)
        return outcome

    def record_peak(self, workdir):
        """One run under GNU time that counts for its peak RSS only."""
        outcome = self.run(workdir, rss=True)
        self.peaks_kib.append(outcome.rss_kib)
        return outcome

    def median_ms(self):
        """Median wall time of the samples, in ms."""
        return statistics.median(self.times_ms)

    def median_cpu_ms(self):
        """Median CPU time (user + sys) of the samples, in ms."""
        return statistics.median(self.cpu_ms)

    def quartiles_ms(self):
        """p25 and p75 of the wall times (the one time twice when there is only one sample)."""
        if len(self.times_ms) < 2:
            return self.times_ms[0], self.times_ms[0]
        q = statistics.quantiles(self.times_ms, n=4, method="inclusive")
        return q[0], q[2]

    def spread(self):
        """p25-p75 of the wall times, as text; min-max (and said so) for fewer than 4 samples."""
        if len(self.times_ms) < 4:
            return f"{min(self.times_ms):.1f}-{max(self.times_ms):.1f} (min-max)"
        p25, p75 = self.quartiles_ms()
        return f"{p25:.1f}-{p75:.1f}"

    def peak_mib(self):
        """Median of the recorded peak RSS, in MiB (NaN when none was recorded)."""
        return statistics.median(self.peaks_kib) / 1024 if self.peaks_kib else float("nan")


def read_tips(path):
    """The KEY=VALUE lines a benchmark's preparation writes (the commits it made), as a dict."""
    tips = {}
    with open(path) as handle:
        for line in handle:
            key, _, value = line.strip().partition("=")
            if key:
                tips[key] = value
    return tips


def warm_up(commands, workdir, rounds=1, after_run=None):
    """rounds untimed runs of each command, one of each per round."""
    _round_robin(commands, rounds, lambda command: command.run(workdir), after_run)


def time_round_robin(commands, workdir, reps, rss=False, after_run=None, progress=None):
    """reps timed runs of each command (Command.sample), one of each per round, so drift of the
    machine hits every command alike. With rss each timed run also records its peak RSS.
    after_run(command) is called after every run, progress(rounds done) after every round."""
    _round_robin(commands, reps, lambda command: command.sample(workdir, rss=rss), after_run,
                 progress)


def record_peaks(commands, workdir, runs, after_run=None):
    """runs rounds of one run of each command under GNU time, kept for peak RSS only."""
    _round_robin(commands, runs, lambda command: command.record_peak(workdir), after_run)


def measure_round_robin(commands, workdir, reps, rss_runs, after_run=None):
    """One warm-up round, reps timed rounds, then rss_runs rounds for peak RSS."""
    warm_up(commands, workdir, 1, after_run)
    time_round_robin(commands, workdir, reps, after_run=after_run)
    record_peaks(commands, workdir, rss_runs, after_run)


def _round_robin(commands, rounds, run, after_run=None, progress=None):
    """Calls run(command) for each command in turn, rounds times."""
    for done in range(1, rounds + 1):
        for command in commands:
            run(command)
            if after_run:
                after_run(command)
        if progress:
            progress(done)


def base_env():
    """This process's environment without GIT_* and TRUNKGATE_* variables, with LC_ALL=C."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "TRUNKGATE_"))}
    env["LC_ALL"] = "C"
    return env


def load_average():
    """The 1, 5 and 15 minute load averages, as `1.02 0.98 0.91`."""
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def _cpu_info():
    """/proc/cpuinfo's fields, the first value of each (that of the first CPU)."""
    info = {}
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    return info


def _memory_gib():
    """MemTotal of /proc/meminfo, in GiB."""
    mem_kib = 0
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return mem_kib / 1048576


def machine(clock=False):
    """`2 CPUs (model), 23.5 GiB RAM, Linux <release>`. With clock (bench/run's form) the model
    is followed by the CPU clock and, under a hypervisor, `virtual machine`."""
    info = _cpu_info()
    if clock:
        cpu = info.get("model name", "unknown CPU")
        if "cpu MHz" in info:
            cpu += f", {float(info['cpu MHz']):.0f} MHz"
        if "hypervisor" in info.get("flags", "").split():
            cpu += ", virtual machine"
    else:
        cpu = info.get("model name", "unknown")
    return f"{os.cpu_count()} CPUs ({cpu}), {_memory_gib():.1f} GiB RAM, Linux {platform.release()}"


def version_of(argv):
    """What argv prints on stdout, stripped; `unknown` when it cannot be run."""
    try:
        return subprocess.run(argv, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"


def package_version(package):
    """The installed version of a Debian package, as dpkg-query reports it."""
    return version_of(["dpkg-query", "-W", "-f=${Version}", package])


def versions(git, libraries):
    """`git version 2.39.5, libgit2 1.5.1+ds-1+deb12u2`: what git --version says, then the name
    and installed version of each library, given as (name, Debian package) pairs."""
    return ", ".join([version_of([git, "--version"])]
                     + [f"{name} {package_version(package)}" for name, package in libraries])


def results_header(title, run, revision, versions_line, load, clock=False):
    """The top of a results file: `# title`, a blank line, then `- run: <UTC minute>, run`,
    `- trunkgate: revision`, `- machine: ...` (machine(clock)), `- versions_line` and
    `- load average (1, 5, 15 min) load`, and a blank line."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"# {title}\n\n"
            f"- run: {stamp}, {run}\n"
            f"- trunkgate: {revision}\n"
            f"- machine: {machine(clock)}\n"
            f"- {versions_line}\n"
            f"- load average (1, 5, 15 min) {load}\n\n")


def drop_page_cache(repo):
    """Evicts the repository's pack files from the page cache (those files only), so every run
    starts from the same state. Peak RSS counts the pages of the mapped pack and .idx that a
    process touched, and how many pages one fault maps depends on what is cached: after a
    sequential read of the .idx (cp, cat, a backup) the kernel holds it in large folios and the
    same 10-commit push into the 10^6-commit repository counted 49 MiB instead of 14 MiB."""
    pack_dir = os.path.join(repo, "objects", "pack")
    for name in os.listdir(pack_dir):
        fd = os.open(os.path.join(pack_dir, name), os.O_RDONLY)
        try:
            os.fsync(fd)  # dirty pages would stay cached
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def markdown(rows, headers, text_columns):
    """A markdown table; the first text_columns columns are left-aligned, the rest right."""
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join("---" if i < text_columns else "--:" for i in range(len(headers)))
             + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(rows, headers, text_columns):
    """The same table for a terminal: columns padded to their widest cell, the first
    text_columns left-aligned, the rest right-aligned."""
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers))]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(str(c).ljust(w) if i < text_columns else str(c).rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)


class Table:
    """A results table: headers, rows of cells (shown with str()), and how many leading columns
    are text (left-aligned; the others are figures, right-aligned)."""

    def __init__(self, headers, rows, text_columns):
        self.headers = headers
        self.rows = rows
        self.text_columns = text_columns

    def text(self):
        """The table for a terminal (text_table)."""
        return text_table(self.rows, self.headers, self.text_columns)

    def markdown(self):
        """The table for a results file (markdown)."""
        return markdown(self.rows, self.headers, self.text_columns)
