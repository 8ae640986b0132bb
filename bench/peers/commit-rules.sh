#!/usr/bin/env bash
# A conventional pre-receive hook for the commit rules of issue 3, written the usual way: a loop
# over `git rev-list`, and per commit `git log -1`, `git diff-tree` and one `git cat-file -s` per
# changed blob. It is the "peer" of bench/run-commits, not part of trunkgate: it implements the
# same [commits] policy as bench/commits/policy.toml (values below), so both should reach the
# same verdict on every scenario.
#
# Usage (as git runs it): GIT_DIR=REPO commit-rules.sh < "OLD NEW REF" lines
# Exit 0 accepts, 1 rejects. Optional: PEER_PROGRESS=FILE receives the number of commits checked
# every 100 commits (a shell builtin write, no fork), so a run stopped by a timeout can be
# extrapolated.
set -u
shopt -s extglob

zero=0000000000000000000000000000000000000000
commit_refs='refs/heads/*'
message_pattern='^(fix|add|refactor|tidy|speed up|document|test|rename|simplify) .+'
message_forbidden_pattern='\b(wip|fixup!|squash!)\b' # case-insensitive, like (?i) in RE2
max_subject_length=72
author_email_pattern='@example\.com$'
committer_email_pattern='' # empty: not checked, as in the policy
max_file_size=$((5 * 1024 * 1024))
max_changed_files=1000
max_listed=20
# forbidden_paths plus trunkgate's built-in secret-file list (docs/rules.md), as shell globs:
# a glob without a slash matches the file name at any depth, "**/x" matches x at any depth and
# "dir/**" anything below dir.
name_globs=('*.pem' 'id_rsa' 'id_dsa' 'id_ecdsa' 'id_ed25519' '*.key' '*.p12' '*.pfx' '*.jks'
    '*.keystore' '.netrc' '_netrc' '.pgpass' '.git-credentials' '.htpasswd' '.s3cfg' '.dockercfg'
    '.env' '*.tfstate' '*.tfstate.backup' '.bash_history' '.zsh_history' '.psql_history'
    '.mysql_history' 'credentials.xml' 'secret_token.rb')
path_globs=('secrets/*' '.docker/config.json' '*/.docker/config.json' '.aws/credentials'
    '*/.aws/credentials')

declare -A listed=() total=()
problems=0
checked=0

report() { # rule, text
    local rule=$1
    total[$rule]=$((${total[$rule]:-0} + 1))
    problems=$((problems + 1))
    if [ "${listed[$rule]:-0}" -lt "$max_listed" ]; then
        listed[$rule]=$((${listed[$rule]:-0} + 1))
        printf '  [%s] %s\n' "$rule" "$2" >&2
    fi
}

forbidden_path() { # path -> 0 when it matches a forbidden glob
    local path=$1 name=${1##*/} glob
    for glob in "${name_globs[@]}"; do
        # shellcheck disable=SC2053 # glob match intended
        [[ $name == $glob ]] && return 0
    done
    for glob in "${path_globs[@]}"; do
        # shellcheck disable=SC2053
        [[ $path == $glob ]] && return 0
    done
    return 1
}

check_commit() { # commit id, ref
    local commit=$1 ref=$2 short=${1:0:7} author committer message subject
    local info path new_mode new_id status size changed=0
    {
        IFS= read -r author
        IFS= read -r committer
        message=$(cat)
    } < <(git log -1 --format='%ae%n%ce%n%B' "$commit")
    subject=${message%%$'\n'*}
    [[ $message =~ $message_pattern ]] ||
        report commit-message "$ref $short \"$subject\": message does not match $message_pattern"
    shopt -s nocasematch
    if [[ $message =~ $message_forbidden_pattern ]]; then
        report commit-message "$ref $short \"$subject\": message matches the forbidden pattern"
    fi
    shopt -u nocasematch
    [ "${#subject}" -le "$max_subject_length" ] ||
        report commit-message "$ref $short: subject is ${#subject} characters (limit $max_subject_length)"
    [[ $author =~ $author_email_pattern ]] ||
        report author-email "$ref $short: author email <$author> does not match"
    if [ -n "$committer_email_pattern" ] && ! [[ $committer =~ $committer_email_pattern ]]; then
        report committer-email "$ref $short: committer email <$committer> does not match"
    fi
    while IFS=$'\t' read -r info path; do
        changed=$((changed + 1))
        read -r _ new_mode _ new_id status <<<"$info"
        [ "$status" = D ] && continue
        if forbidden_path "$path"; then
            report forbidden-path "$ref $short adds $path"
        fi
        case $new_mode in
        100644 | 100755)
            size=$(git cat-file -s "$new_id")
            [ "$size" -le "$max_file_size" ] ||
                report file-size "$ref $short adds $path ($size bytes, limit $max_file_size)"
            ;;
        esac
    done < <(git diff-tree -r --root --no-commit-id "$commit")
    [ "$changed" -le "$max_changed_files" ] ||
        report changed-files "$ref $short changes $changed paths (limit $max_changed_files)"
    checked=$((checked + 1))
    if [ -n "${PEER_PROGRESS:-}" ] && [ $((checked % 100)) = 0 ]; then
        printf '%d\n' "$checked" >"$PEER_PROGRESS"
    fi
}

while read -r old new ref; do
    # shellcheck disable=SC2053
    [[ $ref == $commit_refs ]] || continue
    [ "$new" = "$zero" ] && continue
    if [ "$old" = "$zero" ]; then
        range=("$new" --not --all)
    else
        range=("$old..$new")
    fi
    while read -r commit; do
        check_commit "$commit" "$ref"
    done < <(git rev-list --reverse "${range[@]}")
done

[ -n "${PEER_PROGRESS:-}" ] && printf '%d\n' "$checked" >"$PEER_PROGRESS"
if [ "$problems" -gt 0 ]; then
    for rule in "${!total[@]}"; do
        [ "${total[$rule]}" -gt "$max_listed" ] &&
            printf '  [%s] and %d more not listed\n' "$rule" $((total[$rule] - max_listed)) >&2
    done
    printf 'peer: push rejected: %d problems in %d commits\n' "$problems" "$checked" >&2
    exit 1
fi
printf 'peer: %d commits checked\n' "$checked" >&2
exit 0
