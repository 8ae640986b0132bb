# Sourced by scripts/test, scripts/demo and bench/run: installs the Debian packages trunkgate
# needs when any is missing. As root it runs apt-get; otherwise it prints the exact line and stops.

trunkgate_packages=(
    g++ cmake make pkg-config git
    libgit2-dev libcurl4-openssl-dev nlohmann-json3-dev libtomlplusplus-dev catch2 libre2-dev libssl-dev
)
# Peers the end-to-end tests start on loopback (scripts/test passes these to trunkgate_install_packages),
# and the servers of the transport suites (tests/deploy): nginx, fcgiwrap, sshd and gitolite3,
# each started by its test on its own port and configuration, never as the system's service;
# jq reads trunkgate's JSON there; strace kills the merge queue's runner at a chosen system call
# (tests/e2e/queue_pipeline_test.cpp); headless chromium screenshots the report's HTML page and
# fonts-dejavu-core gives it a font to draw the text with, and zlib1g-dev lets the test read the
# PNG it takes (tests/e2e/report_html_test.cpp).
trunkgate_test_packages=(webhook nginx fcgiwrap openssh-server openssh-client gitolite3 jq strace
    chromium fonts-dejavu-core zlib1g-dev)
# The libFuzzer targets (scripts/fuzz): clang and its libFuzzer and sanitizer runtimes.
trunkgate_fuzz_packages=(clang libclang-rt-14-dev)
# The conformance test (tests/conformance) runs GitHub's own JavaScript libraries under Node.js.
trunkgate_conformance_packages=(nodejs npm)

trunkgate_install_packages() {
    local missing=()
    local package
    for package in "${trunkgate_packages[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "trunkgate needs these Debian packages; install them as root, then run this again:" >&2
        echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
        exit 2
    fi
    echo "Installing: ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

trunkgate_build() {
    local root=$1
    cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$root/build" -j "$(nproc)"
}

# The libFuzzer targets only, with clang, into build-fuzz/ (tests/fuzz/CMakeLists.txt).
trunkgate_build_fuzz() {
    local root=$1
    cmake -S "$root" -B "$root/build-fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_CXX_COMPILER=clang++ -DTRUNKGATE_BUILD_TESTS=OFF -DTRUNKGATE_FUZZ=ON >/dev/null
    cmake --build "$root/build-fuzz" -j "$(nproc)" --target trunkgate_fuzzers
}

# Everything (hooks, CLI, tests) with ASan and UBSan into build-asan/ (scripts/sanitize).
# clang at -O1, the level the sanitizers' documentation suggests: the sanitized template-heavy
# code (nlohmann/json, Catch2) took g++ at -O2 far longer to compile on a 2-core machine.
trunkgate_build_sanitize() {
    local root=$1
    cmake -S "$root" -B "$root/build-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g -DNDEBUG" -DCMAKE_CXX_COMPILER=clang++ \
        -DTRUNKGATE_SANITIZE=ON >/dev/null
    cmake --build "$root/build-asan" -j "$(nproc)"
}

# The conformance test's npm packages (tests/conformance/package-lock.json), installed with
# `npm ci` into build/conformance/node_modules when the lock changed since the last install or
# node_modules is missing. Needs Node.js 20 or later (@octokit/webhooks 14, Probot 14): an older
# one stops here with a message, never a silently skipped test. The packages are test-only and
# run no install scripts.
trunkgate_install_conformance() {
    local root=$1
    local target=$root/build/conformance
    local lock=$root/tests/conformance/package-lock.json
    local major
    # Only when a command is missing: some Node.js builds ship npm inside their nodejs package,
    # and Debian's npm package would conflict with them.
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        trunkgate_install_packages "${trunkgate_conformance_packages[@]}"
    fi
    major=$(node -p 'process.versions.node.split(".")[0]')
    if [ "$major" -lt 20 ]; then
        echo "trunkgate's conformance test needs Node.js 20 or later; $(command -v node) is" \
            "$(node --version). Install Node.js 20 or later, then run this again." >&2
        exit 2
    fi
    if cmp -s "$lock" "$target/.installed-lock" && [ -d "$target/node_modules" ]; then
        return 0
    fi
    echo "Installing the conformance test's npm packages into $target (npm ci)" >&2
    mkdir -p "$target"
    rm -f "$target/.installed-lock"
    cp "$root/tests/conformance/package.json" "$lock" "$target/"
    npm ci --no-audit --no-fund --ignore-scripts --prefix "$target" >&2
    cp "$lock" "$target/.installed-lock"
}

# The tests run the built programs as other users (www-data, nobody: ownership, doctor, spool
# faults), who must be able to reach the checkout. A clone inside `mktemp -d` (mode 0700) hides
# it from them, so as root this grants others search (x, never read) on each directory above the
# checkout that lacks it, and says so.
trunkgate_make_checkout_reachable() {
    local dir=$1
    [ "$(id -u)" -eq 0 ] || return 0
    while [ "$dir" != / ]; do
        if [ "$(( 0$(stat -c %a "$dir") & 1 ))" -eq 0 ]; then
            echo "Letting other users pass through $dir (chmod o+x): the tests run trunkgate as them" >&2
            chmod o+x "$dir"
        fi
        dir=$(dirname "$dir")
    done
}
