#!/usr/bin/env python3
"""Times the push events of issue 4 (python3 standard library only); called by bench/run-events.

Expects under --work, prepared by bench/run-events:
  push/repo.git + push/stdin        main moved by 10 new commits (the refs have moved, as when
                                    git runs post-receive)
  import/repo.git + import/stdin    refs/heads/main created with all 10^5 commits new
  deliver/repo.git + deliver/stdin  2,000 one-commit branches created in one push
It starts its own receivers (bench/events/receiver.py) on free loopback ports, writes the
policies (the foundation template plus [repository], [events] and one [[events.endpoint]]), and
measures, in this order:
  1. queueing: per round, one post-receive of the 2,000-branch push while nothing listens on the
     endpoint's port (2,000 events spooled; the background deliverer's first attempt is refused);
  2. post-receive wall time for the 10-commit push: no [events] (baseline), receiver absent
     (connection refused), receiver hanging (accepts, never answers); plus /bin/true and
     git --version, round-robin;
  3. event build for the 10^5-commit push (max_commits 2048, receiver absent) against the git
     commands that list the same commits and paths;
  4. once the queued events are due again (the first retry comes 11-19 s after the refused
     attempt), `trunkgate deliver` of each round to a receiver that answers 200 at once on the
     same port, against curl sending the same 2,000 bodies over one connection.
"""

import argparse
import glob
import hashlib
import hmac
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402

SECRET = "bench-secret"
HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    """A loopback port nothing listens on (connecting to it is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def refused(port):
    with socket.socket() as probe:
        try:
            probe.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
    return False


class Receiver:
    """bench/events/receiver.py as a child process of this script, stopped by its pid."""

    def __init__(self, mode, port, workdir):
        self.stats_path = os.path.join(workdir, f"receiver-{mode}-{time.monotonic_ns()}.json")
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "receiver.py"), mode, str(port), self.stats_path],
            stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        with open(self.stats_path) as handle:
            return json.load(handle)


def write_policy(path, template, spool, port, max_commits=2048):
    with open(template) as handle:
        text = handle.read()
    text += f"""
# bench/run-events: events on, one loopback endpoint
[repository]
full_name = "team/bench"
url = "https://git.example.com/team/bench"
commit_url = "https://git.example.com/team/bench/commit/{{sha}}"
compare_url = "https://git.example.com/team/bench/compare/{{before}}...{{after}}"

[events]
spool_dir = "trunkgate/{spool}"
deliver = "background"
max_commits = {max_commits}

[[events.endpoint]]
url = "http://127.0.0.1:{port}/hooks/push"
secret_env = "TRUNKGATE_WEBHOOK_SECRET"
refs = ["refs/heads/*", "refs/tags/*"]
timeout_ms = 5000
"""
    with open(path, "w") as handle:
        handle.write(text)
    return path


def log_count(repo, spool, text):
    """How many lines of the spool's events.log contain `text`."""
    try:
        with open(os.path.join(repo, "trunkgate", spool, "events.log")) as handle:
            return sum(text in line for line in handle)
    except FileNotFoundError:
        return 0


def wait_for_log(repo, spool, text, count, timeout):
    """Waits until the background deliverer has logged `count` lines with `text`."""
    deadline = time.monotonic() + timeout
    while log_count(repo, spool, text) < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def total_commits(entry):
    """trunkgate's total_commits of a queued event: its X-Trunkgate-Total-Commits header, or the
    body's key when the endpoint has payload = "github+trunkgate" (docs/events.md)."""
    for header in entry.get("headers", []):
        name, _, value = header.partition(":")
        if name.strip().lower() == "x-trunkgate-total-commits":
            return int(value)
    return json.loads(entry["body"]).get("total_commits")


def queue_entries(repo, spool):
    entries = []
    for path in glob.glob(os.path.join(repo, "trunkgate", spool, "queue", "*.json")):
        with open(path) as handle:
            entries.append(json.load(handle))
    return entries


def hook_env(repo, policy):
    return dict(benchlib.base_env(), GIT_DIR=repo, TRUNKGATE_POLICY=policy,
                TRUNKGATE_USER="bench", TRUNKGATE_WEBHOOK_SECRET=SECRET)


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


