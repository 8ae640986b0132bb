#!/usr/bin/env bash
# gitolite3: an instance set up for its own account (tg-gitolite, its own HOME) with `gitolite
# setup`, the rc line of templates/deploy/gitolite.rc, users and a repository added by pushing
# gitolite-admin, served by sshd (templates/deploy/sshd-trunkgate.conf) through gitolite's own
# authorized_keys lines. trunkgate is installed per repository by the gitolite account; the
# identity is GL_USER. Then trunkgate goes into gitolite's common hooks, and a repository added
# to gitolite.conf afterwards, and a wild repository, are gated by the server-wide policy without
# `trunkgate install` ever running on them. The merge queue: a repository with a [[queue]] that
# people enter by pushing to refs/for/main through gitolite (its proc-receive hook and
# receive.procReceiveRefs kept by `gitolite setup` and gitolite.conf's compile), and one that gets
# both from the common hooks and a gitolite.conf `config` line alone.
# usage: gitolite_test.sh CMAKE BUILD_DIR
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
. "$(dirname "$0")/lib.sh"

deploy_require gitolite gitolite3
deploy_setup "$@"
deploy_ssh_init

serving_user=tg-gitolite
identity_variable=GL_USER
home=$deploy_root/gitolite-home
deploy_user "$serving_user" "$home"
deploy_repos_dir=$home/repositories
deploy_repo=$deploy_repos_dir/app.git
for person in admin alice bob; do
    deploy_key "$person"
done

deploy_start_receiver
chown "$serving_user:" "$deploy_root/etc/webhook-secret"
chmod 0600 "$deploy_root/etc/webhook-secret"

# gitolite, as its account: setup with the admin's key, then the shipped rc line in place of
# the GIT_CONFIG_KEYS line gitolite wrote.
install -o "$serving_user" -m 0644 "$deploy_root/keys/admin.pub" "$home/admin.pub"
deploy_as "$serving_user" gitolite setup -pk "$home/admin.pub" >"$deploy_root/gitolite-setup.log" 2>&1 ||
    deploy_fail "gitolite setup failed: $(<"$deploy_root/gitolite-setup.log")"
rc_text=$(<"$home/.gitolite.rc")
default_keys="    GIT_CONFIG_KEYS                 =>  '',"
[[ "$rc_text" == *"$default_keys"* ]] ||
    deploy_fail "gitolite setup wrote no '$default_keys' line to replace in $home/.gitolite.rc"
rc_line=$(grep -v '^#' "$(deploy_template gitolite.rc)")
printf '%s\n' "${rc_text/"$default_keys"/"$rc_line"}" >"$home/.gitolite.rc"

# The server-wide policy, for every repository without one of its own. A server has it at
# /etc/trunkgate/policy.toml; this test must not write there, so sshd hands the hooks its path
# in TRUNKGATE_SYSTEM_POLICY (sshd's SetEnv reaches gitolite-shell, git and the hooks).
server_policy=$deploy_root/etc/server-policy.toml
cat >"$server_policy" <<'EOF'
# tests/deploy: the server-wide policy of the gitolite suite.
[trunk]
branch = "main"

[[protect]]
refs = ["refs/heads/main"]
allow_force_push = false
push_allowed = ["alice"]

[branches]
name_pattern = '^refs/heads/(main|master|feature/[a-z0-9-]+)$'

[identity]
env = ["GL_USER"]

[feedback]
contact = "#git-admins (server-wide policy)"
EOF
chmod 0644 "$server_policy"

deploy_start_sshd gitolite "$serving_user" "SetEnv TRUNKGATE_SYSTEM_POLICY=$server_policy"
gitolite_url=ssh://$serving_user@127.0.0.1:$sshd_port

# The gitolite admin (root here, with the admin key) adds alice and bob and the repository the
# way gitolite's documentation says: a push to gitolite-admin.
admin_clone=$deploy_root/gitolite-admin
GIT_SSH_COMMAND=$(deploy_ssh_command admin) git clone -q "$gitolite_url/gitolite-admin" "$admin_clone"
cp "$deploy_root/keys/alice.pub" "$deploy_root/keys/bob.pub" "$admin_clone/keydir/"
cat >>"$admin_clone/conf/gitolite.conf" <<'EOF'

repo app
    RW+     =   alice
    RW      =   bob
    config receive.advertisePushOptions = true

repo queue
    RW+                     =   alice
    RW  refs/heads/feature/ =   bob
    config receive.advertisePushOptions = true
