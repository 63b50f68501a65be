#!/usr/bin/env bash
# bench/s3.sh - reading a trail archive from S3: `buildtrail ingest s3://...` against
# `/usr/bin/aws s3 sync` (AWS CLI v2) followed by `buildtrail ingest` of the synced
# copy, on the same objects in a loopback moto_server (SigV4 checked, as in it_s3.sh).
# Prints wall time, objects/s, events/s and peak RSS of each, the end-to-end speed-up,
# and moto_server's own CPU per request (the floor every client shares here).
#
#   bench/s3.sh [BUILD_DIR]        (default: build)
#   BENCH_EVENTS=200000 BENCH_RUNS=1 BENCH_CONCURRENCY=16
set -u
cd "$(dirname "$0")/.."
B=${1:-build}
BT="$B/buildtrail"
GEN="$B/bt-gen"
AWS=/usr/bin/aws # the AWS CLI v2 package; the `aws` first on PATH may be a v1
HERE=tests/integration/s3
EVENTS=${BENCH_EVENTS:-200000}
RUNS=${BENCH_RUNS:-1}
CONC=${BENCH_CONCURRENCY:-16}
for x in "$BT" "$GEN"; do [ -x "$x" ] || { echo "bench/s3.sh: $x not built"; exit 1; }; done
[ -x "$AWS" ] || { echo "bench/s3.sh: $AWS (AWS CLI v2) not installed"; exit 77; }
command -v moto_server >/dev/null 2>&1 && python3 -c 'import boto3, moto' 2>/dev/null ||
  { echo "bench/s3.sh: needs moto_server and boto3 in python3"; exit 77; }
[ -x /usr/bin/time ] || { echo "bench/s3.sh: needs GNU time (/usr/bin/time)"; exit 77; }

T=$(mktemp -d /tmp/bt-bench-s3.XXXXXX)
MP=""
trap '[ -n "$MP" ] && kill "$MP" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

"$GEN" --out "$T/arch" --seed 3 --events "$EVENTS" --accounts 4 \
  --regions us-east-1,eu-west-1,us-west-2 --days 3 --org o-benchorg001 2>"$T/gen.log" ||
  { cat "$T/gen.log"; exit 1; }
