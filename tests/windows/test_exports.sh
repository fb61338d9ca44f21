#!/usr/bin/env bash
# The export tables of the Windows build (issue 10): every driver DLL exports
# granule_driver_entry and nothing else, and granule.dll exports the granule
# namespace only (no Boost, no standard library instances), as on Linux.
#
#   test_exports.sh OBJDUMP GRANULE_DLL DRIVER_DLL...
set -uo pipefail
objdump=$1 lib=$2
shift 2
failures=0
# The names of a PE file's export table ("[Ordinal/Name Pointer] Table").
exports() {
    "$objdump" -p "$1" | sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' |
        sed -n 's/^\s*\[ *[0-9]*\] //p'
}
for dll in "$@"; do
    names=$(exports "$dll" | paste -sd' ')
    if [ "$names" = granule_driver_entry ]; then
        echo "ok: $(basename "$dll") exports granule_driver_entry only"
    else
        echo "FAIL: $(basename "$dll") exports: $names"
        failures=$((failures + 1))
    fi
done
all=$(exports "$lib")
total=$(grep -c . <<<"$all")
# Itanium-mangled names of namespace granule start _ZN7granule (or _ZNK7granule,
# _ZTIN7granule, _ZTSN7granule, _ZTVN7granule).
other=$(grep -v -E '^_Z(N|NK|TIN|TSN|TVN)7granule' <<<"$all" | head -5)
echo "granule.dll exports $total names"
if [ -n "$other" ]; then
    echo "FAIL: granule.dll exports outside namespace granule: $other"
    failures=$((failures + 1))
fi
[ "$total" -gt 0 ] || { echo "FAIL: granule.dll exports nothing"; failures=$((failures + 1)); }
exit $((failures > 0))
