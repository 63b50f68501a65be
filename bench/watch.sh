#!/usr/bin/env bash
# watch.sh - the issue #12 benchmark: `buildtrail watch sqs://...` against moto_server on
# loopback (SigV4 checked, tests/integration/s3/moto_server.py), with the CodeBuild pack
# plus the 57 SigmaHQ CloudTrail rules, alerts to a real webhook receiver on loopback.
#   1. latency: >= 50 EventBridge messages ("AWS API Call via CloudTrail", each a copy of
#      a record that raises an alert), sent one at a time; from SendMessage returning (the
#      message visible) to the alert's POST reaching the receiver: p50 and p99 next to
#      the targets (p50 < 1 s, p99 < 2 s);
#   2. throughput: a trail's log-delivery notifications for a bt-gen archive's objects
#      (queued before watch starts): events stored per second until every event is in
#      and the queue is empty (target 5,000 events/s on 2 cores);
#   3. soak: notifications for the same objects sent again and again for BT_SOAK_SECONDS
#      (default 600; every object read, parsed and its events dropped as duplicates):
#      watch's RSS sampled every 5 s, first / last / peak (target: flat, < 100 MB).
# Not a test: it prints figures.
#   BT_BENCH_EVENTS=200000 BT_LATENCY_MESSAGES=50 BT_SOAK_SECONDS=600 bench/watch.sh
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD_DIR:-build-bench}
EVENTS=${BT_BENCH_EVENTS:-200000}
NLAT=${BT_LATENCY_MESSAGES:-50}
SOAK=${BT_SOAK_SECONDS:-600}
W=${BT_BENCH_DIR:-/tmp/bt-bench}
SIGMA=${BT_SIGMA_DIR:-../shared/conformance/sigma/rules-cloudtrail}
HERE=tests/integration
command -v moto_server >/dev/null || { echo "moto_server not on PATH"; exit 1; }
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DBT_BUILD_TESTS=OFF >/dev/null
cmake --build "$B" -j"$(nproc)" >/dev/null
BT="$B/buildtrail"
A="$W/watch-$EVENTS"
mkdir -p "$W"
if [ ! -f "$A/ground-truth.json" ]; then
  rm -rf "$A"
  echo "generating $EVENTS events (with --attacks) in $A ..."
  "$B/bt-gen" --out "$A" --events "$EVENTS" --attacks --seed 12 --days 1 --accounts 1 \
    --regions us-east-1 >/dev/null 2>&1
fi
RULES=(--rules builtin)
if [ -d "$SIGMA" ]; then
  RULES+=(--rules "$SIGMA")
  echo "rules: the CodeBuild pack + $(ls "$SIGMA"/*.yml | wc -l) SigmaHQ rules"
else
  echo "rules: the CodeBuild pack only ($SIGMA is absent)"
