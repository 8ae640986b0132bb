# shellcheck shell=bash
# shellcheck disable=SC2154 # serving_user, deploy_repo, deploy_repos_dir: set by the suite
# Sourced by the tests/deploy suites: a throwaway root with an installed trunkgate, services
# started on loopback and stopped on exit, test users, a webhook receiver, and the push scenario
# every transport runs with the real git client. Needs root (users, sshd, runuser).
#
# A suite sets `serving_user`, `identity_variable` and defines `transport_url USER` (the URL to
# push to as USER) and `transport_env USER` (VAR=VALUE lines for git, e.g. GIT_SSH_COMMAND),
# then calls deploy_scenario.

deploy_passed=0
deploy_pids=()
deploy_logs=()

deploy_fail() {
    echo "FAIL: $*" >&2
    exit 1
}

deploy_ok() {
    deploy_passed=$((deploy_passed + 1))
    echo "ok: $*"
}

# deploy_expect_eq WHAT EXPECTED ACTUAL
deploy_expect_eq() {
    [ "$2" = "$3" ] && { deploy_ok "$1"; return; }
    printf 'FAIL: %s\n--- expected:\n%s\n--- actual:\n%s\n' "$1" "$2" "$3" >&2
    exit 1
}

# deploy_expect_contains WHAT NEEDLE HAYSTACK
deploy_expect_contains() {
    [[ "$3" == *"$2"* ]] && { deploy_ok "$1"; return; }
    printf 'FAIL: %s\n--- expected to contain:\n%s\n--- actual:\n%s\n' "$1" "$2" "$3" >&2
    exit 1
}

# The suites create users, start sshd and switch users: root only, and never silently skipped.
deploy_require_root() {
    [ "$(id -u)" -eq 0 ] ||
        deploy_fail "the deploy suites need root (they create test users, start sshd and nginx, and run commands as the serving user); run ctest as root"
}

# deploy_require PROGRAM PACKAGE: fails, naming the Debian package, when PROGRAM is missing.
deploy_require() {
    command -v "$1" >/dev/null 2>&1 ||
        deploy_fail "$1 is missing: install the Debian package $2 (scripts/test installs it)"
}

