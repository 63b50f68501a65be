#!/usr/bin/env bash
# it_watch.sh - `buildtrail watch` and `buildtrail alerts` end to end, with a real HTTP
# receiver on loopback (watch/receiver.py): a bt-gen --attacks archive dropped into a
# watched directory in two steps -> every alert of the ground truth delivered to the
# webhook once, with a stable Idempotency-Key (the stored alert's key); the receiver
# down, then up again -> everything delivered after; kill -9 of watch mid-delivery, then
# a restart -> nothing lost, duplicates carry the same key; SIGTERM exits 0; SIGHUP
# with a broken rule set keeps the old one; bad input is one line and exit 2, with no
# store made. Every wait is bounded in time.
source "$(dirname "$0")/lib.sh"
need jq
need python3
BT=${BT:-build/buildtrail}
BIN=${BT_BIN_DIR:-$(dirname "$BT")}
SRC=${BT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
RECV="$SRC/tests/integration/watch/receiver.py"
CMP="$SRC/tests/integration/hunt/compare.py"

"$BIN/bt-gen" --out "$T/arch" --events 4000 --seed 11 --attacks --days 2 2>/dev/null
TRUTH="$T/arch/ground-truth.json"
NTRUTH=$(jq '.pack_alerts | length' "$TRUTH")
# the two halves: the first day, then the rest (each moved in at once)
mkdir -p "$T/stage1" "$T/stage2" "$T/in"
(cd "$T/arch" && find AWSLogs -name '*.json.gz' | sort) >"$T/files"
DAY1=$(head -1 "$T/files" | awk -F/ '{print $(NF-3)"/"$(NF-2)"/"$(NF-1)}')
grep "/$DAY1/" "$T/files" >"$T/files1"
grep -v "/$DAY1/" "$T/files" >"$T/files2"
tar -C "$T/arch" -cf - -T "$T/files1" | tar -C "$T/stage1" -xf -
tar -C "$T/arch" -cf - -T "$T/files2" | tar -C "$T/stage2" -xf -

# wait_for SECONDS CMD...: polls CMD every 0.2 s until it succeeds or time runs out
wait_for() {
  local end=$((SECONDS + $1))
  shift
  while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 0.2; done
  return 1
}
# shellcheck source=watch/receiver.sh
source "$SRC/tests/integration/watch/receiver.sh"
WPID=
start_watch() { # STORE DIR LOG-OF-STDERR [more args]
  local store=$1 dir=$2 log=$3
  shift 3
  "$BT" watch "$dir" --store "$store" --rules builtin --interval 0.3 --retry-max 0.5 \
    --notify "webhook:http://127.0.0.1:$PORT/hook?token=SECRET-TOKEN" "$@" 2>>"$log" &
  WPID=$!
}
cleanup_hooks+=('stop_receiver' '[ -n "$WPID" ] && kill -9 $WPID')
nalerts() { "$BT" alerts --store "$1" -o json | jq '.Alerts | length'; }
npending() { "$BT" alerts --store "$1" --pending -o json | jq '.Alerts | length'; }
all_delivered() { [ "$(npending "$1")" = 0 ] && [ "$(nalerts "$1")" -ge "$2" ]; }
distinct() { jq -r .key "$1" | sort -u | wc -l | tr -d ' '; }

echo "[$SECONDS s] bad input: one line, exit 2, nothing made" >&2
for bad_args in "foo://x" "sqs://queue" "$T/nope" "-" "$T/in --notify bogus" \
  "$T/in --notify webhook:ftp://x" "$T/in --notify slack:hooks.example/SECRET" "$T/in --notify sns:topic"; do
  # shellcheck disable=SC2086
  status "bad input: $bad_args" 2 "$BT" watch $bad_args --rules builtin --store "$T/bad.db"
  eq "one line: $bad_args" 1 "$(wc -l <"$T/.err" | tr -d ' ')"
done
status "no rules" 2 "$BT" watch "$T/in" --store "$T/bad.db"
status "broken rules" 2 "$BT" watch "$T/in" --rules "$SRC/tests/rules/bad" --store "$T/bad.db"
BADSLACK=$("$BT" watch "$T/in" --rules builtin --store "$T/bad.db" --notify slack:ftp://h/SECRET 2>&1)
contains "bad slack target: says why" "must start with http" "$BADSLACK"
case "$BADSLACK" in *SECRET*) bad "bad slack target: the secret is echoed" ;; *) ok ;; esac
eq "no store made by bad input" "no" "$([ -e "$T/bad.db" ] && echo yes || echo no)"

