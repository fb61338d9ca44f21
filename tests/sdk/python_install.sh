#!/usr/bin/env bash
# The Python package as a user installs it, from an installed prefix only
# (docs/python.md): python/ copied out of the tree (so nothing refers to the
# checkout), a venv of Debian's python3 (--system-site-packages: setuptools
# and wheel come from Debian, no network; Debian's pip refuses installs
# outside a venv, PEP 668), `pip install --no-build-isolation` with
# PKG_CONFIG_PATH naming the prefix's granule-c.pc; then a short program run
# under `env -i` by the venv's python: blkdebug align=4096 over memory,
# unaligned writes and reads, bytes checked. The module must load through
# its rpath alone and name no path of the checkout.
#
#   tests/sdk/python_install.sh PREFIX        (PREFIX from cmake --install)
# Exit 0: installed and working; 1: a step failed (named); 2: usage.
set -uo pipefail
prefix=${1:-}
if [ -z "$prefix" ] || [ ! -f "$prefix/lib/pkgconfig/granule-c.pc" ]; then
    echo "usage: $0 PREFIX (an installed Granule: PREFIX/lib/pkgconfig/granule-c.pc)" >&2
    exit 2
fi
prefix=$(cd "$prefix" && pwd)
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
python=/usr/bin/python3
[ -x "$python" ] || { echo "FAIL: $python not found (Debian: python3)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/granule-pyinstall.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*" >&2; }

cp -r "$source_dir/python" "$work/python"
rm -rf "$work/python/build" "$work/python"/*.egg-info
"$python" -m venv --system-site-packages "$work/venv" >"$work/venv.log" 2>&1 ||
    { cat "$work/venv.log" >&2; fail "python3 -m venv (Debian: python3-venv)"; }
# No index: everything the build needs is on the machine.
if (cd "$work" && PKG_CONFIG_PATH=$prefix/lib/pkgconfig PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
        "$work/venv/bin/pip" install --no-build-isolation ./python) >"$work/pip.log" 2>&1; then
    pass "pip install --no-build-isolation ./python against $prefix"
else
    tail -20 "$work/pip.log" >&2
    fail "pip install of python/ against $prefix"
fi
module=$(find "$work/venv" -name '_granule*.so' | head -1)
[ -n "$module" ] || fail "no granule/_granule*.so in the venv"
grep -q -F "$source_dir" "$module" && fail "$module names the checkout $source_dir"
readelf -d "$module" | grep -q "RUNPATH.*$prefix/lib" || fail "$module has no RUNPATH to $prefix/lib"

cat >"$work/check.py" <<'EOF'
import granule
spec = "driver=blkdebug,align=4096,image.driver=memory,image.size=1M"
with granule.open(spec) as dev:
    assert dev.limits.request_alignment == 4096, dev.limits
    model = bytearray(dev.length)
    for off, n in [(1, 1), (4095, 2), (5000, 10000), (65536 - 3, 7)]:
        data = bytes((off + i) % 251 + 1 for i in range(n))
        dev.pwrite(off, data)
        model[off:off + n] = data
    assert dev.pread(0, dev.length) == model, "bytes differ"
    assert dev.stats.rmw_cycles > 0
print("granule", granule.version(), "from", granule.__file__)
EOF
if out=$(cd / && env -i "$work/venv/bin/python" "$work/check.py" 2>&1); then
    case $out in
    "granule "*" from $work/venv/"*) pass "env -i: $out" ;;
    *) fail "the check ran a granule from elsewhere: $out" ;;
    esac
else
    fail "the installed package under env -i: $out"
fi
echo "python_install: all checks passed" >&2
