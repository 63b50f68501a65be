#!/usr/bin/env bash
# test.sh - the test command: installs dependencies, builds with strict warnings as
# errors, and runs the whole suite (unit, conformance, integration with real peers).
# Any suite that skipped (a peer or tool missing) is named on the last line, so a skip
# is never taken for a pass: a run with a skipped suite exits 3 unless BT_ALLOW_SKIP=1.
#   BUILD_DIR=build-asan CMAKE_ARGS=-DBT_SANITIZE=ON scripts/test.sh   # sanitizer run
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DBT_WERROR=ON ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
cd "$BUILD_DIR"
rc=0
ctest --output-on-failure -j"${BT_TEST_JOBS:-2}" ${CTEST_ARGS:-} | tee ctest.log || rc=$?
# grep finds nothing on a clean run; under pipefail that must not end the script
skipped=$( { grep -E '\*\*\*Skipped|Not Run' ctest.log || true; } | sed -E 's/.*Test +#[0-9]+: ([^ ]+).*/\1/' | tr '\n' ' ')
if [ -n "$skipped" ]; then
  echo "SKIPPED (not passed; see each suite's SKIP reason above): $skipped"
  # a skip is not a pass: fail unless the caller accepts skips (BT_ALLOW_SKIP=1)
  [ "${BT_ALLOW_SKIP:-0}" = 1 ] || [ "$rc" -ne 0 ] || rc=3
else
  echo "SKIPPED: none"
fi
exit "$rc"