def curl_config(entries, port, directory):
    """A curl config that POSTs every entry's body, signed, over one reused connection."""
    lines = []
    for index, entry in enumerate(entries):
        body = entry["body"].encode()
        body_path = os.path.join(directory, f"body-{index:04d}.json")
        with open(body_path, "wb") as handle:
            handle.write(body)
        signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        if index:
            lines.append("next")
        lines += [f'url = "http://127.0.0.1:{port}/hooks/push"',
                  f'data-binary = "@{body_path}"',
                  'header = "Content-Type: application/json"',
                  'header = "X-GitHub-Event: push"',
                  f'header = "X-GitHub-Delivery: {entry["id"]}"',
                  f'header = "X-Hub-Signature-256: sha256={signature}"',
                  'header = "Expect:"',
                  'output = "/dev/null"', "silent", "fail"]
    path = os.path.join(directory, "curl.config")
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", required=True, help="directory of the trunkgate binaries")
    parser.add_argument("--template", required=True, help="the foundation policy template")
    parser.add_argument("--work", required=True)
    parser.add_argument("--reps", type=int, default=21, help="repetitions of the 10-commit push")
    parser.add_argument("--import-reps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="deliver runs of 2,000 events")
    parser.add_argument("--rss-runs", type=int, default=3)
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--revision", default="unknown")
    parser.add_argument("--command", default="bench/run-events")
    return parser.parse_args()


class Bench:
    """What the four measurements share: the programs, the prepared repositories and their update
    lines; after start(), a scratch directory, the hanging receiver, two free ports and the
    policies. runs_of counts the runs of the hooks whose deliverers outlive them."""

    def __init__(self, args):
        self.args = args
        self.post_receive = os.path.join(args.bin, "trunkgate-post-receive")
        self.trunkgate = os.path.join(args.bin, "trunkgate")
        self.template = args.template
        work = args.work
        self.push_repo = os.path.join(work, "push", "repo.git")
        self.import_repo = os.path.join(work, "import", "repo.git")
        self.deliver_repo = os.path.join(work, "deliver", "repo.git")
        self.push_stdin = read(os.path.join(work, "push", "stdin"))
        self.import_stdin = read(os.path.join(work, "import", "stdin"))
        self.deliver_stdin = read(os.path.join(work, "deliver", "stdin"))
        self.events_per_round = len(self.deliver_stdin.splitlines())
        self.import_tip = self.import_stdin.split()[1].decode()
        self.import_total = int(read(os.path.join(work, "import", "new-commits")))
        self.git = shutil.which("git")
        self.runs_of = {"absent": 0, "hang": 0}

    def start(self):
        """Makes the scratch directory, starts the hanging receiver, picks the ports for the
        absent and the delivering receiver, and writes and lints the policies."""
        self.workdir = tempfile.mkdtemp(prefix="trunkgate-bench-events-")
        self.hang = Receiver("hang", 0, self.workdir)
        self.absent_port = free_port()
        self.deliver_port = free_port()
        if not (refused(self.absent_port) and refused(self.deliver_port)):
            sys.exit("bench: a free port was taken meanwhile; run again")
        self.policies = self.write_policies()

    def write_policies(self):
        """The policies by name: none (the template), absent, hang, import, deliver-N."""
        work, template = self.args.work, self.template
        policies = {
            "none": template,
            "absent": write_policy(os.path.join(work, "policy-absent.toml"), template,
                                   "spool-absent", self.absent_port),
            "hang": write_policy(os.path.join(work, "policy-hang.toml"), template, "spool-hang",
                                 self.hang.port),
            "import": write_policy(os.path.join(work, "policy-import.toml"), template,
                                   "spool-import", self.absent_port),
        }
        for round_number in range(1, self.args.rounds + 1):
            policies[f"deliver-{round_number}"] = write_policy(
                os.path.join(work, f"policy-deliver-{round_number}.toml"), template,
                f"spool-deliver-{round_number}", self.deliver_port)
        for policy in policies.values():
            subprocess.run([self.trunkgate, "policy", "lint", policy], check=True,
                           stdout=subprocess.DEVNULL)
        return policies

    def stop(self):
        """Stops the hanging receiver and returns its stats. The deliverers it held see their
        connection close and record a retry; waits for them so nothing this run started is left
        behind."""
        stats = self.hang.stop()
        wait_for_log(self.push_repo, "spool-hang", "will retry", self.runs_of["hang"], 15)
        return stats


def queue_rounds(bench):
    """1. Queues the deliver rounds while nothing listens on the deliver port; returns each
    round's Outcome."""
    queueing = []
    for round_number in range(1, bench.args.rounds + 1):
        spool = f"spool-deliver-{round_number}"
        command = benchlib.Command(
            "post-receive, 2,000-branch push, receiver absent", [bench.post_receive],
            hook_env(bench.deliver_repo, bench.policies[f"deliver-{round_number}"]),
            bench.deliver_stdin, bench.deliver_repo)
        outcome = command.run(bench.workdir, capture=True, rss=True)
        expected = f"{bench.events_per_round} events queued for 127.0.0.1:{bench.deliver_port}"
        if outcome.status != 0 or expected not in outcome.stderr:
            sys.exit(f"bench: queueing round {round_number}: exit {outcome.status}\n"
                     f"{outcome.stderr}")
        queueing.append(outcome)
        print(f"bench: round {round_number}: {bench.events_per_round} events queued in "
              f"{outcome.wall_ms:.0f} ms; waiting for the refused first attempts",
              file=sys.stderr)
        if not wait_for_log(bench.deliver_repo, spool, "will retry", bench.events_per_round,
                            300):
            sys.exit(f"bench: the background deliverer of round {round_number} did not "
                     f"finish its first attempts")
    return queueing


def push_commands(bench):
    """The commands timed for the 10-commit push, by key."""
    repo, stdin, policies = bench.push_repo, bench.push_stdin, bench.policies
    return {
        "true": benchlib.Command("/bin/true (process start)", [shutil.which("true")],
                                 hook_env(repo, bench.template), b"", repo),
        "git": benchlib.Command("git --version (git start)", [bench.git, "--version"],
                                hook_env(repo, bench.template), b"", repo),
        "none": benchlib.Command("post-receive, no [events] (baseline)", [bench.post_receive],
                                 hook_env(repo, policies["none"]), stdin, repo),
        "absent": benchlib.Command("post-receive, receiver absent (refused)",
                                   [bench.post_receive], hook_env(repo, policies["absent"]),
                                   stdin, repo),
        "hang": benchlib.Command("post-receive, receiver hanging", [bench.post_receive],
                                 hook_env(repo, policies["hang"]), stdin, repo),
    }


def time_push(bench):
    """2. post-receive of the 10-commit push, each hook checked once, then round-robin with
    /bin/true and git --version. Returns the commands by key."""
    push = push_commands(bench)

    def after_push(command):
        """Counts the runs of the hooks with [events]; after a refused one, lets its detached
        deliverer finish its attempt, so it does not compete with the next measurement."""
        for key in bench.runs_of:
            if command is push[key]:
                bench.runs_of[key] += 1
        if command is push["absent"]:
            wait_for_log(bench.push_repo, "spool-absent", "will retry",
                         bench.runs_of["absent"], 10)

    for key in ("none", "absent", "hang"):
        outcome = push[key].run(bench.workdir, capture=True)
        after_push(push[key])
        wanted = "" if key == "none" else "1 event queued for 127.0.0.1:"
        if outcome.status != 0 or wanted not in outcome.stderr or (
                key == "none" and outcome.stderr):
            sys.exit(f"bench: post-receive ({key}): exit {outcome.status}\n{outcome.stderr}")
    benchlib.measure_round_robin(list(push.values()), bench.workdir, bench.args.reps,
                                 bench.args.rss_runs, after_run=after_push)
    print(f"bench: 10-commit push: {bench.args.reps} repetitions done", file=sys.stderr)
    return push


def build_commands(bench):
    """The commands timed for the 10^5-commit push, by key."""
    repo, stdin = bench.import_repo, bench.import_stdin
    return {
        "none": benchlib.Command("post-receive, no [events] (baseline)", [bench.post_receive],
                                 hook_env(repo, bench.policies["none"]), stdin, repo),
        "import": benchlib.Command("post-receive, max_commits 2048, receiver absent",
                                   [bench.post_receive],
                                   hook_env(repo, bench.policies["import"]), stdin, repo),
        "git": benchlib.Command(
            "git: rev-list --count + log -n 2048 --name-status (same facts)",
            ["/bin/sh", "-c", "git rev-list --count \"$1\" >/dev/null && "
             "git log -n 2048 --name-status --format=raw \"$1\" >/dev/null",
             "floor", bench.import_tip], hook_env(repo, bench.template), b"", repo),
    }


def time_build(bench):
    """3. The event build for the 10^5-commit push against git's commands for the same facts,
    after one checked run. Returns the commands by key, the event's number of listed commits and
    its body's size in bytes."""
    repo = bench.import_repo
    build = build_commands(bench)
    benchlib.drop_page_cache(repo)
    build["import"].run(bench.workdir, capture=True)
    import_runs = 1
    wait_for_log(repo, "spool-import", "will retry", import_runs, 30)
    entry = queue_entries(repo, "spool-import")[0]
    event = json.loads(entry["body"])
    if total_commits(entry) != bench.import_total or len(event["commits"]) != 2048:
        sys.exit(f"bench: the 10^5 event has total_commits {total_commits(entry)} and "
                 f"{len(event['commits'])} commits (expected {bench.import_total} and 2048)")

    def after_build(command):
        """Waits for the refused first attempt of the import's deliverer."""
        nonlocal import_runs
        if command is build["import"]:
            import_runs += 1
            wait_for_log(repo, "spool-import", "will retry", import_runs, 30)

    benchlib.time_round_robin(list(build.values()), bench.workdir, bench.args.import_reps,
                              rss=True, after_run=after_build)
    print(f"bench: 10^5-commit event: {bench.args.import_reps} repetitions done",
          file=sys.stderr)
    return build, len(event["commits"]), len(entry["body"])


class Delivery:
    """What deliver_rounds measured: the seconds waited for the retry schedule, the entries curl
    sent, (Outcome, receiver stats) of each deliver run, and the curl and nothing-due commands."""

    def __init__(self, waited, entries, curl, empty):
        self.waited = waited
        self.entries = entries
        self.curl = curl
        self.empty = empty
        self.runs = []
        self.curl_stats = None


def deliver_rounds(bench):
    """4. Once the queued events are due again, `trunkgate deliver` of each round to a receiver
    answering 200 on the deliver port, each followed by curl sending the first round's bodies
    and by a deliver with nothing due."""
    due = max(e["next_try"] for n in range(1, bench.args.rounds + 1)
              for e in queue_entries(bench.deliver_repo, f"spool-deliver-{n}"))
    waited = max(0.0, due + 1 - time.time())
    print(f"bench: waiting {waited:.0f} s for the queued events' first retry to be due",
          file=sys.stderr)
    time.sleep(waited)
    entries = sorted(queue_entries(bench.deliver_repo, "spool-deliver-1"),
                     key=lambda e: e["order"])
    config = curl_config(entries, bench.deliver_port, bench.workdir)
    delivery = Delivery(
        waited, entries,
        benchlib.Command(f"curl: the same {len(entries):,} signed POSTs, one connection",
                         [shutil.which("curl"), "-K", config], benchlib.base_env()),
        benchlib.Command("trunkgate deliver, nothing due",
                         [bench.trunkgate, "deliver", "--repo", bench.push_repo],
                         hook_env(bench.push_repo, bench.policies["none"]), b"",
                         bench.push_repo))
    for round_number in range(1, bench.args.rounds + 1):
        deliver_round(bench, round_number, delivery)
    return delivery


def deliver_round(bench, round_number, delivery):
    """One deliver run of round round_number's queue, then one of curl and one of the deliver
    with nothing due; adds them to delivery."""
    workdir, repo = bench.workdir, bench.deliver_repo
    receiver = Receiver("ok", bench.deliver_port, workdir)
    command = benchlib.Command(
        "trunkgate deliver", [bench.trunkgate, "deliver", "--repo", repo],
        hook_env(repo, bench.policies[f"deliver-{round_number}"]), b"", repo)
    outcome = command.run(workdir, capture=True, rss=True)
    stats = receiver.stop()
    summary = outcome.stdout.strip().splitlines()[-1] if outcome.stdout.strip() else ""
    if f"{bench.events_per_round} delivered" not in summary:
        sys.exit(f"bench: deliver round {round_number}: exit {outcome.status}: "
                 f"{summary}\n{outcome.stderr}")
    delivery.runs.append((outcome, stats))
    receiver = Receiver("ok", bench.deliver_port, workdir)
    delivery.curl.sample(workdir)
    delivery.curl_stats = receiver.stop()
    delivery.empty.sample(workdir)
    print(f"bench: deliver round {round_number}: {outcome.wall_ms:.0f} ms, "
          f"{stats['connections']} connection(s), {stats['requests']} requests; "
          f"curl {delivery.curl.times_ms[-1]:.0f} ms, "
          f"{delivery.curl_stats['connections']} connection(s)", file=sys.stderr)


def push_table(push):
    """The 10-commit push: medians against no [events] and against git --version."""
    base = push["none"].median_ms()
    git_start = push["git"].median_ms()
    headers = ["post-receive, push of 10 commits (10^5 history)", "median ms",
               "p25-p75 ms", "CPU ms", "vs no [events]", "vs git --version",
               "peak RSS MiB", "target"]
    rows = []
    for key in ("true", "git", "none", "absent", "hang"):
        command = push[key]
        median = command.median_ms()
        rows.append([command.name, f"{median:.1f}", command.spread(),
                     f"{command.median_cpu_ms():.1f}", f"{median / base:.2f}",
                     f"{median / git_start:.1f}", f"{command.peak_mib():.1f}",
                     "≤ 30 ms" if key in ("absent", "hang") else ""])
    return benchlib.Table(headers, rows, 1)


def build_table(build):
    """The 10^5-commit event build against git's commands for the same facts."""
    headers = ["10^5-commit push (create of main)", "median ms", "runs", "CPU ms",
               "ratio vs git", "peak RSS MiB", "target"]
    git_ms = build["git"].median_ms()
    rows = [[c.name, f"{c.median_ms():,.0f}", str(len(c.times_ms)),
             f"{c.median_cpu_ms():,.0f}", f"{c.median_ms() / git_ms:.2f}",
             f"{c.peak_mib():.1f}", "≤ 1 s" if key == "import" else ""]
            for key, c in build.items()]
    return benchlib.Table(headers, rows, 1)


def deliver_table(bench, delivery):
    """trunkgate deliver's throughput against curl's, and a deliver with nothing due."""
    runs, curl, entries = delivery.runs, delivery.curl, delivery.entries
    deliver_ms = [outcome.wall_ms for outcome, _ in runs]
    deliver_median = statistics.median(deliver_ms)
    curl_median = curl.median_ms()
    headers = ["command", "events", "runs", "median ms", "events/s",
               "ratio vs curl", "connections accepted per run", "requests per run",
               "distinct delivery ids", "peak RSS MiB", "target"]
    rows = [[
        "trunkgate deliver → loopback receiver answering 200", str(bench.events_per_round),
        str(len(deliver_ms)), f"{deliver_median:,.0f}",
        f"{bench.events_per_round / deliver_median * 1000:,.0f}",
        f"{deliver_median / curl_median:.2f}",
        "/".join(str(stats["connections"]) for _, stats in runs),
        "/".join(str(stats["requests"]) for _, stats in runs),
        "/".join(str(stats["deliveries"]) for _, stats in runs),
        f"{statistics.median(o.rss_kib for o, _ in runs) / 1024:.1f}", "≥ 500 events/s"]]
    curl_stats = delivery.curl_stats
    rows.append([curl.name, str(len(entries)), str(len(curl.times_ms)),
                 f"{curl_median:,.0f}", f"{len(entries) / curl_median * 1000:,.0f}",
                 "1.00", str(curl_stats["connections"]), str(curl_stats["requests"]),
                 str(curl_stats["deliveries"]), "-", ""])
    empty = delivery.empty
    rows.append([empty.name, "0", str(len(empty.times_ms)), f"{empty.median_ms():.1f}",
                 "-", "-", "-", "-", "-", "-", ""])
    return benchlib.Table(headers, rows, 1)


def notes_of(bench, queueing, commits_listed, body_bytes, hang_stats):
    """The notes under the tables: queueing, the 10^5-commit event, the hanging receiver."""
    queue_ms = [o.wall_ms for o in queueing]
    per_round = bench.events_per_round
    return [
        f"Queueing: post-receive of the {per_round}-branch push (receiver "
        f"absent) took {', '.join(f'{ms:,.0f}' for ms in queue_ms)} ms "
        f"({statistics.median(queue_ms) / per_round:.1f} ms per event; peak RSS "
        f"{statistics.median(o.rss_kib for o in queueing) / 1024:.1f} MiB); its "
        f"background deliverer then made the refused first attempts.",
        f"The 10^5-commit event: total_commits {bench.import_total:,}, commits[] "
        f"{commits_listed:,} (max_commits), body {body_bytes / 1e6:.2f} MB.",
        f"Hanging receiver: {hang_stats['connections']} connections accepted, none "
        f"answered; each background deliverer waited for its timeout_ms while the push "
        f"had already returned.",
    ]


def write_results(bench, load, tables, notes):
    """Writes --markdown: the header lines (load: the load-average text), the push, build and
    deliver tables, and the notes."""
    args = bench.args
    push, build, deliver = tables
    libraries = [("libgit2", "libgit2-dev"), ("libcurl", "libcurl4-openssl-dev")]
    with open(args.markdown, "w") as md:
        md.write(benchlib.results_header(
            "trunkgate push-event benchmark (issue 4)", f"`{args.command}`, medians",
            args.revision, benchlib.versions(bench.git, libraries), load))
        md.write("Wall-clock medians of the hook process until it exits (the background "
                 "deliverer it leaves behind is not waited for). Peak RSS from "
                 "`/usr/bin/time -f %M`.\n\n")
        md.write(f"## post-receive, push of 10 commits ({args.reps} runs each, round-robin)\n\n")
        md.write(push.markdown() + "\n\n")
        md.write("## Event build for a 10^5-commit push\n\n")
        md.write(build.markdown() + "\n\n")
        md.write(f"## trunkgate deliver throughput ({args.rounds} rounds of "
                 f"{bench.events_per_round} queued events)\n\n")
        md.write(deliver.markdown() + "\n\n")
        md.write("\n".join(f"- {note}" for note in notes) + "\n")


def main():
    args = parse_args()
    bench = Bench(args)
    load_before = benchlib.load_average()
    started = time.monotonic()
    bench.start()
    try:
        queueing = queue_rounds(bench)
        push = time_push(bench)
        build, commits_listed, body_bytes = time_build(bench)
        delivery = deliver_rounds(bench)
    finally:
        hang_stats = bench.stop()
    load_after = benchlib.load_average()
    elapsed = time.monotonic() - started

    tables = [push_table(push), build_table(build), deliver_table(bench, delivery)]
    notes = notes_of(bench, queueing, commits_listed, body_bytes, hang_stats)
    for table in tables:
        print()
        print(table.text())
    for note in notes:
        print(f"- {note}")
    print(f"\nload average before: {load_before}; after: {load_after}; {elapsed:.0f} s")
    write_results(bench, f"before: {load_before}; after: {load_after}; measuring took "
                  f"{elapsed:.0f} s (of which waiting for the retry schedule "
                  f"{delivery.waited:.0f} s)", tables, notes)
    shutil.rmtree(bench.workdir, ignore_errors=True)
    print(f"bench: wrote {args.markdown}", file=sys.stderr)


if __name__ == "__main__":
    main()
