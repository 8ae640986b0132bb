#!/usr/bin/env python3
"""Generates what `trunkgate report` reads, around a real history (python3 standard library
only); called by bench/run-report.

Into the bare repository --repo (a hard-linked copy of git/git whose trunk, --trunk, is
refs/heads/main = master), deterministically from --seed, it writes:

  - $GIT_DIR/trunkgate/audit.log: --pushes pushes (decision records, and a landed record for each
    push that landed, as the hooks write them, with push ids) over the two years (--days) before
    the last commit of the trunk's first-parent chain, plus the merge queue's landed records
    (identity trunkgate-queue, push null, no decision). Trunk landings follow the real
    first-parent chain: each moves the trunk from one first-parent commit to a later one (1 to 3
    steps), just after the later one's committer date, so the log ends at master's tip.
    Feature branches are created, pushed and deleted by ~40 pushers with real commit ids: one
    branch for most topic merges (its pushes are the topic's commits, its last push the merge's
    second parent, merged by the landing of that merge), the rest with commits that never reach
    master (git's next/seen history and GitHub's refs/pull/*, each at most 200 commits ahead). refs/heads/staging is promoted to earlier trunk values
    on weekdays, refs/heads/production to earlier staging values twice a week, with some
    rollbacks; rejections carry findings of several rule ids; bypasses carry reasons;
  - refs/notes/trunkgate/checks (one git fast-import commit): statuses of the trunk's
    first-parent commits and of the deployed commits, some failing, some missing;
  - $GIT_DIR/trunkgate/queue/entries/q-NNNN.json and last-id: the merge queue's journal (landed,
    ejected and cancelled entries, as src/queue/store.cpp queue_entry_json writes them);
  - refs/heads/staging, refs/heads/production at their final values, and the feature branches
    alive at the end.

It prints nothing on stdout; --expected gets a JSON object of what was generated (the counts the
report must give for the whole period, sizes, the period itself).
"""

import argparse
import datetime
import hashlib
import json
import os
import random
import subprocess
import sys

ZERO = "0" * 40
MAX_AHEAD = 200
DAY = 86400
TRUNK_CHECKS = ["build", "unit-tests"]
PUSHERS = ["alice", "bob", "carol", "dana", "erin", "frank", "grace", "heidi", "ivan", "judy",
           "karl", "liam", "mallory", "nina", "oscar", "peggy", "quinn", "rupert", "sybil",
           "trent", "ursula", "victor", "wendy", "xavier", "yasmin", "zoe", "arjun", "bea",
           "chen", "dmitri", "emeka", "fatima", "goran", "hana", "ines", "jonas", "kenji",
           "lucia", "mateo", "noor"]
RELEASERS = ["release-rita", "release-sam"]
BYPASSER = "release-manager"
CI = "ci-bot"
QUEUE_IDENTITY = "trunkgate-queue"
POLICY_SHOWN = "trunkgate.toml"

# Rejections: (share, ref kind, block rules to draw from). Each rejected push blocks on 1 or 2 of
# its kind's rules, sometimes with a warning beside them.
REJECTION_KINDS = [
    (0.62, "feature", ["up-to-date", "branch-size", "branch-name", "commit-message",
                       "author-email", "file-size", "forbidden-path"]),
    (0.22, "main", ["required-checks", "linear-history", "force-push", "up-to-date",
                    "push-restricted"]),
    (0.06, "staging", ["required-checks", "promotion", "push-restricted"]),
    (0.08, "production", ["promotion", "approval", "required-checks", "push-restricted"]),
    (0.02, "delete-main", ["protected-delete"]),
]
EJECTION_REASONS = [
    (0.55, "check unit-tests is failure: 3 failed"),
    (0.15, "check build is error: runner lost"),
    (0.12, "no verdict from CI within 60 minutes (check_timeout_minutes)"),
    (0.10, "q-{id} conflicts with the target (conflicts: Makefile)"),
    (0.05, "its commits are gone (refs/trunkgate/queue/q-{id} is missing)"),
    (0.03, "nothing to land: its commits are already in refs/heads/main"),
]


def ahead_at_most(off, commit, limit):
    """Whether commit has at most `limit` ancestors (itself included) in `off`, the commits
    master lacks."""
    seen = {commit}
    stack = [commit]
    while stack:
        for parent in off[stack.pop()][1]:
            if parent in off and parent not in seen:
                if len(seen) >= limit:
                    return False
                seen.add(parent)
                stack.append(parent)
    return True