EOF
git -C "$admin_clone" add -A
git -C "$admin_clone" commit -q -m "app and queue: alice and bob"
admin_status=0
admin_output=$(GIT_SSH_COMMAND=$(deploy_ssh_command admin) git -C "$admin_clone" push origin master 2>&1) ||
    admin_status=$?
deploy_expect_eq "the admin's push to gitolite-admin is accepted" 0 "$admin_status"
deploy_expect_contains "gitolite creates the repository" "Initialized empty Git repository in $deploy_repo/" \
    "$admin_output"
deploy_expect_eq "gitolite.conf set receive.advertisePushOptions (the rc line allows it)" true \
    "$(deploy_as "$serving_user" git config --file "$deploy_repo/config" receive.advertisePushOptions)"

# trunkgate, installed into the repository by the account that owns it (gitolite's UMASK makes
# its files private to that account).
deploy_policy "$identity_variable" >"$deploy_root/etc/policy.toml"
chmod 0644 "$deploy_root/etc/policy.toml"
deploy_expect_contains "trunkgate install, as $serving_user, keeps push options on" \
    "receive.advertisePushOptions: unchanged" \
    "$(deploy_as "$serving_user" "$trunkgate" install --policy "$deploy_root/etc/policy.toml" "$deploy_repo")"

# queue: a gitolite repository in use (alice pushed its main through gitolite) that gets
# trunkgate with a merge queue, installed by gitolite's account: the proc-receive hook and
# receive.procReceiveRefs, as in any repository.
queue_repo=$deploy_repos_dir/queue.git
deploy_queue_seed
GIT_SSH_COMMAND=$(deploy_ssh_command alice) git -C "$deploy_queue_seed" push -q "$gitolite_url/queue" main ||
    deploy_fail "alice cannot push the first commit of queue through gitolite"
deploy_expect_eq "trunkgate install of a queue policy, as $serving_user" \
    "$queue_repo: trunkgate.toml: installed from $deploy_root/etc/queue-policy.toml
$queue_repo: pre-receive: installed
$queue_repo: post-receive: installed
$queue_repo: proc-receive: installed
$queue_repo: receive.advertisePushOptions: unchanged
$queue_repo: receive.procReceiveRefs: refs/for added (pushes to refs/for/<branch> go to the proc-receive hook and the merge queue; set whether or not the policy has a [[queue]])" \
    "$(deploy_as "$serving_user" "$trunkgate" install --policy "$deploy_root/etc/queue-policy.toml" "$queue_repo")"

# An admin runs `gitolite setup` again (after an upgrade, or to fix hooks): gitolite relinks its
# own update hook and leaves trunkgate's pre-receive and post-receive alone.
deploy_as "$serving_user" gitolite setup >>"$deploy_root/gitolite-setup.log" 2>&1 ||
    deploy_fail "gitolite setup (again) failed: $(<"$deploy_root/gitolite-setup.log")"
deploy_expect_eq "gitolite setup keeps trunkgate's hooks, proc-receive included" \
    "6 trunkgate-managed" \
    "$(for repo in "$deploy_repo" "$queue_repo"; do
        grep -ho trunkgate-managed "$repo/hooks/pre-receive" "$repo/hooks/post-receive" \
            "$repo/hooks/proc-receive"
    done | uniq -c | xargs)"
# gitolite setup compiles gitolite.conf and sets each repository's `config` lines
# (update-git-configs): it sets what gitolite.conf names and leaves other keys alone.
deploy_expect_eq "and receive.procReceiveRefs, which gitolite.conf does not name" "refs/for" \
    "$(deploy_as "$serving_user" git config --file "$queue_repo/config" --get-all receive.procReceiveRefs)"

gitolite_repo=app
transport_url() {
    echo "$gitolite_url/$gitolite_repo"
}
transport_env() {
    echo "GIT_SSH_COMMAND=$(deploy_ssh_command "$1")"
}

deploy_scenario

# gitolite's own rules still hold after trunkgate accepted: bob has RW, not RW+, so his rewrite
# of his branch is refused by gitolite's update hook. Nothing landed, so no event is sent, and
# the audit log pairs trunkgate's decision (accept) with nothing landed.
git -C "$deploy_clone" switch -q feature/bob
git -C "$deploy_clone" commit -q --amend -m "feat: bob's change, rewritten"
deploy_push bob 0 feature/bob --force
deploy_expect_push 1 "bob's rewrite of feature/bob is rejected"
deploy_expect_contains "by gitolite, naming him (GL_USER)" \
    "FATAL: + refs/heads/feature/bob app bob DENIED by fallthru" "$(deploy_remote_lines "$push_output")"
