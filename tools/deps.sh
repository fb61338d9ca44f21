# Sourced by demo.sh and test.sh: installs Debian packages idempotently.
# `apt-get update` runs once, and only when a package is missing.
ensure_packages() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing packages: ${missing[*]} (run as root, or install them)" >&2
        return 1
    fi
    echo "installing: ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

# Packages every build needs.
GRANULE_BUILD_PACKAGES=(cmake make g++ pkg-config libboost1.81-all-dev liburing-dev libiscsi-dev
    libgnutls28-dev libnbd-dev)
# Packages the test suite adds.
# MinGW (posix threads) and Wine: the Windows cross build and its tests.
# clang with libFuzzer: the fuzz job (tests/fuzz/run.sh; clang 14 and 15
# cannot compile core/src/throttle.cpp, which captures structured bindings).
GRANULE_FUZZ_CLANG=${GRANULE_FUZZ_CLANG:-16}
GRANULE_FUZZ_PACKAGES=("clang-$GRANULE_FUZZ_CLANG" "libfuzzer-$GRANULE_FUZZ_CLANG-dev"
    "libclang-rt-$GRANULE_FUZZ_CLANG-dev")
# ccache: the suite builds the project five ways (native, MinGW, ASan, TSan,
# clang fuzz) plus the newcomer's build; compiled objects are reused between
# runs and checkouts (see granule_configure).
# qemu-utils: real qemu-io and qemu-img 7.2, the oracle of tests/qemu-iotests
# (and qemu-nbd, a server of tests/integration/nbd).
# nbdkit, libnbd-bin: the NBD servers and client tools (nbdinfo, nbdcopy) of
# tests/integration/nbd.
# python3: its json parser checks granule-img's --output=json (tests/tools).
# bsdutils: script(1), a terminal for convert -p's bar (tests/tools).
# groff-base, man-db: render the man pages and check them for warnings.
# gnutls-bin: certtool and psktool make granule-nbd's TLS test credentials.
# The Python package (python/, docs/python.md): python3-dev (its headers:
# CMake builds granule._granule with the tests), python3-pytest (its tests),
# python3-setuptools, python3-wheel, python3-pip, python3-venv (pip install
# --no-build-isolation into a venv, offline, in tests/sdk/python_install.sh),
# python3-numpy (numpy arrays as buffers, aligned and not).
GRANULE_PYTHON_PACKAGES=(python3-dev python3-pytest python3-setuptools python3-wheel python3-pip
    python3-venv python3-numpy)
GRANULE_TEST_PACKAGES=(qt6-base-dev xfsprogs tgt libiscsi-bin nbdkit libnbd-bin
    g++-mingw-w64-x86-64-posix wine64
    "${GRANULE_FUZZ_PACKAGES[@]}" ccache qemu-utils python3 bsdutils groff-base man-db gnutls-bin
    "${GRANULE_PYTHON_PACKAGES[@]}")

# Configures $1 (every time: CMake only redoes what changed, and options in
# "$@" reach a build dir configured before) and builds it. A build dir whose
# last configure failed (a missing package then) or that came from another
# source tree is configured afresh.
granule_configure() {
    local build_dir=$1; shift
    # With ccache installed (the test suite installs it; GRANULE_CCACHE=0
    # turns it off), compiles go through it. Paths under the source dir are
    # hashed relative to it and the build dir is not hashed, so a fresh
    # checkout elsewhere (CI's) and a build dir beside it reuse the objects;
    # -ffile-prefix-map (CMakeLists.txt) keeps those paths out of the objects.
    # The settings go into the launcher, so a later plain `cmake --build`
    # uses them too.
    if [ "${GRANULE_CCACHE:-1}" != 0 ] && command -v ccache >/dev/null; then
        local launcher="env;CCACHE_BASEDIR=$GRANULE_SOURCE_DIR;CCACHE_NOHASHDIR=1;CCACHE_MAXSIZE=10G;ccache"
        set -- "-DCMAKE_C_COMPILER_LAUNCHER=$launcher" "-DCMAKE_CXX_COMPILER_LAUNCHER=$launcher" "$@"
    fi
    if cmake -S "$GRANULE_SOURCE_DIR" -B "$build_dir" "$@" >&2; then
        return 0
    fi
    [ -f "$build_dir/CMakeCache.txt" ] || return 1
    echo "granule_configure: configuring $build_dir failed; configuring it afresh" >&2
    rm -rf "$build_dir/CMakeCache.txt" "$build_dir/CMakeFiles"
    cmake -S "$GRANULE_SOURCE_DIR" -B "$build_dir" "$@" >&2
}

granule_build() {
    local build_dir=$1; shift
    granule_configure "$build_dir" "$@" || return 1
    cmake --build "$build_dir" -j"$(nproc)" >&2
}
