#!/usr/bin/env bash
# The newcomer's path and the installed SDK (issue 10), as tools/test.sh runs
# it in CI:
#  1. the README's demo in a build dir configured with Qt 6 and Python's
#     headers hidden (-DCMAKE_DISABLE_FIND_PACKAGE_Qt6=ON, ..._Python3=ON:
#     what a fresh Debian 12 has after tools/demo.sh's own packages; the
#     Python package is not built then), and a half-configured build dir that
#     granule_configure must recover;
#  2. `cmake --install` of that build into a fresh prefix: the tools run with
#     an empty environment, load the prefix's drivers and nothing else, no
#     file names a path of this checkout, a versioned soname; --version, the
#     man pages (rendered without warnings, every command and option in them),
#     bash completion;
#  3. export lists: every installed driver exports granule_driver_entry only;
#     libgranule's exports are counted (and must hold no boost:: symbol);
#  4. examples/ copied out of the tree and built against the prefix only
#     (the C API: tests/c-api/installed.sh; the Python package installed with
#     pip into a venv against the prefix: tests/sdk/python_install.sh)
#     (CMake package, and pkg-config for the app), the app run, the example
#     drivers run through blkdebug by byte-exact golden scenarios.
#
#   tests/sdk/run.sh      (build dir: $GRANULE_SDK_BUILD_DIR or build-sdk/)
# Exit 0: all passed; 1: a check failed (each named).
set -euo pipefail
GRANULE_SOURCE_DIR=$(cd "$(dirname "$0")/../.." && pwd)
. "$GRANULE_SOURCE_DIR/tools/deps.sh"
ensure_packages "${GRANULE_BUILD_PACKAGES[@]}" binutils pkg-config groff-base man-db \
    "${GRANULE_PYTHON_PACKAGES[@]}"
build=${GRANULE_SDK_BUILD_DIR:-$GRANULE_SOURCE_DIR/build-sdk}
work=$(mktemp -d "${TMPDIR:-/tmp}/granule-sdk.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*" >&2; }
step() { echo "== sdk: $*" >&2; }

step "1. the demo with Qt 6 and Python hidden ($build)"
granule_configure "$build" -DCMAKE_DISABLE_FIND_PACKAGE_Qt6=ON -DCMAKE_DISABLE_FIND_PACKAGE_Python3=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null 2>&1 || { fail "configure with Qt and Python hidden"; exit 1; }
! cmake --build "$build" --target help | grep -q granule_python ||
    fail "$build: the Python module was configured although Python is hidden"
grep -q '^GRANULE_BUILD_TESTS:STRING=AUTO' "$build/CMakeCache.txt" ||
    fail "$build: GRANULE_BUILD_TESTS is not AUTO"
if GRANULE_BUILD_DIR=$build "$GRANULE_SOURCE_DIR/tools/demo.sh" "$work/demo.img" >"$work/demo.log" 2>&1; then
    grep -q "bytes that differ from $work/demo.img (the 10-byte 0x44 write): 10" "$work/demo.log" &&
        pass "tools/demo.sh without Qt" || fail "tools/demo.sh: unexpected output ($work/demo.log)"
else
    tail -20 "$work/demo.log" >&2
    fail "tools/demo.sh failed without Qt"
fi
[ ! -e "$build/tests" ] || fail "$build: the tests were configured although Qt is hidden"

# A build dir whose configure failed (tests required, Qt hidden) is
# configured afresh by the next granule_configure.
half=$work/half
cmake -S "$GRANULE_SOURCE_DIR" -B "$half" -DGRANULE_BUILD_TESTS=ON -DCMAKE_DISABLE_FIND_PACKAGE_Qt6=ON \
    >/dev/null 2>&1 && fail "configure with tests ON and Qt hidden succeeded"
[ -f "$half/CMakeCache.txt" ] && [ ! -f "$half/Makefile" ] || fail "no half-configured dir made"
if granule_configure "$half" -DGRANULE_BUILD_TESTS=ON >"$work/half.log" 2>&1 &&
        [ -f "$half/Makefile" ] && [ -d "$half/tests" ]; then
    pass "a half-configured build dir recovers"
else
    tail -5 "$work/half.log" >&2
    fail "granule_configure did not recover $half"
fi
rm -rf "$half"

