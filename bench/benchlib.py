"""Timing helpers shared by the benchmarks under bench/ (python3 standard library only).

A Command is one process (argv, environment, stdin bytes) spawned directly with posix_spawn, so
the wall time measured is the process's own plus a fork. Shell pipelines are timed as one
`sh -c` process. Peak RSS comes from separate runs under GNU time (`/usr/bin/time -f %M`): a
child's ru_maxrss as seen by this ~15 MiB Python process includes the pre-exec image, GNU time
forks from a ~1 MiB one. For a pipeline GNU time reports the largest process of it.
"""

import os
import platform
import signal
import statistics
import subprocess
import time

GNU_TIME = "/usr/bin/time"
ZERO = "0" * 40


class Outcome:
    def __init__(self, wall_ms, cpu_ms, status, stdout, stderr, rss_kib, timed_out):
        self.wall_ms = wall_ms
        self.cpu_ms = cpu_ms
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.rss_kib = rss_kib
        self.timed_out = timed_out


class Command:
    """One timed process. Its samples accumulate in times_ms, cpu_ms and peaks_kib."""

    def __init__(self, name, argv, env, stdin=b"", cwd=None):
        self.name = name
        self.argv = argv
        self.env = env
        self.stdin = stdin
        self.cwd = cwd
        self.times_ms = []
        self.cpu_ms = []
        self.peaks_kib = []

    def run(self, workdir, rss=False, timeout=None, capture=False, on_poll=None):
        """Runs the command once. With rss it runs under GNU time (its wall time then includes
        GNU time's own fork). With timeout (seconds) a run that is still going is killed with
        its whole process group and reported as timed out; on_poll(seconds) is called about
        every 20 ms while it waits."""
        stdin_path = os.path.join(workdir, "stdin")
        with open(stdin_path, "wb") as handle:
            handle.write(self.stdin)
        out_path = os.path.join(workdir, "stdout") if capture else os.devnull
        err_path = os.path.join(workdir, "stderr") if capture else os.devnull
        rss_path = os.path.join(workdir, "rss")
        argv = [GNU_TIME, "-f", "%M", "-o", rss_path, *self.argv] if rss else list(self.argv)
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, stdin_path, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
            (os.POSIX_SPAWN_OPEN, 2, err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
        ]
        previous = os.getcwd()
        if self.cwd:
            os.chdir(self.cwd)
        try:
            start = time.perf_counter_ns()
            pid = os.posix_spawn(argv[0], argv, self.env, file_actions=actions,
                                 setsid=timeout is not None)
        finally:
            os.chdir(previous)
        timed_out = False
        if timeout is None:
            _, status, usage = os.wait4(pid, 0)
        else:
            deadline = time.monotonic() + timeout
            while True:
                done, status, usage = os.wait4(pid, os.WNOHANG)
                if done:
                    break
                if on_poll:
                    on_poll(timeout - (deadline - time.monotonic()))
                if time.monotonic() > deadline:
                    timed_out = True
                    os.killpg(pid, signal.SIGTERM)  # the group this run started (setsid)
                    _, status, usage = os.wait4(pid, 0)
                    break
                time.sleep(0.02)
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

    def median_ms(self):
        return statistics.median(self.times_ms)

    def median_cpu_ms(self):
        return statistics.median(self.cpu_ms)

    def spread(self):
        """p25-p75 of the wall times, as text."""
        if len(self.times_ms) < 4:
            return f"{min(self.times_ms):.1f}-{max(self.times_ms):.1f} (min-max)"
        q = statistics.quantiles(self.times_ms, n=4, method="inclusive")
        return f"{q[0]:.1f}-{q[2]:.1f}"

    def peak_mib(self):
        return statistics.median(self.peaks_kib) / 1024 if self.peaks_kib else float("nan")


def base_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "TRUNKGATE_"))}
    env["LC_ALL"] = "C"
    return env


def load_average():
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return (f"{os.cpu_count()} CPUs ({model}), {mem_kib / 1048576:.1f} GiB RAM, "
            f"Linux {platform.release()}")


def version_of(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"


def drop_page_cache(repo):
    """Evicts the repository's pack files from the page cache, so peak RSS (which counts the
    mapped pack pages a process touched, in folios whose size depends on how the file was last
    read) starts from the same state in every invocation."""
    pack_dir = os.path.join(repo, "objects", "pack")
    for name in os.listdir(pack_dir):
        fd = os.open(os.path.join(pack_dir, name), os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def markdown(rows, headers, text_columns):
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join("---" if i < text_columns else "--:" for i in range(len(headers)))
             + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(rows, headers, text_columns):
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers))]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(str(c).ljust(w) if i < text_columns else str(c).rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)
