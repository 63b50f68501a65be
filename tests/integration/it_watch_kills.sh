#!/usr/bin/env bash
# it_watch_kills.sh - the long fault tests of issue #12 for `buildtrail watch` over a
# watched directory, with a real HTTP receiver on loopback (watch/receiver.py):
#   1. kill -9 of watch at 10 random moments: a `bt-gen --attacks` archive (30,000 events,
#      62 alerts; one run lasts over 10 s: ingest and evaluation about 2 s, then delivery to
#      a receiver that takes 150 ms a POST) dropped into the directory; watch killed after
#      0.3-2.5 s (drawn from a seed printed in the log, BT_KILL_SEED to replay: each restart
#      resumes, so the kills fall in turn on ingest, evaluation and delivery), ten times,
#      then run to the end -> events = `ingest` of the same files into a fresh store
#      (none lost, none twice), alerts = the ground truth, every alert delivered,
#      duplicates only with the same Idempotency-Key and document;
#   2. the receiver down for BT_RECEIVER_DOWN_S seconds (default 120; CI's sanitizer pass
#      sets 30) while new files keep raising alerts, --retry-max 3 -> once it is back
#      everything is delivered, exactly once per key, = the ground truth.
# Waits poll once a second (the suite sleeps most of its time: low CPU beside the rest).
source "$(dirname "$0")/lib.sh"
need jq
need python3
BT=${BT:-build/buildtrail}
BIN=${BT_BIN_DIR:-$(dirname "$BT")}
SRC=${BT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
RECV="$SRC/tests/integration/watch/receiver.py"
CMP="$SRC/tests/integration/hunt/compare.py"
DOWN=${BT_RECEIVER_DOWN_S:-120}

wait_for() { # SECONDS CMD...: polls CMD every second until it succeeds or time runs out
  local end=$((SECONDS + $1))
  shift
  while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 1; done
  return 1
}
# shellcheck source=watch/receiver.sh
source "$SRC/tests/integration/watch/receiver.sh"
WPID=
start_watch() { # STORE DIR LOG-OF-STDERR [more args]
  local store=$1 dir=$2 log=$3
  shift 3
  "$BT" watch "$dir" --store "$store" --rules builtin --interval 0.5 \
    --notify "webhook:http://127.0.0.1:$PORT/hook" "$@" 2>>"$log" &
  WPID=$!
}
cleanup_hooks+=('stop_receiver' '[ -n "$WPID" ] && kill -9 $WPID')
nevents() { "$BT" info --store "$1" -o json 2>/dev/null | jq .Events; }
nalerts() { "$BT" alerts --store "$1" -o json 2>/dev/null | jq '.Alerts | length'; }
npending() { "$BT" alerts --store "$1" --pending -o json | jq '.Alerts | length'; }
all_delivered() { [ "$(npending "$1")" = 0 ] && [ "$(nalerts "$1")" -ge "$2" ]; }
distinct() { jq -r .key "$1" | sort -u | wc -l | tr -d ' '; }
# delivered alerts = truth, keys = stored keys, a key always with the same document
check_delivery() { # WHAT STORE RECEIVER-LOG TRUTH N
  local what=$1 store=$2 log=$3 truth=$4 n=$5
  eq "$what: alerts = ground truth" "$n" "$(nalerts "$store")"
  eq "$what: every alert delivered" "$n" "$(distinct "$log")"
  eq "$what: duplicates carry the same key and document" "$n" \
    "$(jq -c -S '[.key, .body]' "$log" | sort -u | wc -l | tr -d ' ')"
  jq -c -s 'unique_by(.key) | .[].body' "$log" >"$T/recv.ndjson"
  status "$what: delivered alerts = truth" 0 python3 "$CMP" "$truth" "$T/recv.ndjson"
  "$BT" alerts --store "$store" -o json | jq -r '.Alerts[].Key' | sort >"$T/keys.store"
  jq -r .key "$log" | sort -u >"$T/keys.recv"
  status "$what: keys = stored keys" 0 cmp "$T/keys.store" "$T/keys.recv"
}

# ---- 1. kill -9 at 10 random moments ------------------------------------------------
"$BIN/bt-gen" --out "$T/arch" --events 30000 --seed 23 --attacks --days 6 2>/dev/null ||
  { echo "bt-gen failed"; exit 1; }
TRUTH="$T/arch/ground-truth.json"
NTRUTH=$(jq '.pack_alerts | length' "$TRUTH")
SEED=${BT_KILL_SEED:-$(($(date +%s) % 100000))}
read -r -a DELAYS < <(python3 -c 'import random, sys
r = random.Random(int(sys.argv[1]))
print(" ".join("%.2f" % r.uniform(0.3, 2.5) for _ in range(10)))' "$SEED")
echo "[$SECONDS s] kill -9 at 10 random moments: seed $SEED (BT_KILL_SEED=$SEED replays), delays ${DELAYS[*]} s" >&2
start_receiver "$T/recv1.log" 0 0.15
mkdir -p "$T/in1"
cp -r "$T/arch/AWSLogs" "$T/in1/"
k=0
for delay in "${DELAYS[@]}"; do
  k=$((k + 1))
  start_watch "$T/s1.db" "$T/in1" "$T/watch1.err"
  sleep "$delay"
  kill -9 "$WPID"
  wait "$WPID" 2>/dev/null
  WPID=
  # where it fell: what the store and the receiver held at the kill
  echo "  kill $k after $delay s: $(nevents "$T/s1.db") events, $(nalerts "$T/s1.db") alerts," \
    "$(cat "$T/recv1.log" 2>/dev/null | wc -l | tr -d ' ') POSTs so far" >&2
done
start_watch "$T/s1.db" "$T/in1" "$T/watch1.err"
wait_for 300 all_delivered "$T/s1.db" "$NTRUTH" || bad "kill -9: not delivered in time after the last restart"
kill -TERM "$WPID"
wait "$WPID"
eq "kill -9: exit 0 after SIGTERM" 0 "$?"
WPID=
"$BT" ingest --store "$T/ref1.db" -q "$T/in1" >/dev/null
eq "kill -9: no event lost or stored twice (= ingest of the same files)" \
  "$(nevents "$T/ref1.db")" "$(nevents "$T/s1.db")"
check_delivery "kill -9" "$T/s1.db" "$T/recv1.log" "$TRUTH" "$NTRUTH"
echo "kill -9: $(wc -l <"$T/recv1.log" | tr -d ' ') POSTs for $NTRUTH alerts" >&2
stop_receiver

# ---- 2. the receiver down for $DOWN s while alerts keep being raised -------------------
echo "[$SECONDS s] the receiver down for $DOWN s while new files raise alerts" >&2
"$BIN/bt-gen" --out "$T/arch2" --events 6000 --seed 29 --attacks --days 4 2>/dev/null ||
  { echo "bt-gen failed"; exit 1; }
TRUTH2="$T/arch2/ground-truth.json"
NTRUTH2=$(jq '.pack_alerts | length' "$TRUTH2")
mapfile -t DAYS < <(cd "$T/arch2" && find AWSLogs -mindepth 6 -maxdepth 6 -type d -path '*/CloudTrail/*' | sed 's|.*/CloudTrail/[^/]*/||' | sort -u)
[ "${#DAYS[@]}" -ge 3 ] || bad "receiver down: the archive has ${#DAYS[@]} days"
drop_day() { # N: the files of the archive's Nth day into the watched directory
  (cd "$T/arch2" && find AWSLogs -path "*/${DAYS[$1]}/*" -name '*.json.gz') >"$T/day.files"
  mkdir -p "$T/stage.$1"
  tar -C "$T/arch2" -cf - -T "$T/day.files" | tar -C "$T/stage.$1" -xf -
  mv "$T/stage.$1" "$T/in2/day$1"
}
mkdir -p "$T/in2"
start_receiver "$T/recv2.log"
P2=$PORT
start_watch "$T/s2.db" "$T/in2" "$T/watch2.err" --retry-max 3
drop_day 0
wait_for 60 eval '[ "$(nalerts "$T/s2.db")" -gt 0 ] && all_delivered "$T/s2.db" 1' ||
  bad "receiver down: the first day not delivered"
stop_receiver
T0=$SECONDS
# the other days while it is down, spread over the first half of the outage
n=${#DAYS[@]}
for ((d = 1; d < n; d++)); do
  drop_day "$d"
  sleep $((DOWN / 2 / (n - 1)))
done
wait_for 60 eval '[ "$(npending "$T/s2.db")" -gt 0 ]' || bad "receiver down: no pending alert"
sleep $((DOWN - (SECONDS - T0) > 0 ? DOWN - (SECONDS - T0) : 0))
NP=$(npending "$T/s2.db")
[ "$NP" -gt 0 ] && ok || bad "receiver down: nothing pending after $DOWN s"
grep -q "delivery failed (retried with backoff)" "$T/watch2.err" && ok || bad "receiver down: no failure said"
echo "  receiver down $((SECONDS - T0)) s: $NP alerts pending, $(nalerts "$T/s2.db") raised" >&2
start_receiver "$T/recv2.log" "$P2"
wait_for 60 all_delivered "$T/s2.db" "$NTRUTH2" || bad "receiver down: not delivered in time after it came back"
eq "receiver down: each alert POSTed exactly once" "$NTRUTH2" "$(wc -l <"$T/recv2.log" | tr -d ' ')"
check_delivery "receiver down" "$T/s2.db" "$T/recv2.log" "$TRUTH2" "$NTRUTH2"
grep -q "delivering again" "$T/watch2.err" && ok || bad "receiver down: the recovery not said"
kill -TERM "$WPID"
wait "$WPID"
eq "receiver down: exit 0 after SIGTERM" 0 "$?"
WPID=
finish
