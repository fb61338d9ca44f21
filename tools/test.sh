#!/usr/bin/env bash
# The whole test suite: install dependencies, build, run ctest.
set -euo pipefail
GRANULE_SOURCE_DIR=$(cd "$(dirname "$0")/.." && pwd)
. "$GRANULE_SOURCE_DIR/tools/deps.sh"
ensure_packages "${GRANULE_BUILD_PACKAGES[@]}" "${GRANULE_TEST_PACKAGES[@]}"
build=${GRANULE_BUILD_DIR:-$GRANULE_SOURCE_DIR/build}
granule_build "$build"
cd "$build"
# In CI every component is present: a skipped test is a failure there.
if [ "${CI:-}" = "true" ]; then export GRANULE_NO_SKIP=1; fi
ctest --output-on-failure -j2 "$@"