deploy_expect_contains "git reports the update hook's refusal" \
    " ! [remote rejected] feature/bob -> feature/bob (hook declined)" "$push_output"
deploy_expect_eq "no event is queued for what did not land" "[] 3" \
    "$(deploy_as "$serving_user" "$trunkgate" events --repo "$deploy_repo" --format json |
        jq -r '"\(.events) \(.delivered)"')"
deploy_expect_eq "the audit shows trunkgate's accept of the rewrite, and nothing landed" \
    "bob accept refs/heads/feature/bob landed: []" \
    "$(deploy_as "$serving_user" "$trunkgate" audit --repo "$deploy_repo" --format json | tail -n 1 |
        jq -r '"\(.identity) \(.decision) \([.refs[].ref] | join(",")) landed: \(.landed | tojson)"')"
deploy_expect_contains "trunkgate audit says so" "  bob  accept, not landed  refs/heads/feature/bob " \
    "$(deploy_as "$serving_user" "$trunkgate" audit --repo "$deploy_repo" | tail -n 1)"

# The merge queue through gitolite: GL_USER is the queued change's pusher.
gitolite_repo=queue
deploy_queue_scenario "$queue_repo"

# gitolite lets bob write refs/heads/feature/ only, and its update hook refuses him anything
# else; but git runs no update hook for the refs a proc-receive hook takes (refs/for/), so
# gitolite checked only that bob may write to the repository at all, and his change landed on
# main above. Who may queue is the business of trunkgate's policy, not of gitolite's ref rules.
git -C "$deploy_root/queue-clone" switch -q -c elsewhere origin/main
deploy_clone=$deploy_root/queue-clone deploy_push bob 0 HEAD:refs/heads/elsewhere
deploy_expect_push 1 "bob's push of a branch outside refs/heads/feature/ is rejected"
deploy_expect_contains "by gitolite's update hook" \
    "FATAL: W refs/heads/elsewhere queue bob DENIED by fallthru" "$(deploy_remote_lines "$push_output")"
deploy_expect_eq "the queue landed bob's change on main all the same" "q-0002 bob landed" \
    "$("$trunkgate" queue --repo "$queue_repo" --format json |
        jq -r '.queues[0].entries[] | select(.pusher == "bob") | "\(.id) \(.pusher) \(.state)"')"

# ---------------------------------------------------------------------------------------------
# The fleet: trunkgate in gitolite's common hooks, which gitolite links into every repository,
# including those it creates later (from gitolite.conf, or wild ones a user creates by pushing).

common_hooks=$home/.gitolite/hooks/common
deploy_expect_eq "trunkgate install --hooks-dir into gitolite's common hooks, as $serving_user" \
    "$common_hooks: pre-receive: installed
$common_hooks: post-receive: installed
$common_hooks: proc-receive: installed" \
    "$(deploy_as "$serving_user" "$trunkgate" install --hooks-dir "$common_hooks")"
deploy_as "$serving_user" gitolite setup >>"$deploy_root/gitolite-setup.log" 2>&1 ||
    deploy_fail "gitolite setup (common hooks) failed: $(<"$deploy_root/gitolite-setup.log")"
deploy_expect_eq "gitolite setup links the common hooks into app (replacing its own wrappers)" \
    "$common_hooks/pre-receive $common_hooks/post-receive $common_hooks/proc-receive" \
    "$(readlink "$deploy_repo/hooks/pre-receive") $(readlink "$deploy_repo/hooks/post-receive") $(
        readlink "$deploy_repo/hooks/proc-receive")"

# A new repository and a wild one, added the gitolite way: a push to gitolite-admin, which the
# common hooks now gate too (the server-wide policy lets the admin update master).
cat >>"$admin_clone/conf/gitolite.conf" <<'EOF'

repo fleet
    RW+     =   alice
    RW      =   bob
    config receive.procReceiveRefs = refs/for

repo users/CREATOR/[a-z]+
    C       =   alice
    RW+     =   CREATOR
EOF
git -C "$admin_clone" commit -q -am "fleet, and wild repositories under users/"
admin_status=0
admin_output=$(GIT_SSH_COMMAND=$(deploy_ssh_command admin) git -C "$admin_clone" push origin master 2>&1) ||
    admin_status=$?
deploy_expect_eq "the admin's push to gitolite-admin, gated by the common hooks, is accepted" 0 \
    "$admin_status"
deploy_expect_eq "trunkgate judged it: the audit log of gitolite-admin" "admin accept refs/heads/master" \
    "$(deploy_as "$serving_user" "$trunkgate" audit --repo "$deploy_repos_dir/gitolite-admin.git" \
        --format json | jq -r '"\(.identity) \(.decision) \([.refs[].ref] | join(","))"')"
