#!/usr/bin/env bash
# Smart HTTP: nginx (root master, www-data workers) with basic auth, fcgiwrap as www-data and
# git-http-backend, configured from templates/deploy/nginx-git.conf, on 127.0.0.1. Pushes run as
# www-data with REMOTE_USER as the identity; the admin set the repository up as root.
# usage: http_test.sh CMAKE BUILD_DIR
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
. "$(dirname "$0")/lib.sh"

deploy_require nginx nginx
deploy_require /usr/sbin/fcgiwrap fcgiwrap
[ -x /usr/lib/git-core/git-http-backend ] ||
    deploy_fail "/usr/lib/git-core/git-http-backend is missing: install the Debian package git"
deploy_setup "$@"
id -u www-data >/dev/null 2>&1 || deploy_fail "there is no www-data user (Debian's base-passwd has one)"

serving_user=www-data
identity_variable=REMOTE_USER
deploy_repos_dir=$deploy_root/srv/git
deploy_repo=$deploy_repos_dir/app.git
declare -A passwords=([alice]=alice-pw-1 [bob]=bob-pw-2)

deploy_start_receiver

# The admin, as root: a bare repository, trunkgate installed with the policy, then handed to
# www-data, which git-http-backend runs as.
mkdir -p "$deploy_repos_dir"
git init -q --bare "$deploy_repo"
deploy_policy "$identity_variable" >"$deploy_root/etc/policy.toml"
"$trunkgate" install --policy "$deploy_root/etc/policy.toml" "$deploy_repo" >/dev/null
chown -R www-data: "$deploy_repos_dir" "$deploy_root/etc/webhook-secret"
chmod 0600 "$deploy_root/etc/webhook-secret"

# fcgiwrap as Debian's fcgiwrap.service runs it: user www-data, -f (CGI errors to nginx's log),
# with the environment systemd gives a service. Its socket is in a directory of www-data's.
run_dir=$deploy_root/run
mkdir -p "$run_dir"
chown www-data: "$run_dir"
deploy_start "$deploy_root/fcgiwrap.log" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/var/www USER=www-data LOGNAME=www-data SHELL=/usr/sbin/nologin \
    setpriv --reuid=www-data --regid=www-data --init-groups -- \
    /usr/sbin/fcgiwrap -f -c 2 -s "unix:$run_dir/fcgiwrap.socket"
fcgiwrap_pid=$deploy_last_pid
for _ in $(seq 200); do
    [ -S "$run_dir/fcgiwrap.socket" ] && break
    kill -0 "$fcgiwrap_pid" 2>/dev/null || deploy_fail "fcgiwrap exited"
    sleep 0.05
done
[ -S "$run_dir/fcgiwrap.socket" ] || deploy_fail "fcgiwrap made no socket"

# The password file, made the way docs/deploy.md says (openssl, no apache2-utils).
for user in alice bob; do
    printf '%s:%s\n' "$user" "$(openssl passwd -apr1 "${passwords[$user]}")"
done >"$deploy_root/etc/git.htpasswd"
chown root:www-data "$deploy_root/etc/git.htpasswd"
chmod 0640 "$deploy_root/etc/git.htpasswd"

# nginx: the shipped site, with the test's port and paths, inside a minimal main configuration
# of its own (pid, logs and temporary files in the test root), in the foreground.
nginx_dir=$deploy_root/nginx
mkdir -p "$nginx_dir/tmp"
for attempt in 1 2 3; do
    port=$(deploy_free_port)
    deploy_render nginx-git.conf "$nginx_dir/site.conf" \
        "listen 80;" "listen 127.0.0.1:$port;" \
        "/etc/nginx/git.htpasswd" "$deploy_root/etc/git.htpasswd" \
        "unix:/run/fcgiwrap.socket" "unix:$run_dir/fcgiwrap.socket" \
        "GIT_PROJECT_ROOT /srv/git" "GIT_PROJECT_ROOT $deploy_repos_dir"
    cat >"$nginx_dir/nginx.conf" <<EOF
daemon off;
user www-data;
worker_processes 1;
pid $nginx_dir/nginx.pid;
error_log $nginx_dir/error.log info;
events { worker_connections 64; }
http {
    access_log $nginx_dir/access.log;
    client_body_temp_path $nginx_dir/tmp/body;
    fastcgi_temp_path $nginx_dir/tmp/fastcgi;
    proxy_temp_path $nginx_dir/tmp/proxy;
    uwsgi_temp_path $nginx_dir/tmp/uwsgi;
    scgi_temp_path $nginx_dir/tmp/scgi;
    include $nginx_dir/site.conf;
}
EOF
    deploy_logs+=("$nginx_dir/error.log")
    deploy_start "$nginx_dir/stderr.log" nginx -p "$nginx_dir" -e "$nginx_dir/error.log" \
        -c "$nginx_dir/nginx.conf"
    deploy_wait_port "$port" "$deploy_last_pid" && break
    kill "$deploy_last_pid" 2>/dev/null || true
    [ "$attempt" -lt 3 ] || deploy_fail "nginx did not start on 127.0.0.1"
done

transport_url() {
    echo "http://$1:${passwords[$1]}@127.0.0.1:$port/${http_repo:-app.git}"
}
transport_env() {
    :
}

# Basic auth is the gate: a wrong password never reaches git, let alone the hook.
status=0
output=$(git -C "$deploy_root" ls-remote "http://alice:wrong@127.0.0.1:$port/app.git" 2>&1) ||
    status=$?
deploy_expect_eq "a wrong password is refused" 128 "$status"
deploy_expect_contains "by nginx, with 401" "Authentication failed" "$output"

deploy_scenario
deploy_expect_contains "nginx logged the pushes with their REMOTE_USER" \
    "\"POST /app.git/git-receive-pack HTTP/1.1\" 200" \
    "$(grep ' - alice ' "$nginx_dir/access.log")"

# The merge queue over smart HTTP: REMOTE_USER is the queued change's pusher, and the push
# option asking for priority reaches the hook through git-http-backend.
queue_repo=$deploy_repos_dir/queue.git
deploy_queue_repository "$queue_repo"
http_repo=queue.git deploy_queue_scenario "$queue_repo"
deploy_check_ownership
deploy_done