step "2. install into a fresh prefix"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null || { fail "cmake --install"; exit 1; }
lib=$(find "$prefix" -name 'libgranule.so.*.*.*' | head -1)
[ -n "$lib" ] || { fail "no libgranule.so.X.Y.Z installed"; exit 1; }
soname=$(readelf -d "$lib" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[[ "$soname" =~ ^libgranule\.so\.[0-9]+\.[0-9]+$ ]] && pass "soname $soname" || fail "soname '$soname'"
out=$(env -i "$prefix/bin/granule-io" --image-opts driver=blkdebug,align=4096,image.driver=memory,image.size=1M \
    -c 'write -P 0x41 100 3000' -c 'read -P 0x41 100 3000' 2>&1) &&
    [[ "$out" == *"read 3000/3000 bytes at offset 100"* ]] &&
    pass "installed granule-io runs with an empty environment" ||
    fail "installed granule-io with env -i: $out"
env -i "$prefix/bin/granule-img" drivers >"$work/drivers.txt" 2>&1 || fail "granule-img drivers"
# Only the prefix's own plugin dir, and every driver from there.
searched=$(sed -n '/^searched:/,/^skipped:/p' "$work/drivers.txt" | grep '^  ' || true)
[ "$(wc -l <<<"$searched")" = 1 ] && [[ "$searched" == "  $prefix/"*"/granule/drivers (beside libgranule)" ]] &&
    pass "the installed library searches only ${searched#  }" || fail "searched: $searched"
grep '^  file: ' "$work/drivers.txt" | grep -v "  file: $prefix/" && fail "a driver loaded from outside $prefix"
grep -q '^skipped:' "$work/drivers.txt" && fail "files skipped in the install: $(cat "$work/drivers.txt")"
leaks=$(find "$prefix" -type f \( -name '*.so*' -o -path '*/bin/*' \) -exec grep -l -F -e "$GRANULE_SOURCE_DIR" -e "$build" {} + || true)
[ -z "$leaks" ] && pass "no installed binary names $GRANULE_SOURCE_DIR or $build" ||
    fail "build paths in: $leaks"
readelf -d "$prefix/bin/granule-io" | grep -q 'RUNPATH.*\$ORIGIN' || fail "granule-io has no \$ORIGIN RUNPATH"
# The version: CMake's project() in the tools, the library and the generated header.
version=$(sed -n 's/^project(granule VERSION \([0-9.]*\) .*/\1/p' "$GRANULE_SOURCE_DIR/CMakeLists.txt")
for t in granule-img granule-io; do
    v=$(env -i "$prefix/bin/$t" --version 2>&1)
    [[ "$v" == "$t version $version (Granule library $version, driver ABI "[0-9]*.[0-9]*")" ]] ||
        fail "installed $t --version: '$v'"
done
grep -q "^#define GRANULE_VERSION_STRING \"$version\"$" "$prefix/include/granule/version.h" &&
    [ ! -e "$prefix/include/granule/version.h.in" ] && pass "version $version (tools, library, granule/version.h)" ||
    fail "include/granule/version.h does not say $version (or version.h.in was installed)"

# The man pages (from docs/, tools/md2man): installed, rendered without a
# warning, naming every command and option the installed tools print.
mandir=$prefix/share/man/man1
if [ -f "$mandir/granule-img.1" ] && [ -f "$mandir/granule-io.1" ]; then
    nbd_tool=()
    [ -x "$prefix/bin/granule-nbd" ] && nbd_tool=("$prefix/bin/granule-nbd")
    if bash "$GRANULE_SOURCE_DIR/tests/tools/test_man_pages.sh" "$prefix/bin/granule-img" \
            "$prefix/bin/granule-io" "$mandir" "${nbd_tool[@]}" >"$work/man.log" 2>&1; then
        pass "man pages: $(ls "$mandir" | paste -sd' ')"
    else
        cat "$work/man.log" >&2
        fail "the installed man pages"
    fi
else
    fail "no man pages in $mandir: $(ls "$prefix/share/man" 2>&1)"
fi

# Bash completion under both names, working with the installed tools.
completions=$prefix/share/bash-completion/completions
if [ -f "$completions/granule-img" ] && cmp -s "$completions/granule-img" "$completions/granule-io"; then
    bash "$GRANULE_SOURCE_DIR/tests/tools/test_completion.sh" "$prefix/bin/granule-img" "$prefix/bin/granule-io" \
        "$completions/granule-img" >"$work/completion.log" 2>&1 &&
        pass "bash completion: $completions/granule-img, granule-io" ||
        { cat "$work/completion.log" >&2; fail "the installed bash completion"; }
else
    fail "no bash completion in $completions: $(ls "$completions" 2>&1)"
fi

step "3. export lists"
for so in "$prefix"/lib*/granule/drivers/*.so; do
    syms=$(nm -D --defined-only "$so" | awk '{print $3}' | sort | paste -sd' ')
    [ "$syms" = granule_driver_entry ] || fail "$(basename "$so") exports: $syms"
done
pass "every installed driver exports granule_driver_entry only"
total=$(nm -D --defined-only "$lib" | wc -l)
boost=$(nm -D -C --defined-only "$lib" | grep -c ' boost::' || true)
echo "libgranule exports $total symbols, $boost of them boost::" >&2
[ "$boost" = 0 ] || fail "libgranule exports $boost boost:: symbols"
other=$(nm -D -C --defined-only "$lib" | awk '{ $1 = ""; $2 = ""; print }' | sed 's/^ *//' |
    grep -v -E '^(granule::|typeinfo (name )?for granule::|vtable for granule::)' | head -5 || true)
