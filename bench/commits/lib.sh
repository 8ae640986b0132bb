# shellcheck shell=bash
# Shared by bench/run-commits and bench/run-events (sourced, bash): packages, the build, the cached
# 10^5-commit trunk and hard-linked working copies of it. Expects $root (the checkout) to be set;
# bench_build sets $bin and $revision for the caller.

bench_out=${root:?}/bench/out
generator=$root/bench/gen-history.py

say() { printf 'bench: %s\n' "$*" >&2; }

# Build dependencies come from scripts/deps.sh; the benchmarks need python3 (standard library
# only) and GNU time (/usr/bin/time, for peak RSS) on top.
bench_install_missing() {
    if [ -f "$root/scripts/deps.sh" ]; then
        # shellcheck disable=SC1091 # scripts/deps.sh, checked on its own
        . "$root/scripts/deps.sh"
        trunkgate_install_packages python3 time
        return
    fi
    [ -x /usr/bin/time ] && command -v python3 >/dev/null && return
    if [ "$(id -u)" -ne 0 ]; then
        say "needs python3 and GNU time: apt-get install -y python3 time (as root)"
        exit 2
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 time >/dev/null
}

# Builds the working tree into build/ (RelWithDebInfo unless already Release) and sets $bin.
bench_build() {
    local build_type
    build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$root/build/CMakeCache.txt" 2>/dev/null ||
        true)
    case $build_type in
    Release | RelWithDebInfo) ;;
    *)
        say "configuring build/ as RelWithDebInfo (was: ${build_type:-not configured})"
        cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
        ;;
    esac
    cmake --build "$root/build" -j "$(nproc)" \
        --target trunkgate trunkgate-pre-receive trunkgate-post-receive trunkgate-proc-receive \
        trunkgate_templates >/dev/null
    # shellcheck disable=SC2034 # read by the caller
    bin=$root/build/bin
    # shellcheck disable=SC2034
    revision=$(git -C "$root" rev-parse --short HEAD)
    [ -z "$(git -C "$root" status --porcelain -- src include hooks CMakeLists.txt)" ] ||
        revision+=" + uncommitted changes to src/ include/ hooks/ CMakeLists.txt"
}

# Prints a bare repository holding a linear trunk of $1 commits on refs/heads/main (3000-file
# trees, seed 1). bench/run's cache (bench/out/cache/, made by bench/gen-history.py) is used when
# it is there, whatever generator version made it: this benchmark only needs its shape. Otherwise
# one is generated into bench/out/commits-cache/, which bench/run never prunes.
bench_trunk() {
    local count=$1 dir started
    for dir in "$bench_out"/cache/main-"$count"c-3000f-s1-*.git \
        "$bench_out"/commits-cache/main-"$count"c-3000f-s1.git; do
        if [ -f "$dir/bench-generated" ]; then
            printf '%s\n' "$dir"
            return
        fi
    done
    dir=$bench_out/commits-cache/main-${count}c-3000f-s1.git
    say "generating $count commits into ${dir#"$root"/} (once; cached)"
    rm -rf "$dir" "$dir.tmp"
    mkdir -p "$(dirname "$dir")"
    git init -q --bare "$dir.tmp"
    git --git-dir="$dir.tmp" symbolic-ref HEAD refs/heads/main
    started=$(date +%s)
    python3 "$generator" trunk --commits "$count" --files 3000 --seed 1 --end-time "$started" |
        git --git-dir="$dir.tmp" fast-import --quiet --date-format=raw
    echo "generated $(date -u -d "@$started" '+%F %T UTC') in $(($(date +%s) - started)) s" \
        >"$dir.tmp/bench-generated"
    mv "$dir.tmp" "$dir"
    printf '%s\n' "$dir"
}

# Copies repository $1 to $2 with hard links (pack files are immutable and git replaces refs and
# config by rename, so the copy never alters the original) and turns automatic gc off in it.
bench_copy() {
    rm -rf "$2"
    mkdir -p "$(dirname "$2")"
    cp -al "$1" "$2"
    git --git-dir="$2" config gc.auto 0
}

# Imports $3 commits on top of commit $2 into repository $1, dated from $4 (seed $5); prints the
# new tip. With $6 (a ref) the commits stay on that ref; without it they are reachable from no
# ref, as pushed objects are while pre-receive runs. Each call is its own fast-import, so (as
# receive-pack does under unpackLimit) a small push lands as loose objects.
bench_add_commits() {
    local repo=$1 from=$2 count=$3 start=$4 seed=$5 keep_ref=${6:-} ref tip
    ref=${keep_ref:-refs/bench/new}
    python3 "$generator" branch --ref "$ref" --from "$from" --commits "$count" \
        --files 3000 --seed "$seed" --start-time "$start" |
        git --git-dir="$repo" fast-import --quiet --date-format=raw --force
    tip=$(git --git-dir="$repo" rev-parse "$ref")
    [ -n "$keep_ref" ] || git --git-dir="$repo" update-ref -d "$ref"
    printf '%s\n' "$tip"
}
