#!/usr/bin/env bash
# `cmake --install` gives a working system install: the installed trunkgate installs hooks that
# point at the installed trunkgate-pre-receive, and a real push through them is judged.
# usage: install_prefix_test.sh CMAKE BUILD_DIR
set -euo pipefail
cmake_command=$1 build_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" GIT_CONFIG_NOSYSTEM=1 TRUNKGATE_USER=dev
mkdir -p "$HOME"

"$cmake_command" --install "$build_dir" --prefix "$work/prefix" >/dev/null
for file in bin/trunkgate bin/trunkgate-pre-receive share/trunkgate/templates/hooks/pre-receive \
    share/trunkgate/templates/policy/trunk-based.toml share/doc/trunkgate/README.md; do
    [ -e "$work/prefix/$file" ] || { echo "FAIL: $file is not installed"; exit 1; }
done

git init -q --bare -b main "$work/server.git"
"$work/prefix/bin/trunkgate" install "$work/server.git" >/dev/null
grep -q "$work/prefix/bin/trunkgate-pre-receive" "$work/server.git/hooks/pre-receive" ||
    { echo "FAIL: the hook does not run the installed program"; exit 1; }

git clone -q "$work/server.git" "$work/clone" 2>/dev/null
cd "$work/clone"
git -c user.name=D -c user.email=d@example.com commit -q --allow-empty -m "first"
git push -q origin main
git -c user.name=D -c user.email=d@example.com commit -q --amend --allow-empty -m "rewritten"
if output=$(git push --force origin main 2>&1); then
    echo "FAIL: the force-push was accepted"; exit 1
fi
grep -q "\[force-push\]" <<<"$output" || { echo "FAIL: no force-push finding in: $output"; exit 1; }
echo "1 passed, 0 failed"