fi
T=$(mktemp -d /tmp/bt-watch-bench.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { local end=$((SECONDS + $1)); shift; while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 0.2; done; return 1; }

(cd "$A" && find AWSLogs -path '*/CloudTrail/*' -name '*.json.gz' | sort) >"$T/keys"
echo "archive: $(wc -l <"$T/keys") log files, $(du -sh "$A" | cut -f1)"
MPORT=$(free_port)
URL="http://127.0.0.1:$MPORT"
INITIAL_NO_AUTH_ACTION_COUNT=3 python3 "$HERE/s3/moto_server.py" -H 127.0.0.1 -p "$MPORT" >"$T/moto.log" 2>&1 &
PIDS+=($!)
wait_for 30 curl -s --max-time 1 -o /dev/null "$URL/moto-api/"
echo "uploading to moto ..."
python3 "$HERE/s3/setup.py" --url "$URL" --keys "$T/cred" --bucket trail --upload "trail::$A" >/dev/null 2>&1
# shellcheck disable=SC1091
. "$T/cred"
export HOME="$T/home" AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" \
  AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_ENDPOINT_URL
mkdir -p "$HOME"
peer() { python3 "$HERE/watch/sqs_peer.py" --url "$URL" --keys "$T/cred" "$@"; }
python3 "$HERE/watch/receiver.py" "$T/recv.log" "$T/port" &
PIDS+=($!)
wait_for 10 test -s "$T/port"
HOOK="webhook:http://127.0.0.1:$(cat "$T/port")/hook"
WPID=
start_watch() { # QUEUE_URL STORE
  "$BT" watch "sqs://$1" --store "$2" "${RULES[@]}" --notify "$HOOK" --endpoint-url "$URL" \
    --interval 60 2>>"$T/watch.err" &
  WPID=$!
  PIDS+=($WPID)
}
stop_watch() { kill -TERM "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null || true; WPID=; }
nevents() { "$BT" info --store "$1" -o json 2>/dev/null | jq .Events; }
# every stored event evaluated: watch's cursor (the store's sequence) at the last event
# (the highest id given: of `evrows`, or the end of a block's directory; schema 13)
evaluated() { [ "$(sqlite3 "file:$1?mode=ro" "SELECT (SELECT CAST(value AS INTEGER) FROM cursors WHERE name='watch|seq') = max((SELECT coalesce(max(id), 0) FROM evrows), (SELECT coalesce(max(hi), 0) FROM bdir))" 2>/dev/null)" = 1 ]; }
nalerts() { sqlite3 "file:$1?mode=ro" "SELECT count(*) FROM alerts" 2>/dev/null || echo 0; }
ndelivered() { sqlite3 "file:$1?mode=ro" "SELECT count(*) FROM outbox WHERE delivered_ms IS NOT NULL" 2>/dev/null || echo 0; }

# ---- 1. latency ------------------------------------------------------------------------
# a record that raises an alert of the pack by itself: an UpdateProject that changes what
# builds run (found with hunt over the archive)
"$BT" hunt --rules builtin --from "$A/AWSLogs" -o ndjson 2>/dev/null >"$T/hunt.ndjson"
jq -c -n 'first(inputs | select(.event != null and .event.eventName == "UpdateProject") | .event)' \
  "$T/hunt.ndjson" >"$T/record.json"
[ -s "$T/record.json" ] || { echo "no single-event alert in the archive"; exit 1; }
QL=$(peer queue latency-q)
start_watch "$QL" "$T/lat.db"
sleep 2
echo "latency: $NLAT messages, one every 0.5 s ..."
peer latency "$QL" "$T/record.json" "$NLAT" 0.5 "$T/sent"
wait_for 60 eval '[ "$(wc -l <"$T/recv.log" 2>/dev/null || echo 0)" -ge "$NLAT" ]' || echo "(not every alert arrived)"
stop_watch
python3 - "$T/sent" "$T/recv.log" <<'EOF'
import json, sys
sent = dict((l.split()[0], float(l.split()[1])) for l in open(sys.argv[1]))
lat = sorted(json.loads(l)["t"] - sent[json.loads(l)["body"]["event_id"]]
             for l in open(sys.argv[2]) if json.loads(l)["body"].get("event_id") in sent)
if not lat:
    print("latency: no alert matched"); sys.exit(0)
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print("latency (message visible -> webhook POST), %d alerts of %d messages: p50 %.3f s "
      "(target < 1 s), p99 %.3f s (target < 2 s), max %.3f s"
      % (len(lat), len(sent), pick(0.50), pick(0.99), lat[-1]))
EOF

# ---- 2. throughput -----------------------------------------------------------------------
QT=$(peer queue throughput-q)
echo "throughput: queueing notifications for $(wc -l <"$T/keys") objects ..."
# shellcheck disable=SC2046
peer notify "$QT" trail $(cat "$T/keys")
"$BT" ingest -q --store "$T/ref.db" "$A/AWSLogs" >/dev/null
NREF=$(nevents "$T/ref.db")
t0=$(date +%s%N)
start_watch "$QT" "$T/thr.db"
wait_for 1800 eval '[ "$(nevents "$T/thr.db")" = "$NREF" ] && [ "$(peer depth "$QT")" = "0 0" ] && evaluated "$T/thr.db"' ||
  echo "(not done in 30 minutes: $(nevents "$T/thr.db") of $NREF events)"
t1=$(date +%s%N)
NAL=$(nalerts "$T/thr.db")
awk -v n="$NREF" -v ns=$((t1 - t0)) -v a="$NAL" 'BEGIN { printf "throughput: %d events in %.1f s: %.0f events/s stored and evaluated from S3 notifications (target 5,000 events/s); %d alerts raised\n", n, ns / 1e9, n / (ns / 1e9), a }'
# the peer: boto3 alone GETting the same objects from the same moto_server (16 at a time,
# as watch's scan): what moto's Python (SigV4 checked per request) costs without watch
PEER_S=$(peer getall trail 16 $(cat "$T/keys"))
awk -v n="$NREF" -v s="$PEER_S" 'BEGIN { printf "  (peer: boto3 GETs of the same %s objects from the same moto_server, 16 threads, no parsing: %.1f s = %.0f events/s at most)\n", "'"$(wc -l <"$T/keys")"'", s, n / s }'
echo "  (the same events with ingest from local files, for scale: $("$BT" ingest --store "$T/ref2.db" "$A/AWSLogs" 2>&1 | sed -n 's/.* \([0-9]* records\/s\).*/\1/p'))"

# ---- 3. soak -----------------------------------------------------------------------------
echo "soak: $SOAK s of notifications for the same objects again (every object read again) ..."
peer soak "$QT" trail "$SOAK" $(cat "$T/keys") >"$T/soak.sent" &
SPID=$!
PIDS+=($SPID)
: >"$T/rss"
end=$((SECONDS + SOAK))
while [ $SECONDS -lt $end ]; do
  awk '/^VmRSS/ {print $2}' "/proc/$WPID/status" >>"$T/rss" 2>/dev/null || break
  sleep 5
done
wait "$SPID" 2>/dev/null || true
ND=$(ndelivered "$T/thr.db")
# what the soak made watch read: the notifications sent less those still queued at its end
read -r SENT SENTOBJ <"$T/soak.sent" || true
LEFT=$(peer depth "$QT" | awk '{print $1 + $2}')
awk -v s="${SENT:-0}" -v o="${SENTOBJ:-0}" -v l="$LEFT" -v n="$NREF" -v k="$(wc -l <"$T/keys")" -v t="$SOAK" 'BEGIN {
  done = s - l; objs = (s > 0 ? done * o / s : 0); ev = objs * n / k
  printf "soak: %d notifications sent, %d still queued at the end: %.0f objects read again = %.0f events/s sustained over %d s (parsed, packed, found duplicate)\n", s, l, objs, ev / t, t }'
HWM=$(awk '/^VmHWM/ {print $2}' "/proc/$WPID/status" 2>/dev/null || echo 0)
MSGS=$(grep -c . "$T/rss" || true)
stop_watch
awk -v hwm="$HWM" -v n="$MSGS" 'NR == 1 {f = $1} {l = $1; if ($1 > m) m = $1} END {
  printf "soak: RSS first %.1f MB, last %.1f MB, peak sampled %.1f MB, peak (VmHWM) %.1f MB over %d samples (target: flat, < 100 MB)\n",
    f / 1024, l / 1024, m / 1024, hwm / 1024, n }' "$T/rss"