OBJS=$(find "$T/arch/AWSLogs" -path '*/CloudTrail/*' -type f | wc -l)
BYTES=$(find "$T/arch/AWSLogs" -path '*/CloudTrail/*' -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
[ "$OBJS" -ge 5000 ] || { echo "bench/s3.sh: only $OBJS objects (raise BENCH_EVENTS)"; exit 1; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
INITIAL_NO_AUTH_ACTION_COUNT=3 python3 "$HERE/moto_server.py" -H 127.0.0.1 -p "$PORT" >"$T/moto.log" 2>&1 &
MP=$!
for _ in $(seq 1 150); do curl -s --max-time 1 -o /dev/null "$URL/moto-api/" && break; sleep 0.2; done
echo "bench/s3.sh: uploading $OBJS log objects (+ digests) to moto_server ..." >&2
timeout 900 python3 "$HERE/setup.py" --url "$URL" --keys "$T/keys" --bucket bench --upload "bench::$T/arch" \
  >"$T/setup.log" 2>&1 || { cat "$T/setup.log"; exit 1; }
# shellcheck disable=SC1091
. "$T/keys"
export AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" AWS_DEFAULT_REGION=us-east-1 \
  AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3

moto_cpu() { awk '{print $14 + $15}' "/proc/$MP/stat"; }
# run NAME CMD...: wall seconds and peak RSS (KB) into $T/NAME.time, moto ticks into $T/NAME.moto
run() {
  local name=$1 c0 c1 st
  shift
  c0=$(moto_cpu)
  /usr/bin/time -f '%e %M %U %S' -o "$T/$name.time" "$@" >"$T/$name.out" 2>"$T/$name.err"
  st=$?
  if [ "$st" -ne 0 ]; then echo "bench/s3.sh: $name failed (exit $st):"; tail -3 "$T/$name.err"; exit 1; fi
  c1=$(moto_cpu)
  echo $((c1 - c0)) > "$T/$name.moto"
}
best() { # NAME -> "wall rss user sys" of the fastest run
  sort -n "$T/$1".time.* | head -1
}
for r in $(seq 1 "$RUNS"); do
  rm -rf "$T/s3.db"* "$T/local.db"* "$T/sync"
  run bt_s3 "$BT" ingest --store "$T/s3.db" --summary json --max-concurrent-requests "$CONC" \
    --endpoint-url "$URL" s3://bench
  cp "$T/bt_s3.time" "$T/bt_s3.time.$r"
  run sync "$AWS" --endpoint-url "$URL" s3 sync s3://bench/ "$T/sync" --only-show-errors \
    --exclude '*/CloudTrail-Digest/*' --exclude 'ground-truth.json'
  cp "$T/sync.time" "$T/sync.time.$r"
  run bt_local "$BT" ingest --store "$T/local.db" --summary json "$T/sync"
  cp "$T/bt_local.time" "$T/bt_local.time.$r"
done
SYNCED=$(find "$T/sync" -type f | wc -l)
REC=$(jq .records "$T/bt_s3.out")
NEW_S3=$(jq .new "$T/bt_s3.out")
NEW_LOCAL=$(jq .new "$T/bt_local.out")
read -r W_S3 RSS_S3 U S < <(best bt_s3)
CPU_S3=$(awk -v u="$U" -v s="$S" 'BEGIN {print u + s}')
read -r W_SYNC RSS_SYNC U S < <(best sync)
CPU_SYNC=$(awk -v u="$U" -v s="$S" 'BEGIN {print u + s}')
read -r W_LOC RSS_LOC U S < <(best bt_local)
CPU_LOC=$(awk -v u="$U" -v s="$S" 'BEGIN {print u + s}')
TICK=$(getconf CLK_TCK)
MOTO_GET_MS=$(awk -v t="$(cat "$T/bt_s3.moto")" -v n="$OBJS" -v hz="$TICK" 'BEGIN {printf "%.2f", t / hz / n * 1000}')

awk -v objs="$OBJS" -v bytes="$BYTES" -v rec="$REC" -v ws3="$W_S3" -v rs3="$RSS_S3" \
    -v wsy="$W_SYNC" -v rsy="$RSS_SYNC" -v wlo="$W_LOC" -v rlo="$RSS_LOC" -v conc="$CONC" \
    -v moto="$MOTO_GET_MS" -v runs="$RUNS" -v cs3="$CPU_S3" -v csy="$CPU_SYNC" -v clo="$CPU_LOC" 'BEGIN {
  e2e = wsy + wlo
  printf "bench/s3.sh: %d log objects (%.1f MB), %d records; moto_server on loopback, SigV4 checked; best of %d\n", objs, bytes / 1e6, rec, runs
  printf "%-40s %8s %10s %10s %9s %7s\n", "", "wall s", "objects/s", "events/s", "peak RSS", "CPU s"
  printf "%-40s %8.2f %10.0f %10.0f %6.0f MB %7.1f\n", "buildtrail ingest s3:// (" conc " requests)", ws3, objs / ws3, rec / ws3, rs3 / 1024, cs3
  printf "%-40s %8.2f %10.0f %10s %6.0f MB %7.1f\n", "/usr/bin/aws s3 sync", wsy, objs / wsy, "-", rsy / 1024, csy
  printf "%-40s %8.2f %10.0f %10.0f %6.0f MB %7.1f\n", "  then buildtrail ingest (local copy)", wlo, objs / wlo, rec / wlo, rlo / 1024, clo
  printf "%-40s %8.2f %10.0f %10.0f %9s %7.1f\n", "  = aws s3 sync + ingest, end to end", e2e, objs / e2e, rec / e2e, "", csy + clo
  printf "speed-up end to end: %.2fx (target 3x); buildtrail peak RSS %.0f MB (target < 150 MB)\n", e2e / ws3, rs3 / 1024
  printf "moto_server CPU per GetObject: %s ms, so any client needs >= %.1f s for these objects here\n", moto, moto * objs / 1000
}'
[ "$SYNCED" -eq "$OBJS" ] || echo "note: aws s3 sync fetched $SYNCED objects, expected $OBJS"
[ "$NEW_S3" = "$NEW_LOCAL" ] || echo "note: stores differ: $NEW_S3 events from S3, $NEW_LOCAL from the synced copy"
