#!/usr/bin/env bash
# test.sh - the test command: installs dependencies, builds with strict warnings as
# errors, and runs the whole suite (unit, conformance, integration with real peers).
# Any suite that skipped (a peer or tool missing) is named on the last line, so a skip
# is never taken for a pass.
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
skipped=$(grep -E '\*\*\*Skipped|Not Run' ctest.log | sed -E 's/.*Test +#[0-9]+: ([^ ]+).*/\1/' | tr '\n' ' ')
if [ -n "$skipped" ]; then
  echo "SKIPPED (not passed; see each suite's SKIP reason above): $skipped"
else
  echo "SKIPPED: none"
fi
exit "$rc"
