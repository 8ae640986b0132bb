# Sourced by scripts/test, scripts/demo and bench/run: installs the Debian packages trunkgate
# needs when any is missing. As root it runs apt-get; otherwise it prints the exact line and stops.

trunkgate_packages=(
    g++ cmake make pkg-config git
    libgit2-dev libcurl4-openssl-dev nlohmann-json3-dev libtomlplusplus-dev catch2 libre2-dev libssl-dev
)
# Peers the end-to-end tests start on loopback (scripts/test passes these to trunkgate_install_packages),
# and the servers of the transport suites (tests/deploy): nginx, fcgiwrap, sshd and gitolite3,
# each started by its test on its own port and configuration, never as the system's service;
# jq reads trunkgate's JSON there.
trunkgate_test_packages=(webhook nginx fcgiwrap openssh-server openssh-client gitolite3 jq)
# The libFuzzer targets (scripts/fuzz): clang and its libFuzzer and sanitizer runtimes.
trunkgate_fuzz_packages=(clang libclang-rt-14-dev)

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
