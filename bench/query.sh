#!/usr/bin/env bash
# query.sh - the issue #5 benchmark: what --query (JMESPath) and the AWS CLI formatters
# add to `buildtrail search --output json` over a store of >= 1M events (target: less
# than 10%), and the JMESPath engine's throughput on the compliance suite's bench cases.
# Not a test: it prints figures.
#   BT_BENCH_EVENTS=1000000 BT_BENCH_DIR=/tmp/bt-bench bench/query.sh
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD_DIR:-build-bench}
EVENTS=${BT_BENCH_EVENTS:-1000000}
W=${BT_BENCH_DIR:-/tmp/bt-bench}
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DBT_BUILD_TESTS=OFF >/dev/null
cmake --build "$B" -j"$(nproc)" >/dev/null
BT="$B/buildtrail"
A="$W/query-$EVENTS"
S="$A.db"
if [ ! -f "$S" ]; then
  rm -rf "$A"
  "$B/bt-gen" --out "$A" --events "$EVENTS" --days 14 --seed 4 >/dev/null
  "$BT" ingest -q --store "$S" "$A/AWSLogs" >/dev/null || [ $? -eq 3 ] # 3: records refused
fi
n=$("$BT" info --store "$S" --output json --query Events)
echo "store: $n events"
cpu() { # CPU seconds (user+sys) of a command, output discarded
  /usr/bin/time -f '%U %S' -o "$W/.t" "$@" > /dev/null
  awk '{printf "%.2f", $1 + $2}' "$W/.t"
}
base=$(cpu "$BT" search --store "$S" --output json)
printf '  %-72s %6s s CPU\n' "search --output json (no query)" "$base"
while IFS='|' read -r fmt q; do
  t=$(cpu "$BT" search --store "$S" --output "$fmt" --query "$q")
  printf '  %-72s %6s s CPU  %+5.1f%%\n' "--output $fmt --query '$q'" "$t" "$(echo "($t - $base) * 100 / $base" | bc -l)"
done <<'Q'
json|Events[].{EventId:EventId, EventName:EventName, EventTime:EventTime, Username:Username, Resources:Resources}
json|Events[?EventSource=='codebuild.amazonaws.com'].[EventTime, EventName, Username]
text|Events[*].{EventId:EventId, EventName:EventName, EventTime:EventTime, Username:Username, Resources:Resources}
json|length(Events[?ReadOnly=='false'])
Q
echo
echo "JMESPath engine on the compliance suite's bench cases:"
if [ -x "$B/bench-jmespath_speed" ] && [ -d ../shared/conformance/jmespath ]; then
  "$B/bench-jmespath_speed" ../shared/conformance 2>&1 | sed 's/^/  /' | head -40
else
  echo "  (bench-jmespath_speed or ../shared missing)"
fi
echo
echo "target: --query evaluation and formatting add < 10% to search --output json"