[ -z "$other" ] || fail "libgranule exports more than namespace granule: $other"

step "4. examples/ against the installed prefix only"
cp -r "$GRANULE_SOURCE_DIR/examples" "$work/examples"
for e in app driver-c driver-cpp driver-minimal; do
    if cmake -S "$work/examples/$e" -B "$work/build-$e" -DCMAKE_PREFIX_PATH="$prefix" >"$work/$e.log" 2>&1 &&
            cmake --build "$work/build-$e" -j"$(nproc)" >>"$work/$e.log" 2>&1; then
        grep -q -F "$GRANULE_SOURCE_DIR" "$work/build-$e/CMakeCache.txt" &&
            fail "examples/$e: its build refers to $GRANULE_SOURCE_DIR"
        pass "examples/$e built"
    else
        tail -20 "$work/$e.log" >&2
        fail "examples/$e does not build against $prefix"
    fi
done
app=$work/build-app/granule-example-app
env -i "$app" >"$work/app.log" 2>&1 && pass "the example app (memory)" || fail "example app: $(tail -3 "$work/app.log")"
# pkg-config: the same program from the .pc file's flags alone.
if g++ -o "$work/app-pc" "$work/examples/app/app.cpp" \
        $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs granule) \
        -Wl,-rpath,"$(dirname "$lib")" 2>"$work/pc.log"; then
    env -i "$work/app-pc" >/dev/null 2>&1 && pass "the app built with pkg-config" || fail "the pkg-config app failed"
else
    tail -5 "$work/pc.log" >&2
    fail "the app does not build with pkg-config's flags"
fi
plugindir=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --variable=plugindir granule)
[ "$(cd "$plugindir" && pwd)" = "$(dirname "$(grep -m1 '^  file: ' "$work/drivers.txt" | cut -c9-)")" ] ||
    fail "granule.pc plugindir $plugindir is not where the drivers are"
# Below C++20 the headers say so at once, not deep inside.
for h in driver device; do
    echo "#include <granule/$h.hpp>" >"$work/old.cpp"
    if g++ -std=c++17 -fsyntax-only -I"$prefix/include" "$work/old.cpp" 2>"$work/old.log"; then
        fail "granule/$h.hpp compiled as C++17"
    else
        grep -q "granule/$h.hpp needs C++20" "$work/old.log" || fail "granule/$h.hpp below C++20: $(head -3 "$work/old.log")"
    fi
done
# The C API: its test and example from the prefix with pkg-config granule-c;
# the Python package pip-installed against it into a venv.
"$GRANULE_SOURCE_DIR/tests/c-api/installed.sh" "$prefix" || fail "the C API from the installed prefix"
"$GRANULE_SOURCE_DIR/tests/sdk/python_install.sh" "$prefix" || fail "the Python package against the installed prefix"
for d in c cpp; do
    dir=$work/build-driver-$d/drivers
    so=$dir/granule-driver-example-$d.so
    syms=$(nm -D --defined-only "$so" 2>/dev/null | awk '{print $3}' | paste -sd' ')
    [ "$syms" = granule_driver_entry ] || fail "example-$d exports: $syms"
    truncate -s 1M "$work/app-$d.img"
    env -i GRANULE_DRIVER_PATH="$dir" "$app" \
        "driver=blkdebug,align=4096,image.driver=example-$d,image.filename=$work/app-$d.img" \
        >"$work/app-$d.log" 2>&1 || fail "the app over example-$d: $(tail -2 "$work/app-$d.log")"
    # Byte-exact goldens whose output does not depend on the stack.
    for s in 001-unaligned-edges 002-raw-posix-unaligned 007-eof-zeroes-growth-raw 014-eof-partial-last-block; do
        if GRANULE_DRIVER_PATH=$dir \
                GRANULE_SCENARIO_SPEC="driver=blkdebug,align=4096,image.driver=example-$d,image.filename=\$IMG" \
                "$GRANULE_SOURCE_DIR/tests/scenarios/run_scenario.sh" "$prefix/bin/granule-io" \
                "$GRANULE_SOURCE_DIR/tests/scenarios/$s.io" >"$work/scn.log" 2>&1; then
            :
        else
            tail -15 "$work/scn.log" >&2
            fail "scenario $s over blkdebug + example-$d"
        fi
    done
    pass "example-$d: the app and 4 golden scenarios through blkdebug align=4096"
done

if [ $failures -ne 0 ]; then
    echo "sdk: $failures check(s) failed" >&2
    exit 1
fi
echo "sdk: all checks passed" >&2