deploy_cleanup() {
    local status=$?
    local index pid
    for ((index = ${#deploy_pids[@]} - 1; index >= 0; index--)); do
        pid=${deploy_pids[index]}
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${deploy_pids[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ "$status" -ne 0 ]; then
        local log
        for log in "${deploy_logs[@]}"; do
            [ -s "$log" ] || continue
            echo "--- last lines of $log:" >&2
            tail -n 40 "$log" >&2
        done
    fi
    if [ -n "${TRUNKGATE_DEPLOY_KEEP:-}" ]; then
        echo "kept $deploy_root" >&2
    else
        rm -rf "$deploy_root"
    fi
    exit "$status"
}

# deploy_setup CMAKE BUILD_DIR: a root directory that every test user can enter, trunkgate
# installed into $deploy_root/prefix with `cmake --install` (as a server has it in /usr/local:
# the serving user runs the hooks from there, whatever the permissions of the build tree), a
# client HOME for git, and the exit trap that stops every service and removes it all.
deploy_setup() {
    local cmake_command=$1 build_dir=$2
    deploy_require_root
    deploy_require git git
    deploy_require runuser util-linux
    deploy_require setpriv util-linux
    deploy_require flock util-linux
    deploy_require useradd passwd
    deploy_require jq jq
    deploy_require webhook webhook
    deploy_require openssl openssl
    # The serving users pass through the directories made below (etc/, srv/): a root shell with
    # a stricter umask (077) would lock them out, and that is the runner's setting, not ours.
    umask 022
    deploy_root=$(mktemp -d "${TMPDIR:-/tmp}/trunkgate-deploy.XXXXXX")
    trap deploy_cleanup EXIT
    chmod 0755 "$deploy_root"
    "$cmake_command" --install "$build_dir" --prefix "$deploy_root/prefix" >/dev/null
    trunkgate=$deploy_root/prefix/bin/trunkgate
    export HOME=$deploy_root/client-home GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
    mkdir -p "$HOME" "$deploy_root/etc"
    git config --global user.name "Deploy Test"
    git config --global user.email deploy@example.com
    git config --global init.defaultBranch main
}

# deploy_lock NAME: holds /run/lock/trunkgate-deploy-NAME.lock until the suite exits, so two
# checkouts on one machine never share a test user (or its home) at the same time.
deploy_lock() {
    local lock_dir=/run/lock
    [ -d "$lock_dir" ] || lock_dir=/tmp
    exec {deploy_lock_fd}>"$lock_dir/trunkgate-deploy-$1.lock"
    # A suite takes well under a minute; ctest gives each 240 s in all.
    flock -w 150 "$deploy_lock_fd" || deploy_fail "another deploy test has held $1 for 150 s"
}

# deploy_user NAME HOME: the system user NAME exists (created once, kept for later runs), has
# HOME as its home directory (created, owned by it, 0755) and a login shell, and can log in with
# a key: its password is '*' (none), not '!' (locked, which sshd refuses without PAM).
deploy_user() {
    local name=$1 home=$2
    deploy_lock "$name"
    if ! id -u "$name" >/dev/null 2>&1; then
        useradd --system --user-group --no-create-home --home-dir "$home" --shell /bin/sh "$name" ||
            id -u "$name" >/dev/null 2>&1 || deploy_fail "cannot create user $name"
    fi
    # usermod refuses to move the home of a user with a running process (a previous run's
    # background deliverer may still be finishing): give it a few seconds.
    local attempt
    for attempt in $(seq 50); do
        usermod --home "$home" --shell /bin/sh --password '*' "$name" 2>"$deploy_root/usermod.err" &&
            break
        [ "$attempt" -lt 50 ] || deploy_fail "usermod $name: $(<"$deploy_root/usermod.err")"
        sleep 0.2
    done
    mkdir -p "$home"
    chown "$name:" "$home"
    chmod 0755 "$home"
}

# A TCP port on 127.0.0.1 that nothing listens on (a later bind may still lose a race: callers
# retry).
deploy_free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
}

# deploy_start LOG COMMAND...: runs COMMAND in the background with output to LOG; stopped by the
# exit trap. Sets deploy_last_pid.
deploy_start() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 </dev/null &
    deploy_last_pid=$!
    deploy_pids+=("$deploy_last_pid")
    deploy_logs+=("$log")
}

# deploy_wait_port PORT PID: true once something accepts on 127.0.0.1:PORT (within 10 s), false
# when PID exits first or time runs out.
deploy_wait_port() {
    local port=$1 pid=$2
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# deploy_as USER COMMAND...: COMMAND as USER, the way an admin switches users (runuser), in /.
deploy_as() {
    local user=$1
    shift
    (cd / && runuser -u "$user" -- "$@")
}

# deploy_template NAME: the path of templates/deploy/NAME as `cmake --install` ships it, where an
# admin copies it from (share/trunkgate/templates/deploy/).
deploy_template() {
    local path=$deploy_root/prefix/share/trunkgate/templates/deploy/$1
    [ -f "$path" ] || deploy_fail "cmake --install did not ship templates/deploy/$1"
    echo "$path"
}

# deploy_render TEMPLATE OUT FROM TO [FROM TO]...: copies the shipped templates/deploy/TEMPLATE to
# OUT with each literal FROM replaced by TO; fails when a FROM is not in the template, so the
# suites always run the configuration the templates ship.
deploy_render() {
    local template out=$2
    template=$(deploy_template "$1") || exit 1
    shift 2
    local text
    text=$(<"$template")
    while [ $# -ge 2 ]; do
        [[ "$text" == *"$1"* ]] || deploy_fail "templates/deploy/${template##*/} no longer contains '$1'"
        text=${text//"$1"/"$2"}
        shift 2
    done
    printf '%s\n' "$text" >"$out"
}

# ---------------------------------------------------------------------------------------------
# The event receiver: adnanh/webhook, as a pipeline would run it. Its hook runs only for a
# request signed with the secret, and records delivery id, ref, after, pusher.name and the push
# options (header X-Trunkgate-Push-Options, a JSON array; empty when the push had none),
# tab-separated, in $receiver_dir/received/<delivery>.<pid>.

deploy_start_receiver() {
    receiver_dir=$deploy_root/receiver
    mkdir -p "$receiver_dir/received"
    receiver_secret=tg-deploy-$RANDOM$RANDOM
    printf '%s\n' "$receiver_secret" >"$deploy_root/etc/webhook-secret"
    cat >"$receiver_dir/record.sh" <<EOF
#!/bin/sh
set -e
printf '%s\t%s\t%s\t%s\t%s\n' "\$1" "\$2" "\$3" "\$4" "\$5" > "$receiver_dir/received/.\$1.\$\$"
mv "$receiver_dir/received/.\$1.\$\$" "$receiver_dir/received/\$1.\$\$"
EOF
    chmod 0755 "$receiver_dir/record.sh"
    jq -n --arg script "$receiver_dir/record.sh" --arg dir "$receiver_dir" \
        --arg secret "$receiver_secret" '[{
            id: "push", "execute-command": $script, "command-working-directory": $dir,
            "pass-arguments-to-command": [
                {source: "header", name: "X-GitHub-Delivery"},
                {source: "payload", name: "ref"}, {source: "payload", name: "after"},
                {source: "payload", name: "pusher.name"},
                {source: "header", name: "X-Trunkgate-Push-Options"}],
            "trigger-rule-mismatch-http-response-code": 403,
            "trigger-rule": {match: {type: "payload-hmac-sha256", secret: $secret,
                parameter: {source: "header", name: "X-Hub-Signature-256"}}}}]' \
        >"$receiver_dir/hooks.json"
    local attempt
    for attempt in 1 2 3; do
        receiver_port=$(deploy_free_port)
        deploy_start "$receiver_dir/webhook.log" webhook -hooks "$receiver_dir/hooks.json" \
            -ip 127.0.0.1 -port "$receiver_port" -verbose
        deploy_wait_port "$receiver_port" "$deploy_last_pid" && return
        kill "$deploy_last_pid" 2>/dev/null || true
    done
    deploy_fail "webhook did not start on 127.0.0.1 (attempt $attempt)"
}

# The receiver's records, one line each, sorted.
deploy_received() {
    cat "$receiver_dir"/received/* 2>/dev/null | sort
}

# deploy_wait_received COUNT: waits (30 s at most, for a loaded machine) until the receiver has
# COUNT records.
deploy_wait_received() {
    for _ in $(seq 600); do
        [ "$(deploy_received | wc -l)" -ge "$1" ] && return 0
        sleep 0.05
    done
    return 1
}

# ---------------------------------------------------------------------------------------------
# sshd, from templates/deploy/sshd-trunkgate.conf, for one account.

# deploy_ssh_init: a host key for the test's sshd instances, the client's known_hosts pinning
# it (under the alias trunkgate-deploy, whatever the port), and sshd's privilege separation
# directory (Debian's ssh.service creates /run/sshd; no service runs here).
deploy_ssh_init() {
    deploy_require /usr/sbin/sshd openssh-server
    deploy_require ssh openssh-client
    deploy_require ssh-keygen openssh-client
    ssh_dir=$deploy_root/ssh
    mkdir -p "$ssh_dir" "$deploy_root/keys"
    ssh-keygen -q -t ed25519 -N '' -C trunkgate-deploy -f "$ssh_dir/host_ed25519_key"
    echo "trunkgate-deploy $(cut -d' ' -f1-2 "$ssh_dir/host_ed25519_key.pub")" >"$ssh_dir/known_hosts"
    [ -d /run/sshd ] || install -d -m 0755 /run/sshd
}

# deploy_key NAME: a key pair for NAME in $deploy_root/keys (the client side, root's).
deploy_key() {
    ssh-keygen -q -t ed25519 -N '' -C "$1@deploy-test" -f "$deploy_root/keys/$1"
}

# deploy_ssh_command NAME: the GIT_SSH_COMMAND that logs in with NAME's key. It also asks the
# server to set TRUNKGATE_USER=mallory, which sshd must not accept (no AcceptEnv for it).
deploy_ssh_command() {
    echo "ssh -F /dev/null -i $deploy_root/keys/$1 -o IdentitiesOnly=yes -o BatchMode=yes" \
        "-o HostKeyAlias=trunkgate-deploy -o UserKnownHostsFile=$ssh_dir/known_hosts" \
        "-o StrictHostKeyChecking=yes -o SetEnv=TRUNKGATE_USER=mallory"
}

# deploy_start_sshd NAME ACCOUNT [CONFIG LINE...]: sshd -D on a free port of 127.0.0.1 that lets
# only ACCOUNT log in, configured by the shipped snippet (its "Match User git" made
# "Match User ACCOUNT") after the test's own lines (port, host key, pid file, no PAM) and the
# given CONFIG LINEs, which therefore win over the snippet. Sets sshd_port.
deploy_start_sshd() {
    local name=$1 account=$2
    shift 2
    local config=$ssh_dir/$name.conf attempt
    deploy_render sshd-trunkgate.conf "$ssh_dir/$name-trunkgate.conf" \
        "Match User git" "Match User $account"
    for attempt in 1 2 3; do
        sshd_port=$(deploy_free_port)
        {
            echo "# tests/deploy: sshd instance $name"
            echo "ListenAddress 127.0.0.1"
            echo "Port $sshd_port"
            echo "HostKey $ssh_dir/host_ed25519_key"
            echo "PidFile $ssh_dir/$name.pid"
            echo "UsePAM no"
            echo "StrictModes yes"
            echo "LogLevel VERBOSE"
            echo "AllowUsers $account"
            printf '%s\n' "$@"
            echo "Include $ssh_dir/$name-trunkgate.conf"
        } >"$config"
        /usr/sbin/sshd -t -f "$config" || deploy_fail "sshd -t refuses $config"
        deploy_start "$ssh_dir/$name.log" /usr/sbin/sshd -D -e -f "$config"
        deploy_wait_port "$sshd_port" "$deploy_last_pid" && return
        kill "$deploy_last_pid" 2>/dev/null || true
    done
    deploy_fail "sshd ($name) did not start on 127.0.0.1"
}

# ---------------------------------------------------------------------------------------------
# The repository.

# deploy_policy IDENTITY_VARIABLE: the policy every suite installs. main is protected (no force
# push, only alice may move it), the identity comes only from the transport's variable, and
# events go to the receiver with a secret file the serving user can read.
deploy_policy() {
    cat <<EOF
# tests/deploy: the policy the transport suites install.
[trunk]
branch = "main"

[[protect]]
refs = ["refs/heads/main"]
allow_force_push = false
push_allowed = ["alice"]

[identity]
env = ["$1"]

[feedback]
contact = "#git-admins"

[events]
deliver = "background"

[[events.endpoint]]
url = "http://127.0.0.1:$receiver_port/hooks/push"
secret_file = "$deploy_root/etc/webhook-secret"
EOF
}

# ---------------------------------------------------------------------------------------------
# Pushing through the transport.

# The lines the server's hooks sent (git's "remote: " prefix and padding removed).
deploy_remote_lines() {
    sed -n 's/^remote: //p' <<<"$1" | sed 's/[[:space:]]*$//'
}

# deploy_push USER PROTOCOL REFSPEC [PUSH ARGUMENTS...]: `git push` from the clone through the
# transport as USER with protocol.version=PROTOCOL. Sets push_output (stdout and stderr) and
# push_status.
deploy_push() {
    local user=$1 protocol=$2 refspec=$3
    shift 3
    local -a environment=()
    mapfile -t environment < <(transport_env "$user")
    push_status=0
    push_output=$(env "${environment[@]}" git -C "$deploy_clone" -c protocol.version="$protocol" \
        push "$@" "$(transport_url "$user")" "$refspec" 2>&1) || push_status=$?
}

# deploy_expect_push STATUS WHAT: the last deploy_push exited with STATUS (0 accepted, 1 refused);
# shows git's output when not.
deploy_expect_push() {
    [ "$push_status" = "$1" ] && { deploy_ok "$2"; return; }
    printf 'FAIL: %s\n--- git push exited %s, not %s:\n%s\n' "$2" "$push_status" "$1" "$push_output" >&2
    exit 1
}

# deploy_commit MESSAGE: a commit in the clone; prints its id.
deploy_commit() {
    echo "$1" >>"$deploy_clone/log.txt"
    git -C "$deploy_clone" add log.txt
    git -C "$deploy_clone" commit -q -m "$1"
    git -C "$deploy_clone" rev-parse HEAD
}

# The id REF has in the served repository, read as the serving user (as git there would).
deploy_server_rev() {
    deploy_as "$serving_user" git -C "$deploy_repo" rev-parse --verify -q "$1" || true
}

# deploy_scenario: pushes through the transport and checks what a user and an admin would see.
# Needs deploy_repo (the served repository, trunkgate installed, owned by serving_user),
# deploy_repos_dir (what `deliver --all-under` serves), the receiver, and the suite's
# transport_url / transport_env.
deploy_scenario() {
    local queued="trunkgate: 1 event queued for 127.0.0.1:$receiver_port"
    deploy_clone=$deploy_root/clone
    git init -q "$deploy_clone"

    # Accepted, protocol v0, with push options.
    local first second feature rewritten
    first=$(deploy_commit "feat: first")
    deploy_push alice 0 main -o ci.skip -o note=v0
    deploy_expect_push 0 "alice's push over protocol v0 is accepted"
    deploy_expect_eq "its remote: lines are the queued event only" "$queued" \
        "$(deploy_remote_lines "$push_output")"
    deploy_expect_eq "main moved on the server" "$first" "$(deploy_server_rev refs/heads/main)"

    # Accepted, protocol v2, with a push option.
    second=$(deploy_commit "feat: second")
    deploy_push alice 2 main -o note=v2
    deploy_expect_push 0 "alice's push over protocol v2 is accepted"
    deploy_expect_eq "its remote: lines are the queued event only" "$queued" \
        "$(deploy_remote_lines "$push_output")"

    # bob: a branch of his own is fine, main is alice's only (push_allowed): the identity is
    # the one the transport authenticated, and the policy acts on it.
    git -C "$deploy_clone" switch -q -c feature/bob
    feature=$(deploy_commit "feat: bob's change")
    deploy_push bob 2 feature/bob
    deploy_expect_push 0 "bob's push of feature/bob is accepted"
    deploy_push bob 0 feature/bob:main
    deploy_expect_push 1 "bob's push to main is rejected"
    deploy_expect_eq "the rejection names bob, as the transport identified him" \
        "trunkgate: push rejected: 1 problem (policy trunkgate.toml)
  refs/heads/main  [push-restricted] 'bob' may not update this protected ref (allowed: alice)
      hint: push to a branch of your own and have it merged: git push origin HEAD:refs/heads/feature/<topic>
  questions: #git-admins" "$(deploy_remote_lines "$push_output")"
    git -C "$deploy_clone" switch -q main

    # A force-push to main: rejected, with exactly these remote: lines, and main stays.
    git -C "$deploy_clone" commit -q --amend -m "feat: second, rewritten"
    rewritten=$(git -C "$deploy_clone" rev-parse HEAD)
    deploy_push alice 0 main --force
    deploy_expect_push 1 "alice's force-push to main is rejected"
    deploy_expect_eq "the rejection's remote: lines" \
        "trunkgate: push rejected: 1 problem (policy trunkgate.toml)
  refs/heads/main  [force-push] not a fast-forward of a protected ref (was ${second:0:7}, now ${rewritten:0:7}): it would drop commits others already have
      hint: git pull --rebase origin main && git push origin main
  questions: #git-admins" "$(deploy_remote_lines "$push_output")"
    deploy_expect_contains "git reports the hook's refusal" \
        " ! [remote rejected] main -> main (pre-receive hook declined)" "$push_output"
    deploy_expect_eq "main did not move" "$second" "$(deploy_server_rev refs/heads/main)"
    # Back to the server's main, for what a suite pushes next.
    git -C "$deploy_clone" reset -q --hard "$second"

    # The events, sent by each push's background deliverer (running as the serving user), signed
    # (webhook only records a request whose X-Hub-Signature-256 matches), with the identity and
    # the push options the hook saw.
    deploy_wait_received 3 || deploy_fail "the receiver got $(deploy_received | wc -l) of 3 events"
    deploy_expect_eq "three events arrived, with pusher.name and the push options" \
        "$(printf '%s\n' "refs/heads/feature/bob	$feature	bob	" \
            "refs/heads/main	$first	alice	[\"ci.skip\",\"note=v0\"]" \
            "refs/heads/main	$second	alice	[\"note=v2\"]" | sort)" \
        "$(deploy_received | cut -f2- | sort)"

    # The audit log, read by the serving user: each decision paired with what landed (the hooks
    # find the same push id through this transport's receive-pack).
    deploy_expect_eq "the audit log records each push with the transport's identity and what landed" \
        'alice accept refs/heads/main [] landed: refs/heads/main
alice accept refs/heads/main [] landed: refs/heads/main
bob accept refs/heads/feature/bob [] landed: refs/heads/feature/bob
bob reject refs/heads/main ["push-restricted"] landed: 
alice reject refs/heads/main ["force-push"] landed: ' \
        "$(deploy_as "$serving_user" "$trunkgate" audit --repo "$deploy_repo" --format json |
            jq -r '"\(.identity) \(.decision) \([.refs[].ref] | join(",")) \([.findings[].rule] | tojson) landed: \([.landed[].ref] | join(","))"')"
    deploy_expect_eq "every record of a push carries the push id" "" \
        "$(deploy_as "$serving_user" jq -c 'select(.push == null)' "$deploy_repo/trunkgate/audit.log")"

    # What the deliver timer does, as the serving user: send an event again.
    local id
    id=$(grep -l "	$first	" "$receiver_dir"/received/* | head -n 1)
    id=${id##*/}
    id=${id%%.*}
    deploy_expect_contains "events redeliver, as $serving_user" "queued $id again" \
        "$(deploy_as "$serving_user" "$trunkgate" events redeliver --repo "$deploy_repo" "$id")"
    local delivered deliver_status=0
    delivered=$(deploy_as "$serving_user" "$trunkgate" deliver --all-under "$deploy_repos_dir" 2>&1) ||
        deliver_status=$?
    deploy_expect_eq "trunkgate deliver --all-under, as $serving_user, exits 0" 0 "$deliver_status"
    deploy_expect_eq "it sent the event again" \
        "$deploy_repo: delivered $id refs/heads/main to http://127.0.0.1:$receiver_port/hooks/push (HTTP 200)
$deploy_repo: 1 delivered, 0 retrying, 0 failed, 0 dead, 0 busy, 0 unreadable" "$delivered"
    deploy_wait_received 4 || deploy_fail "the redelivered event did not arrive"
    deploy_expect_eq "the receiver got it twice, same id" 2 \
        "$(cut -f1 < <(deploy_received) | grep -c "^$id$")"
    deploy_expect_eq "nothing waits in the spool; three deliveries are kept" "[] 3" \
        "$(deploy_as "$serving_user" "$trunkgate" events --repo "$deploy_repo" --format json |
            jq -c '"\(.events) \(.delivered)"' -r)"
}

# ---------------------------------------------------------------------------------------------
# The merge queue through the transport (docs/queue.md): `git push origin HEAD:refs/for/main`
# goes to git's proc-receive hook (git >= 2.29, receive.procReceiveRefs = refs/for), which the
# transport runs as the serving user with the pusher's identity, as it runs pre-receive.

# deploy_queue_policy IDENTITY_VARIABLE: main protected by the required check `build`, with a
# merge queue in front of it that only a person starts (runner = "manual": the suites run
# `trunkgate queue run` themselves); bob may ask for priority.
deploy_queue_policy() {
    cat <<EOF
# tests/deploy: the policy of the merge queue repository.
[trunk]
branch = "main"

[[protect]]
refs = ["refs/heads/main"]
allow_force_push = false
required_checks = ["build"]

[[queue]]
target = "refs/heads/main"
method = "rebase"
runner = "manual"
priority = ["bob"]

[identity]
env = ["$1"]

[feedback]
contact = "#git-admins"
EOF
}

# deploy_queue_seed: the queued repository's first commit on main (the queue needs a target to
# land on), in a clone at $deploy_queue_seed, and deploy_queue_policy in
# $deploy_root/etc/queue-policy.toml, readable by the serving user. Sets deploy_queue_base.
deploy_queue_seed() {
    deploy_queue_seed=$deploy_root/queue-seed
    git init -q "$deploy_queue_seed"
    echo "seed" >"$deploy_queue_seed/README"
    git -C "$deploy_queue_seed" add README
    git -C "$deploy_queue_seed" commit -q -m "chore: the first commit"
    deploy_queue_base=$(git -C "$deploy_queue_seed" rev-parse HEAD)
    deploy_queue_policy "$identity_variable" >"$deploy_root/etc/queue-policy.toml"
    chmod 0644 "$deploy_root/etc/queue-policy.toml"
}

# deploy_queue_repository REPO: what an admin does, as root, for a repository with a queue: a
# bare repository with the first commit on main (pushed before any hook exists), trunkgate
# installed with deploy_queue_policy, then handed to the serving user.
deploy_queue_repository() {
    local repo=$1
    deploy_queue_seed
    git init -q --bare "$repo"
    git -C "$deploy_queue_seed" push -q "$repo" main
    "$trunkgate" install --policy "$deploy_root/etc/queue-policy.toml" "$repo" >/dev/null
    chown -R "$serving_user:" "$repo"
}

# deploy_git USER GIT_ARGUMENTS...: git with the transport's environment for USER.
deploy_git() {
    local user=$1
    shift
    local -a environment=()
    mapfile -t environment < <(transport_env "$user")
    env "${environment[@]}" git "$@"
}

# deploy_queue_commit FILE MESSAGE: a commit adding FILE in the clone; prints its id. (Each
# change touches a file of its own, so the queue's rebase of one onto another never conflicts.)
deploy_queue_commit() {
    echo "$2" >"$deploy_clone/$1"
    git -C "$deploy_clone" add "$1"
    git -C "$deploy_clone" commit -q -m "$2"
    git -C "$deploy_clone" rev-parse HEAD
}

# The refs `git ls-remote` shows alice through the transport, one name a line.
deploy_remote_refs() {
    deploy_git alice ls-remote --refs "$(transport_url alice)" | cut -f2
}

# deploy_queue_scenario REPO: alice and bob enter the merge queue of main by pushing to
# refs/for/main through the transport, with the real git client; root runs the queue, CI's
# status is recorded, and main lands where the developers fetch it. REPO (the served
# repository, made by deploy_queue_repository or the suite's own way, with deploy_queue_base on
# main) is what transport_url names.
deploy_queue_scenario() {
    local repo=$1
    local base=$deploy_queue_base
    # deploy_push, deploy_queue_commit and deploy_server_rev use the queued repository and its
    # clone.
    local deploy_repo=$repo deploy_clone=$deploy_root/queue-clone
    local speculative=refs/heads/trunkgate/queue/main
    # (--branch: a repository gitolite creates has HEAD on master)
    deploy_git alice clone -q --branch main "$(transport_url alice)" "$deploy_clone" ||
        deploy_fail "alice cannot clone $repo through the transport"
    deploy_expect_eq "alice clones main through the transport" "$base" \
        "$(git -C "$deploy_clone" rev-parse HEAD)"

    # alice queues a change: git hands refs/for/main to the proc-receive hook, which queues it
    # and creates no ref; the pusher reads the position, git a new reference.
    local alice_change bob_change
    git -C "$deploy_clone" switch -q -c alice-change
    alice_change=$(deploy_queue_commit alice.txt "feat: alice's queued change")
    deploy_push alice 0 HEAD:refs/for/main
    deploy_expect_push 0 "alice's push to refs/for/main is accepted"
    deploy_expect_eq "its remote: line is the queue position" \
        "trunkgate: queued for main at position 1 (id q-0001); CI runs on $speculative/q-0001" \
        "$(deploy_remote_lines "$push_output")"
    deploy_expect_contains "git's result line reports the reference proc-receive accepted" \
        " * [new reference]   HEAD -> refs/for/main" "$push_output"

    # bob queues a topic, over protocol v2, asking for priority (a push option: it reaches the
    # hook only where receive.advertisePushOptions is true), which the policy grants him.
    git -C "$deploy_clone" switch -q -c bob-login "$base"
    bob_change=$(deploy_queue_commit bob.txt "feat: bob's login")
    deploy_push bob 2 HEAD:refs/for/main/login -o trunkgate.priority=high
    deploy_expect_push 0 "bob's push to refs/for/main/login with -o trunkgate.priority=high is accepted"
    deploy_expect_eq "its remote: line puts him first" \
        "trunkgate: queued for main at position 1 (id q-0002); CI runs on $speculative/q-0002" \
        "$(deploy_remote_lines "$push_output")"
    deploy_expect_contains "git's result line" " * [new reference]   HEAD -> refs/for/main/login" \
        "$push_output"

    deploy_expect_eq "no refs/for/ ref exists: ls-remote shows main and the queue's own refs" \
        "refs/heads/main
refs/trunkgate/queue/q-0001
refs/trunkgate/queue/q-0002" "$(deploy_remote_refs)"
    deploy_expect_eq "trunkgate queue --format json (root): each entry with the transport's identity" \
        "q-0002 bob login true waiting $bob_change
q-0001 alice  false waiting $alice_change" \
        "$("$trunkgate" queue --repo "$repo" --format json |
            jq -r '.queues[0].entries[] | "\(.id) \(.pusher) \(.topic) \(.priority) \(.state) \(.commit)"')"
    deploy_expect_eq "the hook wrote both entries to the journal as $serving_user" 2 \
        "$(find "$repo/trunkgate/queue/entries" -name '*.json' -user "$serving_user" | wc -l)"
    deploy_expect_eq "nothing in the journal belongs to another user" "" \
        "$(find "$repo/trunkgate/queue" ! -user "$serving_user")"

    # main has a queue: a direct push to it is refused, and main stays.
    git -C "$deploy_clone" switch -q main
    local direct
    direct=$(deploy_queue_commit direct.txt "feat: straight to main")
    deploy_push alice 0 main
    deploy_expect_push 1 "alice's direct push to main is rejected"
    deploy_expect_eq "by queue-required, whose hint is the queue (and CI has not passed it either)" \
        "trunkgate: push rejected: 2 problems (policy trunkgate.toml)
  refs/heads/main  [required-checks] check 'build' is missing for ${direct:0:7}
      hint: the CI job that reports this context has not run for this commit: start it (or ask why it did not), wait for success, then push again
  refs/heads/main  [queue-required] main has a merge queue: changes land through it, on the commit CI tested, never by a direct push
      hint: queue the change: git push origin HEAD:refs/for/main (trunkgate queue shows where it stands)
  questions: #git-admins" "$(deploy_remote_lines "$push_output")"
    deploy_expect_contains "git reports the pre-receive hook's refusal" \
        " ! [remote rejected] main -> main (pre-receive hook declined)" "$push_output"
    deploy_expect_eq "main did not move" "$base" "$(deploy_server_rev refs/heads/main)"
    git -C "$deploy_clone" reset -q --hard "$base"

    # root runs the queue (it acts as the repository's owner): a train, bob's change on main,
    # alice's on bob's, each published as a branch CI fetches through the transport.
    local ran run_status=0 bob_build alice_build
    ran=$("$trunkgate" queue run --repo "$repo" 2>&1) || run_status=$?
    bob_build=$(deploy_server_rev "$speculative/q-0002")
    alice_build=$(deploy_server_rev "$speculative/q-0001")
    deploy_expect_eq "trunkgate queue run, as root, builds the train" \
        "$repo: q-0002: testing ${bob_build:0:7} on $speculative/q-0002
$repo: q-0001: testing ${alice_build:0:7} on $speculative/q-0001
exit 0" "$ran
exit $run_status"
    deploy_expect_eq "bob's speculative commit is built on main, alice's on bob's" "$base $bob_build" \
        "$(deploy_as "$serving_user" git -C "$repo" rev-parse "$bob_build^" "$alice_build^" | xargs)"
    deploy_git alice -C "$deploy_clone" fetch -q origin "$speculative/q-0001" ||
        deploy_fail "alice cannot fetch $speculative/q-0001"
    deploy_expect_eq "CI fetches the speculative branch through the transport" "$alice_build" \
        "$(git -C "$deploy_clone" rev-parse FETCH_HEAD)"

    # CI's verdict on the exact commits it built, then the next run lands both, in order.
    local build
    for build in "$bob_build" "$alice_build"; do
        env "$identity_variable=ci" "$trunkgate" status set --repo "$repo" "$build" build success >/dev/null ||
            deploy_fail "trunkgate status set $build build success (as root) failed"
    done
    run_status=0
    ran=$("$trunkgate" queue run --repo "$repo" 2>&1) || run_status=$?
    deploy_expect_eq "the next queue run lands both on main" \
        "$repo: q-0002: landed: refs/heads/main is now ${bob_build:0:7}
$repo: q-0001: landed: refs/heads/main is now ${alice_build:0:7}
exit 0" "$ran
exit $run_status"
    deploy_expect_eq "main is the commit CI tested last" "$alice_build" \
        "$(deploy_server_rev refs/heads/main)"

    # The developers see it the ordinary way.
    deploy_git alice -C "$deploy_clone" fetch -q origin || deploy_fail "alice cannot fetch"
    deploy_expect_eq "alice fetches main through the transport: both changes, in queue order" \
        "$alice_build feat: alice's queued change
$bob_build feat: bob's login
$base chore: the first commit" "$(git -C "$deploy_clone" log --format='%H %s' origin/main)"
    deploy_expect_eq "the queue's refs are gone once the entries landed" "refs/heads/main
refs/notes/trunkgate/checks" "$(deploy_remote_refs)"
    deploy_expect_eq "every file in the queued repository belongs to $serving_user" "" \
        "$(find "$repo" ! -user "$serving_user")"
    # What doctor makes of it, run as root: the queue's hook, refs/for, required checks and
    # journal are in order; only the note that root reads another user's repository.
    deploy_expect_eq "trunkgate doctor (root) finds the queued repository healthy" \
        "true [] [\"owner-only\"]" \
        "$("$trunkgate" doctor "$repo" --format json |
            jq -r '"\(.healthy) \([.repositories[].problems[].id] | tojson) \([.repositories[].notes[].id] | tojson)"')"
}

# After all the pushes, deliveries and admin commands, every file in the repository still
# belongs to the serving user (a root-owned file in it breaks the next push or delivery).
deploy_check_ownership() {
    deploy_expect_eq "every file in the repository belongs to $serving_user" "" \
        "$(find "$deploy_repo" ! -user "$serving_user")"
}

# deploy_done: the summary line ctest shows.
deploy_done() {
    echo "$deploy_passed passed, 0 failed"
}