echo "poisoned messages: $(grep -c "moved aside" "$T/watch.err" || true)"
# deliveries of the throughput run's alerts went on during the soak (in the background:
# ingest never waits for them); the peer: the same receiver taking the same documents
# from curl, 8 at a time, as watch sends them
echo "deliveries: $ND of $NAL alerts delivered by the end of the soak"
python3 - "$T/recv.log" <<'PY'
import json, sys
ts = sorted(json.loads(l)["t"] for l in open(sys.argv[1]))
best, j = 0, 0
for i in range(len(ts)):  # the busiest 10 s
    while ts[i] - ts[j] > 10:
        j += 1
    best = max(best, i - j + 1)
print("  watch's webhook deliveries: %.0f POSTs/s over the busiest 10 s" % (best / 10.0))
PY
sqlite3 "file:$T/thr.db?mode=ro" "SELECT doc FROM alerts LIMIT 2000" >"$T/docs"
python3 "$HERE/watch/receiver.py" "$T/peer.log" "$T/pport" &
PIDS+=($!)
wait_for 10 test -s "$T/pport"
split -l 1 -a 4 "$T/docs" "$T/doc."
: >"$T/curlcfg"
for f in "$T"/doc.*; do # one request each: "next" between them (options would add up)
  [ -s "$T/curlcfg" ] && echo next >>"$T/curlcfg"
  printf 'url = "http://127.0.0.1:%s/hook"\nheader = "Content-Type: application/json"\ndata-binary = "@%s"\noutput = "/dev/null"\n' "$(cat "$T/pport")" "$f" >>"$T/curlcfg"
done
p0=$(date +%s%N)
curl -s --parallel --parallel-max 8 --no-progress-meter -K "$T/curlcfg"
p1=$(date +%s%N)
awk -v n="$(wc -l <"$T/peer.log")" -v ns=$((p1 - p0)) 'BEGIN { printf "  (peer: curl --parallel-max 8 POSTing %d of the same documents to the same receiver: %.0f POSTs/s)\n", n, n / (ns / 1e9) }'
