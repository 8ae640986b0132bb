#!/usr/bin/env bash
# git over ssh: sshd on 127.0.0.1 with templates/deploy/sshd-trunkgate.conf, one account
# (tg-ssh) owning the repositories, and identities from templates/deploy/authorized_keys
# (command="env TRUNKGATE_USER=... git-shell ..."). Also: what an environment= identity gives
# without PermitUserEnvironment (an unidentified pusher) and with it.
# usage: ssh_test.sh CMAKE BUILD_DIR
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
. "$(dirname "$0")/lib.sh"

deploy_setup "$@"
deploy_ssh_init

serving_user=tg-ssh
identity_variable=TRUNKGATE_USER
home=$deploy_root/ssh-home
deploy_user "$serving_user" "$home"
deploy_repos_dir=$deploy_root/srv/git
deploy_repo=$deploy_repos_dir/app.git
for person in alice bob carol; do
    deploy_key "$person"
done

deploy_start_receiver

# The admin, as root: the repository with trunkgate, then handed to the account.
mkdir -p "$deploy_repos_dir"
git init -q --bare "$deploy_repo"
deploy_policy "$identity_variable" >"$deploy_root/etc/policy.toml"
"$trunkgate" install --policy "$deploy_root/etc/policy.toml" "$deploy_repo" >/dev/null
chown -R "$serving_user:" "$deploy_repos_dir" "$deploy_root/etc/webhook-secret"
chmod 0600 "$deploy_root/etc/webhook-secret"

# The shipped authorized_keys with the real keys in place of the examples, and carol's
# environment= line switched on.
mkdir -p "$home/.ssh"
deploy_render authorized_keys "$home/.ssh/authorized_keys" \
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA-alices-public-key alice@laptop" "$(<"$deploy_root/keys/alice.pub")" \
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA-bobs-public-key bob@desktop" "$(<"$deploy_root/keys/bob.pub")" \
    "#environment=\"TRUNKGATE_USER=carol\"" "environment=\"TRUNKGATE_USER=carol\"" \
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA-carols-public-key carol@laptop" "$(<"$deploy_root/keys/carol.pub")"
chown -R "$serving_user:" "$home/.ssh"
chmod 0700 "$home/.ssh"
chmod 0600 "$home/.ssh/authorized_keys"

# The snippet where docs/deploy.md puts it, /etc/ssh/sshd_config.d/, included by Debian's own
# sshd_config (checked, not started): valid, and what sshd makes of it for the account.
stock_config=/etc/ssh/sshd_config
grep -q '^Include /etc/ssh/sshd_config.d/\*.conf$' "$stock_config" ||
    deploy_fail "$stock_config does not include /etc/ssh/sshd_config.d/*.conf (Debian's does)"
deploy_render sshd-trunkgate.conf "$ssh_dir/stock-trunkgate.conf" "Match User git" "Match User $serving_user"
sed "s#^Include /etc/ssh/sshd_config.d/\*.conf\$#Include $ssh_dir/stock-trunkgate.conf#" \
    "$stock_config" >"$ssh_dir/stock.conf"
deploy_expect_eq "with Debian's sshd_config, $serving_user may only send GIT_PROTOCOL, has no forwarding, no tty, no user environment" \
    "acceptenv GIT_PROTOCOL
disableforwarding yes
passwordauthentication no
permittty no
permituserenvironment no" \
    "$(/usr/sbin/sshd -T -f "$ssh_dir/stock.conf" -h "$ssh_dir/host_ed25519_key" \
        -C "user=$serving_user,host=localhost,addr=127.0.0.1" |
        grep -E '^(acceptenv|disableforwarding|passwordauthentication|permittty|permituserenvironment) ' | sort)"

# sshd exactly as the snippet configures it (PermitUserEnvironment no).
deploy_start_sshd shipped "$serving_user"

transport_url() {
    echo "ssh://$serving_user@127.0.0.1:$sshd_port${ssh_repo:-$deploy_repo}"
}
transport_env() {
    echo "GIT_SSH_COMMAND=$(deploy_ssh_command "$1")"
}

deploy_scenario

# The merge queue over ssh: the forced command's TRUNKGATE_USER is the queued change's pusher.
queue_repo=$deploy_repos_dir/queue.git
deploy_queue_repository "$queue_repo"
ssh_repo=$queue_repo deploy_queue_scenario "$queue_repo"

# The audit line of the latest push: identity and decision.
last_audit() {
    deploy_as "$serving_user" "$trunkgate" audit --repo "$deploy_repo" --format json |
        tail -n 1 | jq -r '"\(.identity)|\(.decision)"'
}

# carol's key carries environment="TRUNKGATE_USER=carol". sshd as shipped ignores it, without a
# word: her pushes arrive unidentified. The policy fails closed on main (push_allowed), and a
# branch push goes through with no identity anywhere.
git -C "$deploy_clone" switch -q -c feature/carol
carol_commit=$(deploy_commit "feat: carol's change")
deploy_push carol 0 feature/carol
deploy_expect_push 0 "carol's branch push is accepted"
deploy_expect_eq "without PermitUserEnvironment her environment= identity never arrives" \
    "|accept" "$(last_audit)"
deploy_push carol 0 feature/carol:main
deploy_expect_push 1 "her push to main is rejected"
deploy_expect_contains "as an unidentified pusher's" \
    "  refs/heads/main  [push-restricted] an unidentified pusher may not update this protected ref (allowed: alice)" \
    "$(deploy_remote_lines "$push_output")"
deploy_wait_received 5 || deploy_fail "the event of carol's unidentified push did not arrive"
# (GitHub's schema wants a name: an unidentified pusher's event names the account the hook runs as)
deploy_expect_eq "its event's pusher.name is the account's" \
    "refs/heads/feature/carol	$carol_commit	$serving_user" \
    "$(deploy_received | cut -f2- | grep -P '^refs/heads/feature/carol\t' | cut -f1-3)"

# Worse with the default [identity] env, which ends in USER (the shipped trunk-based policy): the
# same key's pushes are not even unidentified, they arrive as the account, every one alike.
default_repo=$deploy_repos_dir/default-identity.git
git init -q --bare "$default_repo"
"$trunkgate" install "$default_repo" >/dev/null
chown -R "$serving_user:" "$default_repo"
ssh_repo=$default_repo deploy_push carol 0 feature/carol
deploy_expect_push 0 "carol's push to a repository with the default identity list is accepted"
deploy_expect_eq "and recorded as the account's, $serving_user" "$serving_user|accept" \
    "$(deploy_as "$serving_user" "$trunkgate" audit --repo "$default_repo" --format json |
        jq -r '"\(.identity)|\(.decision)"')"

# The same key with `PermitUserEnvironment TRUNKGATE_USER` set (before the snippet, so it wins):
# now the identity arrives, and still not the one the client asks for (SetEnv mallory).
deploy_start_sshd permit-env "$serving_user" "PermitUserEnvironment TRUNKGATE_USER"
carol_commit=$(deploy_commit "feat: carol's second change")
deploy_push carol 2 feature/carol:feature/carol-2
deploy_expect_push 0 "carol's push through sshd with PermitUserEnvironment TRUNKGATE_USER"
deploy_expect_eq "her environment= identity arrives" "carol|accept" "$(last_audit)"
deploy_wait_received 6 || deploy_fail "the event of carol's identified push did not arrive"
deploy_expect_eq "and is the event's pusher" "refs/heads/feature/carol-2	$carol_commit	carol" \
    "$(deploy_received | cut -f2- | grep -P '^refs/heads/feature/carol-2\t' | cut -f1-3)"

deploy_check_ownership
deploy_done
