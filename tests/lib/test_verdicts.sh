# Sourced by the suites' fixtures (tests/integration/iscsi, nbd, nbd-server):
# how a test script ends or reports.
#   skip REASON   exit 77 (ctest's SKIP), or fail when GRANULE_NO_SKIP=1 (CI,
#                 where every component is present)
#   fail WHY      exit 1
#   note STEP     a step's heading on stdout
skip() {
    if [ "${GRANULE_NO_SKIP:-}" = 1 ]; then
        echo "FAIL: cannot run (GRANULE_NO_SKIP=1): $*" >&2
        exit 1
    fi
    echo "SKIP: $*"
    exit 77
}
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
note() { echo "--- $*"; }
