#!/usr/bin/env python3
"""Times trunkgate-post-receive for one push creating many refs (python3 standard library only);
called by bench/run-events.

  many_refs.py --bin DIR --template POLICY --repo REPO.git --stdin FILE --reps N --markdown OUT

REPO.git already holds the refs (as when git runs post-receive); FILE has their update lines.
Round-robin, N times each: the hook with [events] and one endpoint that accepts and never answers
(bench/events/receiver.py hang: the detached deliverer waits on its first request and is stopped
after each run), each run into a fresh spool; and the same hook with the template policy (no
[events]: load the policy, read the update lines, exit) as the baseline. Checks that every run
queued one entry per ref. Prints medians and their ratio and appends them to OUT.
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--template", required=True)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--stdin", required=True)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--markdown", required=True)
    args = parser.parse_args()
    hook = os.path.join(args.bin, "trunkgate-post-receive")
    work = os.path.dirname(os.path.abspath(args.repo))
    with open(args.stdin, "rb") as handle:
        stdin = handle.read()
    refs = stdin.count(b"\n")
    receiver = subprocess.Popen([sys.executable, os.path.join(HERE, "receiver.py"), "hang", "0",
                                 os.path.join(work, "receiver.json")],
                                stdout=subprocess.PIPE, text=True)
    port = int(receiver.stdout.readline())
    with open(args.template) as handle:
        template = handle.read()
    baseline_policy = os.path.join(work, "no-events.toml")
    with open(baseline_policy, "w") as handle:
        handle.write(template)
    timings = {"events": [], "baseline": []}
    spools = []
    try:
        for rep in range(args.reps):
            for kind in ("events", "baseline"):
                policy = baseline_policy
                if kind == "events":
                    spool = os.path.join(work, f"spool-{rep}")
                    spools.append(spool)
                    policy = os.path.join(work, f"events-{rep}.toml")
                    with open(policy, "w") as handle:
                        handle.write(template + f'\n[events]\nspool_dir = "{spool}"\n\n'
                                     f'[[events.endpoint]]\nurl = "http://127.0.0.1:{port}/hooks/push"\n'
                                     'refs = ["refs/*"]\ntimeout_ms = 600000\n')
                env = dict(os.environ, GIT_DIR=args.repo, TRUNKGATE_POLICY=policy,
                           TRUNKGATE_USER="bench", LC_ALL="C")
                start = time.monotonic()
                done = subprocess.run([hook], input=stdin, env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE)
                timings[kind].append((time.monotonic() - start) * 1000)
                if done.returncode != 0:
                    sys.exit(f"bench: {kind} run failed: {done.stderr.decode()[-2000:]}")
                if kind == "events":
                    queued = len([n for n in os.listdir(os.path.join(spool, "queue"))
                                  if n.endswith(".json")])
                    if queued != refs:
                        sys.exit(f"bench: {queued} of {refs} events queued")
                    # The detached deliverer waits on the receiver; the next run must not share
                    # the machine with it reading 10,000 entries.
                    stop_deliverers(hook)
    finally:
        receiver.send_signal(signal.SIGTERM)
        receiver.wait(timeout=10)
        stop_deliverers(hook)
        for spool in spools:
            shutil.rmtree(spool, ignore_errors=True)
    events = statistics.median(timings["events"])
    baseline = statistics.median(timings["baseline"])
    lines = [
        f"| post-receive, one push creating {refs:,} refs, all queued | "
        f"{events:,.0f} ms (p-min {min(timings['events']):,.0f}, max {max(timings['events']):,.0f}) | "
        f"same hook, no [events]: {baseline:,.0f} ms | {events / baseline:.1f}× | ≤ 2,000 ms |",
    ]
    print("\n".join(lines))
    with open(args.markdown, "a") as handle:
        handle.write("\n".join(lines) + "\n")


def stop_deliverers(hook):
    """Stops the detached deliverers this benchmark's hooks started (matched by the hook path
    this script ran, and only those)."""
    found = subprocess.run(["pgrep", "-f", "^" + hook + "$"], capture_output=True, text=True)
    for pid in found.stdout.split():
        try:
            os.kill(int(pid), signal.SIGTERM)
        except ProcessLookupError:
            pass


if __name__ == "__main__":
    main()