fleet_repo=$deploy_repos_dir/fleet.git
deploy_expect_contains "gitolite creates fleet" "Initialized empty Git repository in $fleet_repo/" \
    "$admin_output"
deploy_expect_eq "fleet got trunkgate's hooks from gitolite, and no install ran on it" \
    "$common_hooks/pre-receive $common_hooks/post-receive $common_hooks/proc-receive no-trunkgate.toml" \
    "$(readlink "$fleet_repo/hooks/pre-receive") $(readlink "$fleet_repo/hooks/post-receive") $(
        readlink "$fleet_repo/hooks/proc-receive") $(
        [ -e "$fleet_repo/trunkgate.toml" ] && echo trunkgate.toml || echo no-trunkgate.toml)"
deploy_expect_eq "gitolite.conf gave it receive.procReceiveRefs (the rc line allows the key)" \
    "refs/for" \
    "$(deploy_as "$serving_user" git config --file "$fleet_repo/config" --get-all receive.procReceiveRefs)"
deploy_expect_eq "the compile left queue's receive.procReceiveRefs as install set it" "refs/for" \
    "$(deploy_as "$serving_user" git config --file "$queue_repo/config" --get-all receive.procReceiveRefs)"

gitolite_repo=fleet
deploy_push alice 0 main
deploy_expect_push 0 "alice's push to the new repository is accepted"
deploy_expect_eq "main moved in fleet" "$(git -C "$deploy_clone" rev-parse main)" \
    "$(deploy_as "$serving_user" git -C "$fleet_repo" rev-parse --verify -q refs/heads/main)"
deploy_push bob 0 feature/bob:main
deploy_expect_push 1 "bob's push to main of the new repository is rejected"
deploy_expect_eq "by trunkgate with the server-wide policy, naming bob" \
    "trunkgate: push rejected: 1 problem (policy $server_policy)
  refs/heads/main  [push-restricted] 'bob' may not update this protected ref (allowed: alice)
      hint: push to a branch of your own and have it merged: git push origin HEAD:refs/heads/feature/<topic>
  questions: #git-admins (server-wide policy)" "$(deploy_remote_lines "$push_output")"
deploy_expect_contains "git reports the pre-receive hook's refusal" \
    " ! [remote rejected] feature/bob -> main (pre-receive hook declined)" "$push_output"

# A push to refs/for/main of fleet reaches trunkgate-proc-receive through the common hook and the
# gitolite.conf line alone. The server-wide policy has no [[queue]], so it is refused by name,
# and no refs/for/main is created.
deploy_push alice 0 HEAD:refs/for/main
deploy_expect_push 1 "alice's push to refs/for/main of fleet is rejected"
deploy_expect_contains "by trunkgate-proc-receive: main has no queue there" \
    " ! [remote rejected] HEAD -> refs/for/main (refs/heads/main has no merge queue (queued branches: none))" \
    "$push_output"
deploy_expect_eq "fleet has no refs/for/main" "" \
    "$(deploy_as "$serving_user" git -C "$fleet_repo" for-each-ref refs/for/)"

# A wild repository: gitolite creates it when alice first pushes to it, links the common hooks,
# and trunkgate judges that very push.
gitolite_repo=users/alice/tool
deploy_push alice 0 main:scratch
deploy_expect_push 1 "alice's first push to a wild repository she creates is judged"
deploy_expect_contains "by trunkgate with the server-wide policy" \
    "refs/heads/scratch  [branch-name] branch name does not match ^refs/heads/(main|master|feature/[a-z0-9-]+)$" \
    "$(deploy_remote_lines "$push_output")"
deploy_expect_eq "the wild repository has the common hooks" "$common_hooks/pre-receive" \
    "$(readlink "$deploy_repos_dir/users/alice/tool.git/hooks/pre-receive")"
deploy_push alice 0 main
deploy_expect_push 0 "and her push of main to it is accepted"

# app keeps its own policy: its trunkgate.toml comes before the server-wide one.
gitolite_repo=app
deploy_push bob 0 feature/bob:main
deploy_expect_push 1 "bob's push to app's main is still rejected"
deploy_expect_contains "by app's own policy" \
    "trunkgate: push rejected: 1 problem (policy trunkgate.toml)" "$(deploy_remote_lines "$push_output")"

deploy_check_ownership
deploy_expect_eq "every file in fleet and the wild repository belongs to $serving_user" "" \
    "$(find "$fleet_repo" "$deploy_repos_dir/users" ! -user "$serving_user")"
deploy_done
