#!/usr/bin/env bash
# bench/lookup.sh - events/s that `buildtrail lookup` and `buildtrail ingest lookup:`
# reach against a rate-limited loopback endpoint: `buildtrail serve` behind
# tests/integration/lookup/faulty.py enforcing the service's 2 requests/s (a throttled
# request answers ThrottlingException, as the service does), 50 events per page, so
# the ceiling is 100 events/s. Target: at least 95% of it, with no request throttled.
# Usage: bench/lookup.sh [BUILD_DIR] [PAGES]   (default build, 40 pages = 2000 events)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-$ROOT/build}
PAGES=${2:-40}
BT=$B/buildtrail
GEN=$B/bt-gen
for x in "$BT" "$GEN"; do [ -x "$x" ] || { echo "bench/lookup.sh: $x not built" >&2; exit 1; }; done
T=$(mktemp -d /tmp/bt-bench-lookup.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT

export HOME=$T TZ=UTC AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=AKIDBENCH \
  AWS_SECRET_ACCESS_KEY=bench AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
EVENTS=$((PAGES * 50))
"$GEN" --out "$T/gen" --events $((EVENTS + 200)) --days 3 --seed 21 --accounts 1 --regions us-east-1 >/dev/null 2>&1
"$BT" ingest --store "$T/s.db" -q "$T/gen" >/dev/null
"$BT" serve --store "$T/s.db" --port 0 2>"$T/serve.err" &
PIDS+=($!)
for _ in $(seq 1 100); do
  SERVE=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$T/serve.err")
  [ -n "$SERVE" ] && break
  sleep 0.1
done
python3 "$ROOT/tests/integration/lookup/faulty.py" --upstream "$SERVE" --port-file "$T/p.port" \
  --rate 2 --log "$T/p.log" --lifetime 900 >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do [ -s "$T/p.port" ] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$T/p.port")"

now() { date +%s.%N; }
report() { # NAME EVENTS SECONDS REQUESTS THROTTLED
  awk -v n="$1" -v e="$2" -v s="$3" -v r="$4" -v t="$5" 'BEGIN {
    rate = e / s; steady = (r > 1) ? (e - e / r) / s : rate
    printf "%-22s %6d events %4d requests in %6.2f s: %6.1f events/s (%5.1f%% of the 100 events/s ceiling; steady state %5.1f%%), %d throttled\n",
      n, e, r, s, rate, rate, steady, t }'
}

# buildtrail lookup: every event of the window, pages of 50, the default 2 req/s limiter
: >"$T/p.log"
t0=$(now)
"$BT" lookup --endpoint-url "$URL" --max-items "$EVENTS" --output json --query 'length(Events)' >"$T/n"
t1=$(now)
report "buildtrail lookup" "$(cat "$T/n")" "$(echo "$t1 - $t0" | bc)" "$(wc -l <"$T/p.log")" \
  "$(grep -c '"step": "rate"' "$T/p.log" || true)"

# buildtrail ingest lookup: the same window into a store
sleep 1
: >"$T/p.log"
END=$("$BT" search --store "$T/s.db" --max-items 1 --query 'Events[0].EventTime' --output text)
START=$("$BT" search --store "$T/s.db" --max-items "$EVENTS" --query 'Events[-1].EventTime' --output text)
t0=$(now)
"$BT" ingest --store "$T/i.db" "lookup:us-east-1" --endpoint-url "$URL" --start-time "$START" \
  --end-time "$END" --summary json >"$T/sum"
t1=$(now)
report "buildtrail ingest lookup" "$(jq .events "$T/sum")" "$(echo "$t1 - $t0" | bc)" \
  "$(wc -l <"$T/p.log")" "$(grep -c '"step": "rate"' "$T/p.log" || true)"

# the AWS CLI on the same endpoint, for reference (it has no limiter: it is throttled
# and retries with backoff)
if [ -x /usr/bin/aws ]; then
  sleep 1
  : >"$T/p.log"
  t0=$(now)
  AWS_MAX_ATTEMPTS=10 /usr/bin/aws cloudtrail lookup-events --endpoint-url "$URL" --max-items "$EVENTS" \
    --output json --query 'length(Events)' >"$T/n" 2>/dev/null || echo "(aws failed)"
  t1=$(now)
  report "aws (no limiter)" "$(cat "$T/n")" "$(echo "$t1 - $t0" | bc)" "$(wc -l <"$T/p.log")" \
    "$(grep -c '"step": "rate"' "$T/p.log" || true)"
fi
