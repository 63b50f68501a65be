#!/usr/bin/env bash
# demo.sh - the main job on the embedded default: builds buildtrail, generates a
# realistic trail archive (CodeBuild deployments among other traffic), ingests it into
# the default SQLite store, tells the story of a failed deployment and ends with the
# alerts of the CodeBuild rule pack (the archive holds bt-gen's attack scenarios).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
BT=./build/buildtrail
demo=${BT_DEMO_DIR:-/tmp/buildtrail-demo}
rm -rf "$demo"
echo "== generating a sample trail archive in $demo/archive"
./build/bt-gen --out "$demo/archive" --events 50000 --eventbridge --attacks --seed 7 >/dev/null
echo "== ingesting it into the store (${BUILDTRAIL_STORE:-the default, \$XDG_DATA_HOME/buildtrail/events.db})"
$BT ingest "$demo/archive"
echo
$BT info
echo
echo "== the latest CodeBuild builds"
$BT builds --max-items 12
bid=$($BT builds --status FAILED --errors --output text --query 'Builds[?!Batch] | [0].BuildId')
echo
echo "== what happened in the failed deployment $bid"
$BT build "$bid"
$BT build "$bid" --output html > "$demo/report.html"
echo
echo "== the same build in the web view ('$BT serve', then open the page) and as a report"
echo "web page:    http://127.0.0.1:8090/builds/${bid#*:}"
echo "HTML report: $demo/report.html"
echo
echo "== the alerts of the CodeBuild rule pack (hunt --rules builtin) on the archive"
$BT hunt --rules builtin --output table
