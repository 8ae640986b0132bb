"""The simulated CI of bench/run-queue (python3 standard library only).

A webhook receiver on 127.0.0.1 (http.server's ThreadingHTTPServer, in a thread of the bench's
own process, stopped by the bench) that builds every speculative branch the merge queue tells it
about. For each push event whose ref is under refs/heads/trunkgate/queue/ and that is not a
deletion (`deleted: true`, or `after` all zeros), it answers 200 at once and starts a build of
`after`: the build looks at the commit's tree (does it hold any file under `bad/`?), sleeps until
T seconds after the event arrived, then records `build` as `failure` (a bad file) or `success`
with `trunkgate status set --repo SERVER SHA build STATE` as a `[checks] writers` identity. With
runner = "auto" that status set starts the queue's runner itself; with runner = "manual" CI then
wakes the bench's driver (CI.status_arrived), which runs `trunkgate queue run`.

CI has unlimited capacity (every build runs at once, each takes T) and never cancels a build:
a build of a branch the queue has since moved or deleted still finishes and reports, as a CI
without cancel-in-progress does. Every request's signature (X-Hub-Signature-256, HMAC-SHA256 of
the body with the endpoint's secret) is checked and bad ones counted.
"""

import hashlib
import hmac
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402

ZERO = "0" * 40
SPECULATIVE_PREFIX = "refs/heads/trunkgate/queue/"


class Build:
    """One build CI was asked for: the commit, its branch, when the event arrived, and what CI
    reported: the state, when `status set` started and returned (monotonic seconds), and that
    process's wall and CPU time in ms."""

    def __init__(self, sha, ref, asked_at):
        self.sha = sha
        self.ref = ref
        self.asked_at = asked_at
        self.state = None
        self.reported_at = None
        self.reported_until = None
        self.status_set_ms = None
        self.status_set_cpu_ms = None


class CI:
    """The receiver and its builds. reset() points it at a scenario's repository; the driver
    waits on status_arrived."""

    def __init__(self, trunkgate, env, secret, build_seconds, scratch):
        self.trunkgate = trunkgate
        self.scratch = scratch              # a directory for the status set processes' output
        self.env = env                      # environment of `status set` (TRUNKGATE_USER = CI)
        self.secret = secret.encode()
        self.build_seconds = build_seconds
        self.status_arrived = threading.Event()
        self.lock = threading.Lock()
        self.server_repo = None
        self.builds = []
        self.requests = 0
        self.deletions = 0
        self.bad_signatures = 0
        self.failures = []                  # status set that did not exit 0
        self.threads = []
        self.last_status_at = None          # when the latest status set returned
        ci = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                arrived = time.monotonic()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                ci.received(self.headers, body, arrived)

            def log_message(self, *_):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.serving = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.serving.start()

    def url(self):
        return f"http://127.0.0.1:{self.port}/hooks/ci"

    def reset(self, server_repo):
        """Starts a scenario: builds of the previous one are finished (drain) and forgotten."""
        self.drain()
        with self.lock:
            self.server_repo = server_repo
            self.builds = []
            self.requests = 0
            self.deletions = 0
            self.bad_signatures = 0
            self.failures = []
            self.threads = []
            self.last_status_at = None
        self.status_arrived.clear()

    def received(self, headers, body, arrived):
        expected = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        signed = hmac.compare_digest(headers.get("X-Hub-Signature-256", ""), expected)
        event = json.loads(body)
        ref, after = event.get("ref", ""), event.get("after", ZERO)
        with self.lock:
            self.requests += 1
            if not signed:
                self.bad_signatures += 1
            if not ref.startswith(SPECULATIVE_PREFIX):
                return
            if event.get("deleted") or after == ZERO:
                self.deletions += 1
                return
            build = Build(after, ref, arrived)
            self.builds.append(build)
            thread = threading.Thread(target=self.run_build, args=(build,), daemon=True)
            self.threads.append(thread)
        thread.start()

    def run_build(self, build):
        repo = self.server_repo
        listed = subprocess.run(["git", "--git-dir", repo, "ls-tree", "--name-only", build.sha,
                                 "bad/"], capture_output=True, text=True, env=self.env)
        state = "failure" if listed.stdout.strip() or listed.returncode != 0 else "success"
        command = benchlib.Command("status set", [self.trunkgate, "status", "set", "--repo", repo,
                                                  build.sha, "build", state], self.env)
        workdir = tempfile.mkdtemp(dir=self.scratch)
        time.sleep(max(0.0, build.asked_at + self.build_seconds - time.monotonic()))
        started = time.monotonic()
        result = command.run(workdir, capture=True)
        ended = time.monotonic()
        shutil.rmtree(workdir, ignore_errors=True)
        with self.lock:
            build.state = state
            build.reported_at = started
            build.reported_until = ended
            build.status_set_ms = result.wall_ms
            build.status_set_cpu_ms = result.cpu_ms
            self.last_status_at = ended
            if result.status != 0:
                self.failures.append(f"status set {build.sha} {state}: exit "
                                     f"{result.status}: {result.stderr.strip()}")
        self.status_arrived.set()

    def drain(self):
        """Waits for every build started so far to report."""
        with self.lock:
            threads = list(self.threads)
        for thread in threads:
            thread.join()

    def stop(self):
        self.drain()
        self.httpd.shutdown()
        self.httpd.server_close()