echo "[$SECONDS s] two steps into a watched directory, receiver up" >&2
start_receiver "$T/recv.log"
start_watch "$T/s.db" "$T/in" "$T/watch.err"
mv "$T/stage1" "$T/in/part1"
wait_for 60 eval '[ "$(nalerts "$T/s.db" 2>/dev/null)" -gt 0 ] && all_delivered "$T/s.db" 1' ||
  bad "first half: not delivered in time"
N1=$(nalerts "$T/s.db")
eq "first half: one POST per alert" "$N1" "$(wc -l <"$T/recv.log" | tr -d ' ')"

echo "[$SECONDS s] receiver down: the second half is stored, retried, delivered once it is back" >&2
stop_receiver
mv "$T/stage2" "$T/in/part2"
wait_for 60 eval '[ "$(npending "$T/s.db")" -gt 0 ]' || bad "second half: no pending alert"
sleep 1.5 # a few failed attempts
LASTERR=$("$BT" alerts --store "$T/s.db" --pending -o json | jq -r '[.Alerts[].Deliveries[].LastError] | map(select(. != null)) | .[0]')
contains "the failure is recorded" "webhook:http://127.0.0.1:$PORT" "$LASTERR"
start_receiver "$T/recv.log" "$PORT"
wait_for 60 all_delivered "$T/s.db" "$NTRUTH" || bad "after the receiver came back: not delivered in time"
N=$(nalerts "$T/s.db")
eq "alerts = ground truth" "$NTRUTH" "$N"
eq "one POST per alert" "$N" "$(wc -l <"$T/recv.log" | tr -d ' ')"
eq "distinct keys" "$N" "$(distinct "$T/recv.log")"
jq -c .body "$T/recv.log" >"$T/recv.ndjson"
status "delivered alerts = truth" 0 python3 "$CMP" "$TRUTH" "$T/recv.ndjson"
"$BT" alerts --store "$T/s.db" -o json | jq -r '.Alerts[].Key' | sort >"$T/keys.store"
jq -r .key "$T/recv.log" | sort >"$T/keys.recv"
status "keys = stored keys" 0 cmp "$T/keys.store" "$T/keys.recv"
eq "content type" "application/json" "$(jq -r .ctype "$T/recv.log" | sort -u)"
# the hunt alert document is what is posted
"$BT" hunt --rules builtin --store "$T/s.db" -o ndjson | jq -c -S . | sort >"$T/hunt.sorted"
jq -c -S .body "$T/recv.log" | sort >"$T/recv.sorted"
status "POST bodies = hunt's alert documents" 0 cmp "$T/hunt.sorted" "$T/recv.sorted"
if grep -q SECRET-TOKEN "$T/watch.err" || "$BT" alerts --store "$T/s.db" -o json | grep -q SECRET-TOKEN; then
  bad "the webhook's token appears in messages or in alerts"
else ok; fi

echo "[$SECONDS s] SIGHUP with a broken rule set keeps the old one; SIGTERM exits 0" >&2
kill -HUP "$WPID"
sleep 0.5
kill -TERM "$WPID"
wait "$WPID"
eq "SIGTERM: exit 0" 0 "$?"
WPID=
mkdir -p "$T/rules" && cp "$SRC"/rules/codebuild/*.yml "$T/rules/"
BUILDTRAIL_WATCH_STATUS_MS=300 "$BT" watch "$T/in" --store "$T/s.db" --rules "$T/rules" \
  --interval 0.3 --notify stdout >"$T/hup.out" 2>"$T/hup.err" &
WPID=$!
sleep 0.5
printf 'title: [broken\n' >"$T/rules/zz_broken.yml"
kill -HUP "$WPID"
wait_for 10 grep -q "rules not reloaded" "$T/hup.err" || bad "SIGHUP: no message for the broken set"
kill -0 "$WPID" 2>/dev/null && ok || bad "SIGHUP with a broken set stopped watch"
rm "$T/rules/zz_broken.yml"
kill -HUP "$WPID"
wait_for 10 grep -q "rules reloaded" "$T/hup.err" || bad "SIGHUP: the fixed set was not reloaded"
wait_for 10 grep -q "status: .* events/s" "$T/hup.err" || bad "no status line"
# the per-source part: the directory as given, its state and its lag (a number)
wait_for 10 grep -qF "; sources: $T/in ok lag " "$T/hup.err" &&
  grep "; sources: " "$T/hup.err" | tail -1 | grep -qE "; sources: .*/in ok lag [0-9]+\.[0-9]s\$" && ok ||
  bad "status line without the source's state and lag: $(grep status: "$T/hup.err" | tail -1)"
kill -INT "$WPID"
wait "$WPID"
eq "SIGINT: exit 0" 0 "$?"
WPID=
eq "restart: nothing delivered twice to stdout" 0 "$(wc -l <"$T/hup.out" | tr -d ' ')"

