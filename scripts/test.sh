#!/usr/bin/env bash
# test.sh - the test command: installs dependencies, builds with strict warnings as
# errors, and runs the whole suite (unit, conformance, integration with real peers).
#   BUILD_DIR=build-asan CMAKE_ARGS=-DBT_SANITIZE=ON scripts/test.sh   # sanitizer run
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DBT_WERROR=ON ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
cd "$BUILD_DIR"
ctest --output-on-failure -j"${BT_TEST_JOBS:-2}" ${CTEST_ARGS:-}
