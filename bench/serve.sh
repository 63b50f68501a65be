#!/usr/bin/env bash
# serve.sh - benchmark of `buildtrail serve`: LookupEvents pages of 50 events over a
# store of >= 1M generated events, driven over loopback by wrk (Debian package wrk)
# with bench/serve_wrk.lua (random time windows, then up to 5 NextTokens each, like
# paginating clients). Prints pages/s and p99 latency next to the targets
# (>= 2,000 pages/s, p99 < 20 ms), and the handler alone without HTTP
# (bench-serve_handler) for comparison. Not part of ctest.
#
#   bench/serve.sh                      # build dir ./build, 1M events, 20 s
#   EVENTS=2000000 SECONDS_=30 CONNS=8 THREADS=4 bench/serve.sh
#
# The store is generated once into $BENCH_DIR (default /tmp/bt-bench-serve) and
# reused by later runs (delete the directory to regenerate).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-$ROOT/build}
BT=$BUILD/buildtrail
GEN=$BUILD/bt-gen
HANDLER=$BUILD/bench-serve_handler
BENCH_DIR=${BENCH_DIR:-/tmp/bt-bench-serve}
EVENTS=${EVENTS:-1000000}
DAYS=${DAYS:-30}
DURATION=${SECONDS_:-20}
CONNS=${CONNS:-4}          # wrk connections = wrk threads (see serve_wrk.lua)
THREADS=${THREADS:-0}      # serve worker threads; 0 = one per CPU
FOLLOW=${FOLLOW:-5}

command -v jq >/dev/null || { echo "serve.sh: needs jq" >&2; exit 1; }
command -v bc >/dev/null || { echo "serve.sh: needs bc" >&2; exit 1; }
for f in "$BT" "$GEN" "$HANDLER"; do
  [ -x "$f" ] || { echo "serve.sh: $f is not built (cmake --build $BUILD)" >&2; exit 1; }
done
if ! command -v wrk >/dev/null; then
  echo "serve.sh: installing wrk" >&2
  apt-get install -y -qq wrk >/dev/null || { echo "serve.sh: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
fi

mkdir -p "$BENCH_DIR"
S=$BENCH_DIR/store-$EVENTS.db
if [ ! -s "$S" ]; then
  echo "== generating $EVENTS events over $DAYS days (bt-gen) and ingesting them"
  rm -rf "$BENCH_DIR/gen-$EVENTS"
  "$GEN" --out "$BENCH_DIR/gen-$EVENTS" --events "$EVENTS" --days "$DAYS" --seed 3 --jobs 2
  # exit status 3: some records refused (bt-gen writes one larger than --max-record-size)
  "$BT" ingest --store "$S.tmp" "$BENCH_DIR/gen-$EVENTS" || [ $? -eq 3 ]
  mv "$S.tmp" "$S"
  rm -rf "$BENCH_DIR/gen-$EVENTS"
fi
"$BT" info --store "$S" | sed -n '1,4p'
# the window the requests draw from: the store's first and last event
T0=$(date -d "$("$BT" info --store "$S" --output json | jq -r .First)" +%s)
T1=$(date -d "$("$BT" info --store "$S" --output json | jq -r .Last)" +%s)
echo "window: $(date -u -d @"$T0" +%FT%TZ) .. $(date -u -d @"$T1" +%FT%TZ); load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"

echo "== handler alone (one thread, no HTTP), 8 s"
"$HANDLER" "$S" "$T0" "$T1" 8 "$FOLLOW"

echo "== serve + wrk over loopback: $CONNS connections, ${DURATION} s"
LOG=$(mktemp)
"$BT" serve --store "$S" --port 0 $( [ "$THREADS" -gt 0 ] && echo --threads "$THREADS" ) 2>"$LOG" &
PID=$!
trap 'kill $PID 2>/dev/null; rm -f "$LOG"' EXIT
for _ in $(seq 1 100); do grep -q '^listening on' "$LOG" && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$LOG")
[ -n "$URL" ] || { echo "serve.sh: serve did not start: $(cat "$LOG")" >&2; exit 1; }
# warm-up (page cache, first block loads), then the measured run
BT_START=$T0 BT_END=$T1 BT_FOLLOW=$FOLLOW wrk -t"$CONNS" -c"$CONNS" -d3s -s bench/serve_wrk.lua "$URL/" >/dev/null
OUT=$(BT_START=$T0 BT_END=$T1 BT_FOLLOW=$FOLLOW wrk -t"$CONNS" -c"$CONNS" -d"${DURATION}s" --latency -s bench/serve_wrk.lua "$URL/")
echo "$OUT" | grep -E 'Latency|Req/Sec|requests in|Non-2xx|Socket errors' || true
R=$(echo "$OUT" | grep '^RESULT')
echo "$R"
pps=$(echo "$R" | sed -n 's/.*pages_per_s=\([0-9.]*\).*/\1/p')
p99=$(echo "$R" | sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p')
non200=$(echo "$R" | sed -n 's/.*non200=\([0-9]*\).*/\1/p')
verdict() { if [ "$1" = 1 ]; then echo "meets"; else echo "MISSES"; fi; }
printf '\n%-22s %12s %12s %s\n' "" measured target ""
printf '%-22s %12s %12s %s\n' "pages/s (50 events)" "$pps" ">= 2000" "$(verdict "$(echo "$pps >= 2000" | bc)")"
printf '%-22s %12s %12s %s\n' "p99 latency (ms)" "$p99" "< 20" "$(verdict "$(echo "$p99 < 20" | bc)")"
printf '%-22s %12s %12s\n' "non-200 responses" "$non200" "0"