echo "[$SECONDS s] kill -9 mid-delivery, then restarts: nothing lost, duplicates with the same key" >&2
stop_receiver
start_receiver "$T/recv9.log" 0 0.1
mkdir -p "$T/in9"
cp -r "$T/in/part1" "$T/in/part2" "$T/in9/"
for delay in 0.7 1.1 1.6; do
  start_watch "$T/s9.db" "$T/in9" "$T/watch9.err"
  sleep "$delay"
  kill -9 "$WPID"
  wait "$WPID" 2>/dev/null
  WPID=
done
start_watch "$T/s9.db" "$T/in9" "$T/watch9.err"
wait_for 90 all_delivered "$T/s9.db" "$NTRUTH" || bad "kill -9: not delivered in time after restart"
kill -TERM "$WPID"
wait "$WPID"
WPID=
eq "kill -9: alerts = ground truth" "$NTRUTH" "$(nalerts "$T/s9.db")"
eq "kill -9: every alert delivered" "$NTRUTH" "$(distinct "$T/recv9.log")"
"$BT" alerts --store "$T/s9.db" -o json | jq -r '.Alerts[].Key' | sort >"$T/keys9.store"
jq -r .key "$T/recv9.log" | sort -u >"$T/keys9.recv"
status "kill -9: keys = stored keys" 0 cmp "$T/keys9.store" "$T/keys9.recv"
# a duplicate POST carries the same document as the first one with its key
DIFFDOCS=$(jq -r '[.key, (.body | tostring)] | @tsv' "$T/recv9.log" | sort -u | cut -f1 | uniq -d | wc -l)
eq "kill -9: duplicates carry the same key and document" 0 "$DIFFDOCS"
echo "kill -9: $(wc -l <"$T/recv9.log" | tr -d ' ') POSTs for $NTRUTH alerts"

echo "[$SECONDS s] lookup: source against buildtrail serve (LookupEvents-compatible)" >&2
(
  export HOME="$T/home" AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=AKIDWATCH \
    AWS_SECRET_ACCESS_KEY=not-checked AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
  unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_CONFIG_FILE \
    AWS_SHARED_CREDENTIALS_FILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_CLOUDTRAIL
  mkdir -p "$HOME"
  "$BIN/bt-gen" --out "$T/larch" --events 1500 --seed 5 --attacks --days 1 --accounts 1 \
    --regions us-east-1 2>/dev/null
  "$BT" ingest --store "$T/lsrc.db" -q "$T/larch" >/dev/null
  "$BT" serve --store "$T/lsrc.db" --port 0 2>"$T/serve.err" &
  SPID=$!
  wait_for 10 grep -q '^listening on http' "$T/serve.err" || echo "FAIL: serve did not start" >&2
  SERVE=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$T/serve.err")
  "$BT" hunt --rules builtin --store "$T/lsrc.db" -o ndjson | jq -c -S . | sort >"$T/lexp"
  timeout 120 "$BT" watch lookup:us-east-1 --store "$T/l.db" --rules builtin --endpoint-url "$SERVE" \
    --rate 0 --start-time 2026-10-01T00:00:00Z --interval 0.3 --cycles 3 >"$T/lgot.ndjson" 2>"$T/l.err"
  echo "$?" >"$T/l.rc"
  jq -c -S . "$T/lgot.ndjson" | sort >"$T/lgot"
  # a restart asks only what is new (nothing): no alert again
  timeout 60 "$BT" watch lookup:us-east-1 --store "$T/l.db" --rules builtin --endpoint-url "$SERVE" \
    --rate 0 --interval 0.3 --cycles 1 >"$T/lgot2.ndjson" 2>>"$T/l.err"
  kill "$SPID"
)
eq "lookup: exit 0" 0 "$(cat "$T/l.rc")"
[ -s "$T/lexp" ] && ok || bad "lookup: the served store has no alert"
if cmp -s "$T/lexp" "$T/lgot"; then ok; else bad "lookup: $(wc -l <"$T/lgot") alerts from watch, $(wc -l <"$T/lexp") from hunt; $(head -c 300 "$T/l.err")"; fi
eq "lookup: restart alerts nothing again" 0 "$(wc -l <"$T/lgot2.ndjson" | tr -d ' ')"

echo "[$SECONDS s] alerts --ack" >&2
ID=$("$BT" alerts --store "$T/s.db" -o json | jq '.Alerts[0].Id')
status "ack" 0 "$BT" alerts --store "$T/s.db" --ack "$ID"
eq "unacked after ack" "$((N - 1))" "$("$BT" alerts --store "$T/s.db" --unacked -o json | jq '.Alerts | length')"
status "ack unknown" 5 "$BT" alerts --store "$T/s.db" --ack 999999
finish
