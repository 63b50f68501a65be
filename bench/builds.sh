#!/usr/bin/env bash
# builds.sh - the issue #6 benchmark: `buildtrail build <id>` on a store of >= 5M events
# (target < 50 ms) and `buildtrail builds` over >= 10,000 builds (target < 1 s). The
# peer is what people do today without buildtrail: zcat | jq over the archive for the
# build's role session. Not a test: it prints figures.
#   BT_BENCH_EVENTS=5000000 BT_BENCH_BUILDS=10000 BT_BENCH_DIR=/tmp/bt-bench bench/builds.sh
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD_DIR:-build-bench}
EVENTS=${BT_BENCH_EVENTS:-5000000}
BUILDS=${BT_BENCH_BUILDS:-10000}
W=${BT_BENCH_DIR:-/tmp/bt-bench}
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DBT_BUILD_TESTS=OFF >/dev/null
cmake --build "$B" -j"$(nproc)" >/dev/null
BT="$B/buildtrail"
A="$W/builds-$EVENTS-$BUILDS"
S="$A.db"
if [ ! -f "$A/ground-truth.json" ]; then
  rm -rf "$A" "$S"*
  echo "generating $EVENTS events with $BUILDS builds in $A ..."
  "$B/bt-gen" --out "$A" --events "$EVENTS" --builds "$BUILDS" --days 30 --eventbridge --seed 9 >/dev/null
fi
if [ ! -f "$S" ]; then
  echo "ingesting ..."
  "$BT" ingest -q --store "$S" "$A/AWSLogs" "$A/eventbridge" || [ $? -eq 3 ] # 3: records refused
fi
"$BT" info --store "$S" | head -3

ms() { # median of N runs of a command, in ms
  local n=$1 i t
  shift
  for i in $(seq 1 "$n"); do
    t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000000 ))
  done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

echo
echo "== buildtrail builds (all builds, json)"
nb=$("$BT" builds --store "$S" --output json --query 'length(Builds)')
printf '  %d builds: median %s ms (target < 1000 ms)\n' "$nb" "$(ms 5 "$BT" builds --store "$S" --output json)"

echo
echo "== buildtrail build <id>: the builds with the most calls, and some random ones"
"$BT" builds --store "$S" --output json --query 'sort_by(Builds[?!Batch], &Calls)[-3:].BuildId' | jq -r '.[]' > "$W/ids"
"$BT" builds --store "$S" --output json --query 'Builds[?!Batch].BuildId' | jq -r '.[]' | awk 'NR % 997 == 1' | head -5 >> "$W/ids"
worst=0
while read -r id; do
  t=$(ms 7 "$BT" build --store "$S" "$id" --output json)
  c=$("$BT" build --store "$S" "$id" --output json | jq '.Events | length')
  printf '  %-64s %5s timeline entries  median %4s ms\n' "$id" "$c" "$t"
  [ "$t" -gt "$worst" ] && worst=$t
done < "$W/ids"
printf '  slowest median: %s ms (target < 50 ms)\n' "$worst"

echo
echo "== peer: the same build's role-session calls with zcat | jq over the archive"
id=$(head -1 "$W/ids"); uuid=${id##*:}
t0=$(date +%s%N)
n=$(find "$A/AWSLogs" -path '*/CloudTrail/*' -name '*.json.gz' -print0 | xargs -0 zcat \
    | jq -c --arg u "AWSCodeBuild-$uuid" '.Records[] | select((.userIdentity.arn // "") | endswith($u))' | wc -l)
t1=$(date +%s%N)
printf '  zcat | jq: %d calls in %d ms   (buildtrail build: the timeline above)\n' "$n" $(( (t1 - t0) / 1000000 ))
