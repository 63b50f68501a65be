#!/usr/bin/env bash
# demo.sh - the main job on the embedded default: builds buildtrail, generates a
# realistic trail archive (CodeBuild deployments among other traffic), ingests it into
# the default SQLite store and shows what a failed deployment did.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
BT=./build/buildtrail
demo=${BT_DEMO_DIR:-/tmp/buildtrail-demo}
rm -rf "$demo"
echo "== generating a sample trail archive in $demo/archive"
./build/bt-gen --out "$demo/archive" --events 50000 --eventbridge --seed 7 >/dev/null
echo "== ingesting it into the store (${BUILDTRAIL_STORE:-default: \$XDG_DATA_HOME/buildtrail/events.db})"
$BT ingest "$demo/archive"
$BT info
# a build whose own role session hit AccessDenied
uuid=$($BT search --error-code AccessDenied --max-items 1 --query 'Events[0].Username' --output text | sed 's/^AWSCodeBuild-//')
echo
echo "== the build whose role session hit AccessDenied: AWSCodeBuild-$uuid"
$BT search --build "$uuid" --event-source codebuild.amazonaws.com --output table \
   --query 'Events[].{Time:EventTime,Event:EventName,User:Username}'
echo
echo "== what that build's role session did (oldest last)"
$BT search --build "$uuid" --output text \
   --query 'Events[].[EventTime,EventSource,EventName,Username]' | head -40
