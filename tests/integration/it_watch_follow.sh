#!/usr/bin/env bash
# it_watch_follow.sh - `buildtrail build <id> --follow` on a store that a second process
# fills while it runs: a bt-gen archive's CloudTrail logs ingested first (the build is
# known, its outcome not), then `build --follow` started, then the build's EventBridge
# events (its phases and final state) ingested by another process -> the follow prints
# the new entries once each, ends with the outcome of the ground truth and exits 0; a
# follow of a build with no outcome stopped with SIGINT exits 0; --follow with --output
# is a usage error. Every wait is bounded in time.
source "$(dirname "$0")/lib.sh"
need jq
BT=${BT:-build/buildtrail}
BIN=${BT_BIN_DIR:-$(dirname "$BT")}

wait_for() { # SECONDS CMD...
  local end=$((SECONDS + $1))
  shift
  while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 0.2; done
  return 1
}
FPID=
cleanup_hooks+=('[ -n "$FPID" ] && kill -9 $FPID')

"$BIN/bt-gen" --out "$T/arch" --events 1500 --seed 21 --eventbridge --days 1 --accounts 1 \
  --regions us-east-1 2>/dev/null || { echo "bt-gen failed"; exit 1; }
TRUTH="$T/arch/ground-truth.json"
ID=$(jq -r '[.builds[] | select(.outcome_source == "eventbridge")][0].build_id' "$TRUTH")
OUTCOME=$(jq -r --arg id "$ID" '.builds[] | select(.build_id == $id) | .outcome' "$TRUTH")
OPEN=$(jq -r '[.builds[] | select(.outcome == null)][0].build_id' "$TRUTH")
[ -n "$ID" ] && [ "$ID" != null ] || { echo "no build with an EventBridge outcome"; exit 1; }
"$BT" ingest --store "$T/s.db" -q "$T/arch/AWSLogs" >/dev/null
"$BT" build "$ID" --store "$T/s.db" -o json >"$T/before.json"
eq "before: the build is known, no outcome" "null" "$(jq -r .Build.Status "$T/before.json")"

echo "[$SECONDS s] follow, then the build's EventBridge events from another process" >&2
"$BT" build "$ID" --store "$T/s.db" --follow >"$T/follow.out" 2>"$T/follow.err" &
FPID=$!
wait_for 20 test -s "$T/follow.out" || bad "follow: nothing printed from the store"
N0=$(wc -l <"$T/follow.out")
sleep 1.5
kill -0 "$FPID" 2>/dev/null && ok || bad "follow: ended before the build did"
eq "follow: nothing printed twice while nothing changes" "$N0" "$(wc -l <"$T/follow.out")"
"$BT" ingest --store "$T/s.db" -q "$T/arch/eventbridge" >/dev/null
for _ in $(seq 1 150); do kill -0 "$FPID" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$FPID" 2>/dev/null; then bad "follow: still running after the build ended"; kill -9 "$FPID"; fi
wait "$FPID"
eq "follow: exit 0 when the build ended" 0 "$?"
FPID=
contains "follow: the outcome" "Build $ID ended: $OUTCOME" "$(tail -1 "$T/follow.out")"
contains "follow: the state entries that came later" "[state]" "$(tail -n +$((N0 + 1)) "$T/follow.out")"
eq "follow: no entry printed twice" "$(sort "$T/follow.out" | uniq -d | wc -l | tr -d ' ')" 0
# the entries printed = the timeline's entries, as `build` shows them
"$BT" build "$ID" --store "$T/s.db" --no-pager | sed -n '/^Timeline/,$p' | tail -n +2 >"$T/timeline"
head -n -1 "$T/follow.out" | sort >"$T/f.sorted"
sort "$T/timeline" >"$T/t.sorted"
status "follow: the entries = the timeline's" 0 cmp "$T/f.sorted" "$T/t.sorted"

echo "[$SECONDS s] Ctrl-C: exit 0; --follow with --output: usage" >&2
if [ -n "$OPEN" ] && [ "$OPEN" != null ]; then
  "$BT" build "$OPEN" --store "$T/s.db" --follow >"$T/open.out" 2>&1 &
  FPID=$!
  sleep 1.5
  kill -INT "$FPID"
  wait "$FPID"
  eq "follow: SIGINT exits 0" 0 "$?"
  FPID=
fi
status "follow with --output" 2 "$BT" build "$ID" --store "$T/s.db" --follow -o json
status "follow of an unknown build: as build (not found)" 5 "$BT" build "nope:00000000-0000-4000-8000-000000000000" --store "$T/s.db" --follow
finish