def iso(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S+00:00")


def git(repo, *argv, stdin=None):
    return subprocess.run(["git", "--git-dir", repo, *argv], input=stdin, capture_output=True,
                          check=True).stdout.decode()


def weighted(rng, table):
    """One item of [(share, item...)] drawn by share; returns the tuple's rest."""
    pick = rng.random() * sum(row[0] for row in table)
    for row in table:
        pick -= row[0]
        if pick < 0:
            return row[1:] if len(row) > 2 else row[1]
    return table[-1][1:] if len(table[-1]) > 2 else table[-1][1]


class History:
    """What the generator needs from the repository: the trunk's first-parent chain (oldest
    first), every master commit of the last years (for topics), commits never on master."""

    def __init__(self, repo, trunk, days):
        self.fp = []  # (id, committer time, author time, parents, subject)
        for line in git(repo, "log", "--first-parent", "--format=%H %ct %at %P%x09%s",
                        trunk).splitlines():
            head, _, subject = line.partition("\t")
            fields = head.split()
            self.fp.append((fields[0], int(fields[1]), int(fields[2]), fields[3:], subject))
        self.fp.reverse()
        self.tip_time = self.fp[-1][1]
        end_day = self.tip_time // DAY + 2
        self.end = end_day * DAY                   # midnight UTC, a day or more after the tip
        self.start = (end_day - days) * DAY        # midnight UTC, `days` before
        first = next(i for i, c in enumerate(self.fp) if c[1] >= self.start)
        self.before = self.fp[first - 1]           # trunk's value when the log begins
        self.chain = self.fp[first:]
        self.fp_ids = {c[0] for c in self.fp}
        self.parents = {}
        since = str(self.start - 365 * DAY)
        for line in git(repo, "log", "--format=%H %ct %P", f"--since={since}",
                        trunk).splitlines():
            fields = line.split()
            self.parents[fields[0]] = (int(fields[1]), fields[2:])
        # Commits never on master, as on feature branches: those of git's integration branches
        # (next, seen, ...; not refs/heads/todo, a history of its own) and of the pull requests
        # a clone from GitHub holds (refs/pull/*), dated in the period, each with at most
        # MAX_AHEAD commits that master lacks: some pull requests reach ~98,000 of them (other
        # roots), which no feature branch of a trunk-based team has.
        off = {}
        for line in git(repo, "log", "--format=%H %ct %P", "--exclude=todo", "--branches",
                        "--glob=refs/pull/*", "--not", trunk).splitlines():
            fields = line.split()
            off[fields[0]] = (int(fields[1]), fields[2:])
        self.off_trunk = [(commit, time) for commit, (time, _) in off.items()
                          if time >= self.start and ahead_at_most(off, commit, MAX_AHEAD)]
        self.off_trunk.sort(key=lambda c: (c[1], c[0]))
        if not self.off_trunk:
            sys.exit("generate: the repository has no commits outside the trunk in the period")

    def topic(self, merge, taken):
        """The commits of a first-parent merge's topic, oldest first (at most 8): the second
        parent and its first parents back to a commit on the trunk's chain, an earlier topic's,
        or one older than the loaded history."""
        parents = merge[3]
        if len(parents) < 2:
            return []
        commits = []
        at = parents[1]
        while (at in self.parents and at not in self.fp_ids and at not in taken
               and len(commits) < 8):
            commits.append(at)
            own = self.parents[at][1]
            if not own:
                break
            at = own[0]
        commits.reverse()
        return commits


class Log:
    """The audit records, each with its time; sorted and written at the end."""

    def __init__(self, seed):
        self.records = []   # (time, sequence, line)
        self.seed = seed
        self.pushes = 0
        self.decisions = {"accept": 0, "reject": 0, "bypass": 0}
        self.landed_records = 0

    def push_id(self):
        return hashlib.sha256(f"{self.seed}:{self.pushes}".encode()).hexdigest()[:32]

    def add(self, time, record):
        self.records.append((time, len(self.records),
                             json.dumps(record, separators=(",", ":"), ensure_ascii=False)))

    def push(self, time, identity, decision, refs, findings=(), reason=None, lands=True):
        """One push: its decision at `time` and, when it lands, its landed record a second
        later (post-receive runs after the refs moved)."""
        push = self.push_id()
        self.pushes += 1
        self.decisions[decision] += 1
        refs = [{"ref": r, "old": o, "new": n} for r, o, n in refs]
        self.add(time, {"kind": "decision", "time": iso(time), "push": push,
                        "identity": identity, "decision": decision, "refs": refs,
                        "findings": list(findings), "bypass_reason": reason,
                        "policy": POLICY_SHOWN})
        if lands and decision != "reject":
            self.landed_records += 1
            self.add(time + 1, {"kind": "landed", "time": iso(time + 1), "push": push,
                                "identity": identity, "refs": refs})

    def queue_landing(self, time, ref, old, new, ids):
        self.landed_records += 1
        self.add(time, {"kind": "landed", "time": iso(time), "push": None,
                        "identity": QUEUE_IDENTITY,
                        "refs": [{"ref": ref, "old": old, "new": new}], "queue": ids})

    def write(self, path):
        self.records.sort()
        size = 0
        with open(path, "w") as handle:
            for _, _, line in self.records:
                handle.write(line + "\n")
                size += len(line.encode()) + 1
        return size


def finding(rule, level, ref, commit, message):
    return {"rule": rule, "level": level, "ref": ref, "commit": commit, "message": message}


def rule_message(rng, rule, ref, commit):
    short = commit[:7] if commit else ""
    return {
        "up-to-date": f"branch is {rng.randint(51, 4000)} commits behind refs/heads/main "
                      f"(max_behind = 50)",
        "branch-size": f"branch has {rng.randint(201, 900)} commits not on refs/heads/main "
                       f"(max_ahead = 200)",
        "branch-name": f"{ref} does not match branches.name_pattern",
        "commit-message": f"commit {short} message subject is longer than 72 characters",
        "author-email": f"commit {short} author e-mail is not an allowed address",
        "file-size": f"commit {short} adds a file of {rng.randint(6, 80)} MiB (max 5 MiB)",
        "forbidden-path": f"commit {short} adds secrets/prod.env (forbidden_paths)",
        "required-checks": f"{short} is not green: unit-tests is failure",
        "linear-history": f"{short} is a merge commit; {ref} takes a linear history",
        "force-push": f"{ref} would lose {rng.randint(1, 40)} commits (not a fast-forward)",
        "push-restricted": f"pushing to {ref} is restricted (push_allowed)",
        "promotion": f"{short} is not on refs/heads/staging",
        "approval": f"{short} needs an approval from release-*, alice (within 7 days, not by "
                    f"its author)",
        "protected-delete": "deleting a protected ref is not allowed",
        "branch-age": f"oldest commit on the branch is {rng.randint(4, 60)} days old "
                      f"(max_age_days = 3)",
    }[rule]


class Generator:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.history = History(args.repo, args.trunk, args.days)
        self.log = Log(args.seed)
        self.expected = {
            "landings": 0, "direct": 0, "queued": 0,
            "deployments": {"refs/heads/staging": 0, "refs/heads/production": 0},
            "rollbacks": 0, "rejections": 0, "by_rule": {}, "bypasses": 0,
            "queue": {"landed": 0, "ejected": 0, "cancelled": 0},
            "branch_lives": 0, "branches_ended_deleted": 0, "branches_ended_merged": 0,
            "live_feature_branches": 0,
        }
        self.trunk_values = []   # (time, commit): the trunk after each landing, in order
        self.queue_entries = []
        self.notes = {}          # commit -> {context: state}
        self.live = {}           # feature ref -> commit at the end
        weights = [1 / (i + 1) ** 0.8 for i in range(len(PUSHERS))]
        self.pusher_weights = weights

    def pusher(self):
        return self.rng.choices(PUSHERS, self.pusher_weights)[0]

    def clamp(self, time):
        return max(self.history.start + 1, min(self.history.end - 120, time))

    # -- trunk --------------------------------------------------------------------------------

    def trunk(self):
        """Landings along the first-parent chain: 15 % by the merge queue, 3 % of the rest
        bypassed by the release manager."""
        rng, chain = self.rng, self.history.chain
        old = self.history.before[0]
        last = self.history.start
        self.trunk_values.append((self.history.start, old))
        self.landing_of = {}  # first-parent commit -> landing time
        i = 0
        while i < len(chain):
            step = weighted(rng, [(0.75, 1), (0.18, 2), (0.07, 3)])
            group = chain[i:i + step]
            i += step
            new = group[-1][0]
            time = max(last + 30, group[-1][1] + rng.randint(5, 300))
            last = time
            for commit in group:
                self.landing_of[commit[0]] = time
            if rng.random() < 0.15:
                self.queued_landing(time, old, new, group)
            elif rng.random() < 0.03:
                self.log.push(time, BYPASSER, "bypass", [("refs/heads/main", old, new)],
                              [finding("required-checks", "warn", "refs/heads/main", new,
                                       rule_message(rng, "required-checks", "", new))],
                              reason=f"INC-{rng.randint(1000, 9999)} hotfix, CI is down")
                self.expected["bypasses"] += 1
                self.expected["direct"] += 1
            else:
                self.log.push(time, self.pusher(), "accept", [("refs/heads/main", old, new)])
                self.expected["direct"] += 1
            self.expected["landings"] += 1
            self.trunk_values.append((time, new))
            old = new
        for commit in chain:
            self.status(commit[0], commit[1], TRUNK_CHECKS)

    def queued_landing(self, time, old, new, group):
        rng = self.rng
        ids = []
        for _ in range(weighted(rng, [(0.6, 1), (0.3, 2), (0.1, 3)])):
            enqueued = self.clamp(time - rng.randint(600, 3 * 3600))
            entry = self.queue_entry(enqueued, group[-1][0], "landed", time, "")
            entry.update(speculative=new, built_on=old, landing_from=new,
                         testing_since=enqueued + 30, built=[new])
            ids.append(entry)
        batch = ids[-1]["id"]
        for entry in ids:
            entry["batch"] = batch
            entry["batch_size"] = len(ids)
        self.log.queue_landing(time, "refs/heads/main", old, new, [e["id"] for e in ids])
        self.expected["queued"] += 1

    def queue_entry(self, enqueued, commit, state, ended, reason):
        """A journal entry, and the push that queued it (refs/for/main: no ref moves, so no
        landed record)."""
        number = len(self.queue_entries) + 1
        pusher = self.pusher()
        entry = {"id": f"q-{number:04d}", "target": "refs/heads/main", "topic": "",
                 "commit": commit, "pusher": pusher, "enqueued_at": enqueued, "order": number,
                 "priority": False, "state": state, "speculative": "", "built_on": "",
                 "testing_since": 0, "builds": 1 if state != "cancelled" else 0,
                 "failed_builds": 1 if state == "ejected" else 0,
                 "checks": {}, "landing_from": "", "reason": reason, "ended_at": ended,
                 "batch": "", "batch_size": 0, "batch_limit": 0, "built": []}
        if state == "landed":
            entry["checks"] = {"build": "success", "unit-tests": "success"}
        self.queue_entries.append(entry)
        self.expected["queue"][state] += 1
        self.log.push(enqueued, pusher, "accept", [("refs/for/main", ZERO, commit)],
                      lands=False)
        return entry

    def queue_ends(self, count):
        """Entries ejected or cancelled, spread over the period."""
        rng, h = self.rng, self.history
        for _ in range(count):
            enqueued = rng.randint(h.start + 3600, h.end - 7 * 3600)
            commit = rng.choice(h.off_trunk)[0]
            if rng.random() < 0.85:
                number = len(self.queue_entries) + 1
                reason = weighted(rng, EJECTION_REASONS).replace("{id}", f"{number:04d}")
                entry = self.queue_entry(enqueued, commit, "ejected",
                                         enqueued + rng.randint(300, 6 * 3600), reason)
                entry["testing_since"] = enqueued + 20
                entry["speculative"] = entry["built_on"] = ""
                entry["built"] = [hashlib.sha1(f"{self.args.seed}:{entry['id']}".encode())
                                  .hexdigest()]
            else:
                self.queue_entry(enqueued, commit, "cancelled",
                                 enqueued + rng.randint(60, 3600), f"cancelled by {self.pusher()}")

    # -- deployments --------------------------------------------------------------------------

    def value_at(self, values, time):
        """The last value of a (time, commit) list at or before time."""
        low, high = 0, len(values)
        while high - low > 1:
            middle = (low + high) // 2
            if values[middle][0] <= time:
                low = middle
            else:
                high = middle
        return values[low][1]

    def deployments(self):
        """staging on most weekdays (CI), production on Tuesdays and Thursdays (release
        managers), with rollbacks and bypasses."""
        rng, h = self.rng, self.history
        index = {c[0]: n for n, c in enumerate(h.fp)}
        staging = [(h.start, self.value_at_start(40))]
        production = [(h.start, self.value_at_start(80))]
        day = h.start
        while day < h.end - DAY:
            weekday = datetime.datetime.fromtimestamp(day, datetime.timezone.utc).weekday()
            if weekday < 5 and rng.random() < 0.8:
                time = day + rng.randint(9 * 3600, 17 * 3600)
                target = self.value_at(self.trunk_values, time - rng.randint(600, 4 * 3600))
                if index[target] > index[staging[-1][1]]:
                    self.deploy("refs/heads/staging", CI, time, staging[-1][1], target)
                    staging.append((time, target))
                    self.status(target, time - 300, TRUNK_CHECKS + ["integration/api"])
            if weekday in (1, 3) and rng.random() < 0.9:
                time = day + rng.randint(13 * 3600, 16 * 3600)
                target = self.value_at(staging, time - rng.randint(3600, DAY))
                current = production[-1][1]
                if index[target] > index[current]:
                    self.status(target, time - 600,
                                TRUNK_CHECKS + ["integration/api", "staging/smoke"])
                    if rng.random() < 0.08:
                        self.deploy("refs/heads/production", BYPASSER, time, current, target,
                                    bypass=True)
                    else:
                        self.deploy("refs/heads/production", rng.choice(RELEASERS), time,
                                    current, target)
                    production.append((time, target))
                    if rng.random() < 0.06 and len(production) > 2:
                        back = time + rng.randint(1800, 6 * 3600)
                        self.deploy("refs/heads/production", rng.choice(RELEASERS), back,
                                    target, current)
                        production.append((back, current))
                        self.expected["rollbacks"] += 1
            day += DAY
        self.final = {"refs/heads/staging": staging[-1][1],
                      "refs/heads/production": production[-1][1]}
        self.initial = {"refs/heads/staging": staging[0][1],
                        "refs/heads/production": production[0][1]}

    def value_at_start(self, below):
        """A first-parent commit `below` steps under the trunk's value when the log begins."""
        position = self.history.fp.index(self.history.before)
        return self.history.fp[max(0, position - below)][0]

    def deploy(self, ref, identity, time, old, new, bypass=False):
        rng = self.rng
        if bypass:
            self.log.push(time, identity, "bypass", [(ref, old, new)],
                          [finding("approval", "warn", ref, new,
                                   rule_message(rng, "approval", ref, new))],
                          reason=f"INC-{rng.randint(1000, 9999)} customer outage, "
                                 f"approved on the bridge call")
            self.expected["bypasses"] += 1
        else:
            self.log.push(time, identity, "accept", [(ref, old, new)])
        self.expected["deployments"][ref] += 1

    # -- feature branches ---------------------------------------------------------------------

    def topic_branches(self):
        """One branch for 65 % of the topic merges: its pushes are the topic's commits, the last
        one the merge's second parent, before the landing that merges it; deleted after."""
        rng, h = self.rng, self.history
        taken = set()
        names = {}
        for merge in h.chain:
            topic = h.topic(merge, taken)
            taken.update(topic)
            if not topic or rng.random() >= 0.65:
                continue
            landing = self.landing_of[merge[0]]
            subject = merge[4]
            slug = subject.split("'")[1] if subject.count("'") >= 2 else "topic"
            slug = "".join(ch if ch.isalnum() or ch in "-._" else "-" for ch in slug.lower())
            names[slug] = names.get(slug, 0) + 1
            ref = f"refs/heads/feature/{slug}" + (f"-{names[slug]}" if names[slug] > 1 else "")
            pusher = self.pusher()
            earliest = max(h.start + 60, landing - 6 * DAY)
            if earliest >= landing - 2 * 3600:
                continue
            created = rng.randint(earliest, landing - 2 * 3600)
            times = sorted(rng.randint(created, landing - 120) for _ in topic[1:])
            old = ZERO
            for time, commit in zip([created] + times, topic):
                findings = []
                if rng.random() < 0.05:
                    findings.append(finding("branch-age", "warn", ref, commit,
                                            rule_message(rng, "branch-age", ref, commit)))
                self.log.push(time, pusher, "accept", [(ref, old, commit)], findings)
                old = commit
            self.expected["branch_lives"] += 1
            self.expected["branches_ended_merged"] += 1
            if rng.random() < 0.97:
                self.log.push(self.clamp(landing + rng.randint(60, 2 * DAY)), pusher, "accept",
                              [(ref, old, ZERO)])
            else:
                self.live[ref] = old

    def other_branches(self, budget):
        """Branches whose commits never reach master (next/seen, pull requests): created, pushed
        2 to 12 times hours apart, deleted (1.5 % left alive); exactly `budget` pushes. One in
        ten takes the name of a branch deleted before it starts: a new life of that name."""
        rng, h = self.rng, self.history
        deleted = []  # (ref, deletion time)
        serial = 0
        while budget > 0:
            pusher = self.pusher()
            start = rng.randint(h.start + 60, h.end - 5 * DAY)
            ref = None
            if deleted and rng.random() < 0.1:
                name, ended = deleted.pop(rng.randrange(len(deleted)))
                if ended + 6 * DAY < h.end - 5 * DAY:
                    ref, start = name, rng.randint(ended + 60, ended + 6 * DAY)
            if ref is None:
                serial += 1
                ref = f"refs/heads/feature/{pusher}-{serial}"
            updates = min(rng.randint(2, 12), budget)
            budget -= updates
            keep = budget == 0 or rng.random() < 0.015
            if not keep:
                budget -= 1
            at = self.pool_index(start)
            time = start
            old = ZERO
            for _ in range(updates):
                at = min(len(h.off_trunk) - 1, at + rng.randint(0, 6))
                commit = h.off_trunk[at][0]
                if commit == old:
                    at = (at + 1) % len(h.off_trunk)
                    commit = h.off_trunk[at][0]
                findings = []
                if old != ZERO and rng.random() < 0.04:
                    findings.append(finding("branch-age", "warn", ref, commit,
                                            rule_message(rng, "branch-age", ref, commit)))
                self.log.push(time, pusher, "accept", [(ref, old, commit)], findings)
                old = commit
                time += rng.randint(300, 8 * 3600)
            self.expected["branch_lives"] += 1
            if keep:
                self.live[ref] = old
            else:
                self.log.push(time, pusher, "accept", [(ref, old, ZERO)])
                self.expected["branches_ended_deleted"] += 1
                deleted.append((ref, time))

    def pool_index(self, time):
        low, high = 0, len(self.history.off_trunk)
        while low < high:
            middle = (low + high) // 2
            if self.history.off_trunk[middle][1] < time:
                low = middle + 1
            else:
                high = middle
        return max(0, low - 20)

    # -- rejections ---------------------------------------------------------------------------

    def rejections(self, count):
        rng, h = self.rng, self.history
        for _ in range(count):
            time = rng.randint(h.start + 60, h.end - 120)
            kind, rules = weighted(rng, REJECTION_KINDS)
            commit = rng.choice(h.off_trunk)[0]
            trunk_now = self.value_at(self.trunk_values, time)
            if kind == "feature":
                ref = f"refs/heads/feature/{self.pusher()}-wip"
                old = ZERO
            elif kind == "delete-main":
                ref, old, commit = "refs/heads/main", trunk_now, ZERO
            else:
                ref = f"refs/heads/{'main' if kind == 'main' else kind}"
                old = trunk_now
            blocked = rng.sample(rules, min(len(rules), weighted(rng, [(0.8, 1), (0.2, 2)])))
            findings = [finding(rule, "block", ref, None if commit == ZERO else commit,
                                rule_message(rng, rule, ref, commit)) for rule in blocked]
            if kind == "feature" and rng.random() < 0.2:
                findings.append(finding("branch-age", "warn", ref, commit,
                                        rule_message(rng, "branch-age", ref, commit)))
            identity = rng.choice(RELEASERS) if kind == "production" else self.pusher()
            self.log.push(time, identity, "reject", [(ref, old, commit)], findings)
            self.expected["rejections"] += 1
            for rule in blocked:
                self.expected["by_rule"][rule] = self.expected["by_rule"].get(rule, 0) + 1

    # -- statuses -----------------------------------------------------------------------------

    def status(self, commit, time, contexts):
        """Records statuses for commit (1 % of trunk commits have none: CI never reported)."""
        if commit not in self.notes:
            if self.rng.random() < 0.01:
                self.notes[commit] = None
                return
            self.notes[commit] = {"time": time, "states": {}}
        note = self.notes[commit]
        if note is None:
            return
        for context in contexts:
            if context in note["states"]:
                continue
            draw = self.rng.random()
            state = ("failure" if draw < 0.04 else "error" if draw < 0.05
                     else "pending" if draw < 0.06 else "success")
            note["states"][context] = state

    def notes_stream(self):
        """A git fast-import stream: one commit on refs/notes/trunkgate/checks with every
        note."""
        body = []
        count = 0
        for commit in sorted(self.notes):
            note = self.notes[commit]
            if note is None:
                continue
            statuses = {}
            for context, state in sorted(note["states"].items()):
                statuses[context] = {
                    "state": state,
                    "description": "" if state == "success" else f"{context} {state}",
                    "url": f"https://ci.example.com/runs/{commit[:12]}",
                    "updated_at": iso(note["time"] + 240),
                    "by": CI}
            text = json.dumps(statuses, indent=2).encode() + b"\n"
            body.append(b"N inline %s\ndata %d\n%s\n" % (commit.encode(), len(text), text))
            count += 1
        message = b"statuses from CI\n"
        head = (b"commit refs/notes/trunkgate/checks\ncommitter ci-bot <ci-bot@example.com> "
                b"%d +0000\ndata %d\n%s" % (self.history.end - 60, len(message), message))
        return head + b"".join(body) + b"done\n", count

    # -- output -------------------------------------------------------------------------------

    def run(self):
        args, h = self.args, self.history
        self.trunk()
        self.queue_ends(args.queue_entries)
        self.deployments()
        self.topic_branches()
        rejections = round(args.pushes * args.reject_share)
        self.rejections(rejections)
        budget = args.pushes - self.log.pushes
        if budget < 1000:
            sys.exit(f"generate: --pushes {args.pushes} leaves no room for feature branches")
        self.other_branches(budget)
        assert self.log.pushes == args.pushes, (self.log.pushes, args.pushes)

        state = os.path.join(args.repo, "trunkgate")
        os.makedirs(os.path.join(state, "queue", "entries"), exist_ok=True)
        log_path = os.path.join(state, "audit.log")
        size = self.log.write(log_path)
        for entry in self.queue_entries:
            with open(os.path.join(state, "queue", "entries", entry["id"] + ".json"), "w") as f:
                f.write(json.dumps(entry, indent=2, ensure_ascii=False) + "\n")
        with open(os.path.join(state, "queue", "last-id"), "w") as handle:
            handle.write(f"{len(self.queue_entries)}\n")

        stream, notes = self.notes_stream()
        subprocess.run(["git", "--git-dir", args.repo, "fast-import", "--quiet",
                        "--date-format=raw"], input=stream, check=True)
        updates = [f"update {ref} {commit}\n" for ref, commit in sorted(self.final.items())]
        updates += [f"update {ref} {commit}\n" for ref, commit in sorted(self.live.items())]
        git(args.repo, "update-ref", "--stdin", stdin="".join(updates).encode())

        self.expected.update(
            since=h.start, until=h.end, now=h.end, seed=args.seed,
            pushes=self.log.pushes, decisions=self.log.decisions,
            landed_records=self.log.landed_records, audit_log_lines=len(self.log.records),
            audit_log_bytes=size, queue_entries=len(self.queue_entries), notes=notes,
            trunk_first_parent_commits=len(h.chain), trunk_old=h.before[0],
            trunk_new=h.chain[-1][0], final_refs=self.final, initial_refs=self.initial,
            live_feature_branches=len(self.live),
            queue_builds=len({c for e in self.queue_entries for c in e["built"]}))
        self.expected["by_rule"] = dict(sorted(self.expected["by_rule"].items()))
        with open(args.expected, "w") as handle:
            json.dump(self.expected, handle, indent=2)
            handle.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", required=True, help="the bare copy to write into")
    parser.add_argument("--trunk", default="refs/heads/main")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--pushes", type=int, default=100000)
    parser.add_argument("--reject-share", type=float, default=0.08)
    parser.add_argument("--queue-entries", type=int, default=2500,
                        help="ejected and cancelled entries (landed ones come with the landings)")
    parser.add_argument("--expected", required=True, help="where the counts go (JSON)")
    Generator(parser.parse_args()).run()


if __name__ == "__main__":
    main()
