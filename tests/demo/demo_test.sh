#!/usr/bin/env bash
# scripts/demo runs the whole merge-gate loop with the programs of this build (no package check,
# no build): CI behind adnanh/webhook on loopback, two changes queued, bob's ejected with its
# reason, alice's landed, a direct push to main refused, production promoted once approved, and
# the trunk health report of it. And it leaves nothing running: its CI's port is closed and the
# queue's runner is idle.
# usage: demo_test.sh SOURCE_DIR BIN_DIR WORK_DIR
set -euo pipefail
root=$1 bin=$2 work=$3

status=0
output=$(TRUNKGATE_DEMO_BIN=$bin TRUNKGATE_DEMO_DIR=$work "$root/scripts/demo" 2>&1) || status=$?
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
expect() { # expect TEXT WHAT: the demo printed TEXT
    grep -qF -- "$1" <<<"$output" || fail "$2: no line with: $1"
}

[ "$status" -eq 0 ] || fail "scripts/demo exited $status"
expect "queued for main at position 1 (id q-0001); CI runs on refs/heads/trunkgate/queue/main/q-0001" \
    "bob's change is queued"
expect "(id q-0002); CI runs on refs/heads/trunkgate/queue/main/q-0002" "alice's change is queued"
ejected='^  -  q-0001  ejected  .*  bob  .*build=failure  \(check build is failure: \./test\.sh failed\)$'
grep -qE "$ejected" <<<"$output" || fail "bob's change is not listed as ejected with its reason"
grep -qE '^  -  q-0002  landed  .*  alice  .*build=success$' <<<"$output" ||
    fail "alice's change is not listed as landed"
expect "trunkgate/queue  failure  q-0001 ejected: check build is failure: ./test.sh failed" \
    "the queue's status on bob's own commit"
expect "FAIL tests/hello.sh" "CI's log of bob's build"
expect "[queue-required] main has a merge queue" "the direct push to main"
expect "[approval]" "the promotion without an approval"
expect " * [new branch]      origin/main -> production" "the promotion with an approval"
expect "  trunkgate-queue  landed  refs/heads/main " "the queue's landing in the audit log"
expect "  (the merge queue landed q-0002)" "the entry the queue landed, in the audit log"
expect "  alice  accept  refs/heads/production 0000000.." "the promotion in the audit log"
expect "  landings: 1 (0.04 a day; 0.04 per active pusher a day), 0 direct, 1 queued" \
    "the report's landings on main"
expect "  change failure rate: 0.0% (0 of 1: rollback 0, revert 0, check 0)  band: elite" \
    "the report's production deployment"
expect "Queue: 1 landed, 1 ejected, 0 cancelled;" "the report's queue"
expect "  queue-required   1" "the report's rejections by rule"
grep -qF "<svg" "$work/report.html" 2>/dev/null || fail "the HTML report has no chart"

port=$(sed -n 's|^CI: adnanh/webhook on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' <<<"$output")
if [ -z "$port" ]; then
    fail "the demo did not say where CI listened"
elif (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    fail "something still listens on CI's port $port after the demo"
fi
lock=$work/loop/server.git/trunkgate/queue/runner.lock
if [ -e "$lock" ] && ! flock -n "$lock" true; then
    fail "a queue runner still holds $lock after the demo"
fi

if [ "$failures" -ne 0 ]; then
    echo "--- scripts/demo said:"
    echo "$output"
    exit 1
fi
echo "1 passed, 0 failed"
