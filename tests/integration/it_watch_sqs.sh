#!/usr/bin/env bash
# it_watch_sqs.sh - `buildtrail watch sqs://...` against the machine's moto_server with
# SigV4 checking on (tests/integration/s3/moto_server.py; IAM key made by s3/setup.py),
# holding a bt-gen archive in a bucket, a queue, and an SNS topic subscribed to the queue.
# A trail's log-delivery notifications are sent raw (boto3), as S3 event notifications,
# and through the topic (the SNS envelope); watch reads the objects they name and alerts to a real HTTP receiver on
# loopback (watch/receiver.py). Checks: every event stored exactly once (= an ingest of
# the same objects from disk), the queue empty at the end (messages deleted after
# commit), alerts = hunt's over the same events, each POSTed; an EventBridge "CodeBuild
# Build State Change" message stored; poisoned messages (not JSON, an unknown shape, an
# object that does not exist; sent with the real AWS CLI v2) moved aside to the
# dead-letter file with one warning each while later messages still flow; the alerts also
# to a Slack receiver ({"text"}: rule, build, principal, what happened, no link) and an SNS
# topic (a queue subscribed to it receives the alert documents); redelivery:
# watch killed with -9 after a batch's commit and before its deletion, the message
# comes back after its visibility timeout and brings no duplicate event or alert; a
# queue that does not exist is one line and exit 2. Every wait is bounded in time.
source "$(dirname "$0")/lib.sh"
need jq
command -v moto_server >/dev/null 2>&1 || { echo "SKIP: moto_server not on PATH"; exit 77; }
python3 -c 'import boto3, moto' 2>/dev/null || { echo "SKIP: python3 lacks boto3 or moto"; exit 77; }
BT=${BT:-build/buildtrail}
BIN=${BT_BIN_DIR:-$(dirname "$BT")}
SRC=${BT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
RECV="$SRC/tests/integration/watch/receiver.py"
AWS=/usr/bin/aws

# shellcheck disable=SC1091
. "$SRC/tests/integration/watch/moto.sh"

# ---- the archive, moto, the bucket, the queue and the topic ---------------------------
"$BIN/bt-gen" --out "$T/arch" --events 3000 --seed 13 --attacks --days 1 --accounts 1 \
  --regions us-east-1 --eventbridge 2>/dev/null || { echo "bt-gen failed"; exit 1; }
(cd "$T/arch" && find AWSLogs -path '*/CloudTrail/*' -name '*.json.gz' | sort) >"$T/keys.all"
NOBJ=$(wc -l <"$T/keys.all")
# four parts: raw notifications, S3 event notifications (4), SNS envelopes, and the
# redelivery case (the last 3)
head -n $(((NOBJ - 3) / 2 - 4)) "$T/keys.all" >"$T/keys.raw"
sed -n "$(((NOBJ - 3) / 2 - 3)),$(((NOBJ - 3) / 2))p" "$T/keys.all" >"$T/keys.s3ev"
sed -n "$(((NOBJ - 3) / 2 + 1)),$((NOBJ - 3))p" "$T/keys.all" >"$T/keys.sns"
tail -n 3 "$T/keys.all" >"$T/keys.redeliver"

start_moto "$T/arch" 300
QURL=$(peer queue trail-q)
QARN=arn:aws:sqs:us-east-1:123456789012:trail-q
TOPIC=$(peer topic trail-t "$QURL")
[ -n "$QURL" ] && [ -n "$TOPIC" ] || { echo "queue or topic not made"; exit 1; }

# the reference: the same objects ingested from disk
(cd "$T/arch" && "$BT" ingest --store "$T/ref.db" -q $(cat "$T/keys.raw" "$T/keys.s3ev" "$T/keys.sns")) >/dev/null
(cd "$T/arch" && "$BT" ingest --store "$T/refall.db" -q $(cat "$T/keys.all")) >/dev/null
nevents() { "$BT" info --store "$1" -o json | jq .Events; }
NREF=$(nevents "$T/ref.db")
NALL=$(nevents "$T/refall.db")
depth() { peer depth "$QURL"; } # "VISIBLE INFLIGHT"
empty() { [ "$(depth)" = "0 0" ]; }
nalerts() { "$BT" alerts --store "$1" -o json | jq '.Alerts | length'; }

echo "[$SECONDS s] bad input: a queue that does not exist, a queue location that is not one" >&2
status "no such queue" 2 "$BT" watch "sqs://$URL/123456789012/nope" --store "$T/bad.db" --rules builtin \
  --endpoint-url "$URL"
eq "no such queue: one line" 1 "$(wc -l <"$T/.err" | tr -d ' ')"
contains "no such queue: says so" "the queue does not exist" "$(cat "$T/.err")"
status "not a queue ARN" 2 "$BT" watch "arn:aws:sqs:us-east-1:12:x" --store "$T/bad.db" --rules builtin
eq "no store made by bad input" "no" "$([ -e "$T/bad.db" ] && echo yes || echo no)"

# ---- notifications raw and in the SNS envelope -----------------------------------------
echo "[$SECONDS s] $NOBJ objects; notifications raw, from S3 events and through SNS" >&2
rm -f "$T/port"
python3 "$RECV" "$T/recv.log" "$T/port" &
PIDS+=($!)
wait_for 10 test -s "$T/port" || bad "receiver did not start"
HOOK="webhook:http://127.0.0.1:$(cat "$T/port")/hook"
python3 "$RECV" "$T/slack.log" "$T/sport" &
PIDS+=($!)
wait_for 10 test -s "$T/sport" || bad "slack receiver did not start"
SLACK="slack:http://127.0.0.1:$(cat "$T/sport")/services/T0/B0/SECRET-SLACK"
AQURL=$(peer queue alerts-q)
ATOPIC=$(peer topic alerts-t "$AQURL")
start_watch() { # LOG [more args]
  local log=$1
  shift
  "$BT" watch "sqs://$QURL" --store "$T/s.db" --rules builtin --interval 5 --retry-max 0.5 \
    --endpoint-url "$URL" --notify "$HOOK" --notify "$SLACK" --notify "sns:$ATOPIC" \
    --dead-letter "$T/dead.ndjson" "$@" 2>>"$log" &
  WPID=$!
  PIDS+=($WPID)
}
start_watch "$T/w1.err"
# shellcheck disable=SC2046
peer notify "$QURL" trail $(cat "$T/keys.raw")
# shellcheck disable=SC2046
peer s3event "$QURL" trail $(cat "$T/keys.s3ev")
# shellcheck disable=SC2046
peer publish "$TOPIC" trail $(cat "$T/keys.sns")
wait_for 120 eval '[ "$(nevents "$T/s.db" 2>/dev/null)" = "$NREF" ] && empty' ||
  bad "notifications: not stored in time ($(nevents "$T/s.db") of $NREF events; queue $(depth))"
eq "every event stored once (= ingest of the same objects)" "$NREF" "$(nevents "$T/s.db")"
"$BT" hunt --rules builtin --store "$T/ref.db" -o ndjson | jq -c -S . | sort >"$T/hunt.ref"
NH=$(wc -l <"$T/hunt.ref" | tr -d ' ')
[ "$NH" -gt 0 ] && ok || bad "the reference raises no alert"
wait_for 60 eval '[ "$(jq -r .key "$T/recv.log" 2>/dev/null | sort -u | wc -l)" -ge "$NH" ]' ||
  bad "alerts: not delivered in time"
eq "alerts stored = hunt's" "$NH" "$(nalerts "$T/s.db")"
jq -c -S .body "$T/recv.log" | sort -u >"$T/recv.sorted"
status "delivered alerts = hunt's documents" 0 cmp "$T/hunt.ref" "$T/recv.sorted"
eq "queue empty (deleted after commit)" "0 0" "$(depth)"

echo "[$SECONDS s] the same alerts to Slack (a real receiver) and SNS (a topic -> a queue)" >&2
npending() { "$BT" alerts --store "$T/s.db" --pending -o json | jq '.Alerts | length'; }
wait_for 60 eval '[ "$(npending)" = 0 ]' || bad "slack/sns: not delivered in time"
eq "slack: one message per alert" "$NH" "$(jq -r .key "$T/slack.log" | sort -u | wc -l | tr -d ' ')"
eq "slack: the body is {text} only" '["text"]' "$(jq -c '.body | keys' "$T/slack.log" | sort -u)"
jq -r .body.text "$T/slack.log" >"$T/slack.txt"
eq "slack: one line each" "$(wc -l <"$T/slack.log" | tr -d ' ')" "$(wc -l <"$T/slack.txt" | tr -d ' ')"
eq "slack: rule, build, principal, what" "$(wc -l <"$T/slack.txt" | tr -d ' ')" \
  "$(grep -c '^\[[a-z]*\] .* | build .* | principal .* | .* in [0-9]* [a-z0-9-]* at 20' "$T/slack.txt")"
jq -r .rule_title "$T/hunt.ref" | sort -u | head -1 >"$T/atitle"
contains "slack: a rule title" "$(cat "$T/atitle")" "$(cat "$T/slack.txt")"
if grep -q 'http' "$T/slack.txt"; then bad "slack: a link in the text"; else ok; fi
peer receive "$AQURL" "$NH" >"$T/sns.out"
eq "sns: one message per alert" "$NH" "$(wc -l <"$T/sns.out" | tr -d ' ')"
eq "sns: from the topic" "$ATOPIC" "$(jq -r .TopicArn "$T/sns.out" | sort -u)"
jq -c '.Message | fromjson' "$T/sns.out" | jq -c -S . | sort >"$T/sns.sorted"
status "sns: the messages are the alert documents" 0 cmp "$T/hunt.ref" "$T/sns.sorted"
if grep -q SECRET-SLACK "$T/w1.err" || "$BT" alerts --store "$T/s.db" -o json | grep -q SECRET-SLACK; then
  bad "the Slack webhook's path appears in messages or in alerts"
else ok; fi

# ---- an EventBridge CodeBuild state change ----------------------------------------------
echo "[$SECONDS s] EventBridge: CodeBuild Build State Change" >&2
grep -h '"CodeBuild Build State Change"' "$T"/arch/eventbridge/*.ndjson | head -1 >"$T/state.json"
[ -s "$T/state.json" ] || bad "bt-gen wrote no build state change"
peer sendfile "$QURL" "$T/state.json"
bstatus() { "$BT" info --store "$T/s.db" -o json | jq .BuildStatusEvents; }
wait_for 30 eval '[ "$(bstatus)" = 1 ]' || bad "EventBridge: the state change was not stored"
SID=$(jq -r .id "$T/state.json")
eq "EventBridge: stored as itself" "$SID" "$("$BT" search --store "$T/s.db" --event-id "$SID" -o json | jq -r '.Events[0].EventId')"

# ---- poisoned messages -----------------------------------------------------------------
echo "[$SECONDS s] poisoned messages (sent with the AWS CLI): moved aside, the rest flows" >&2
NB=$(nevents "$T/s.db")
awsq() { timeout 60 "$AWS" --endpoint-url "$URL" sqs send-message --queue-url "$QURL" --message-body "$1" >/dev/null; }
# S3's test event (sent when a bucket's notifications are configured): deleted, not set aside
awsq '{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-10-01T00:00:00.000Z","Bucket":"trail","RequestId":"R","HostId":"H"}'
# an S3 event notification for a trail's digest file (no events in it): deleted, not set aside
awsq '{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"trail"},"object":{"key":"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/10/01/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20261001T010000Z.json.gz"}}}]}'
awsq 'this is not JSON'
awsq '{"hello": "an unknown shape"}'
awsq '{"s3Bucket": "trail", "s3ObjectKey": ["AWSLogs/nope/CloudTrail/us-east-1/2026/10/01/missing.json.gz"]}'
grep -h '"CodeBuild Build Phase Change"' "$T"/arch/eventbridge/*.ndjson | head -1 >"$T/phase.json"
peer sendfile "$QURL" "$T/phase.json"
wait_for 30 eval '[ "$(wc -l <"$T/dead.ndjson" 2>/dev/null)" = 3 ] && [ "$(nevents "$T/s.db")" = $((NB + 1)) ] && empty' ||
  bad "poison: not moved aside / later message not stored ($(depth))"
eq "poison: three lines in the dead-letter file" 3 "$(wc -l <"$T/dead.ndjson" | tr -d ' ')"
eq "poison: one warning each" 3 "$(grep -c 'moved aside' "$T/w1.err")"
eq "poison: bodies kept" "this is not JSON" "$(jq -r .body "$T/dead.ndjson" | head -1)"
contains "poison: the missing object named" "NoSuchKey" "$(jq -r .reason "$T/dead.ndjson" | tail -1)"
eq "poison: the message after them stored" $((NB + 1)) "$(nevents "$T/s.db")"
eq "poison: queue empty" "0 0" "$(depth)"
kill -TERM "$WPID"
wait "$WPID"
eq "SIGTERM: exit 0" 0 "$?"

# ---- redelivery: kill -9 between commit and delete ---------------------------------------
echo "[$SECONDS s] redelivery: kill -9 after the commit, before the delete" >&2
NA=$(nalerts "$T/s.db")
NB=$(nevents "$T/s.db")
BUILDTRAIL_WATCH_SQS_HOLD_MS=60000 start_watch "$T/w2.err" --visibility-timeout 2
# shellcheck disable=SC2046
peer notify "$QURL" trail $(cat "$T/keys.redeliver")
wait_for 60 eval '[ "$(nevents "$T/s.db")" -gt "$NB" ]' || bad "redelivery: the batch was not committed"
NC=$(nevents "$T/s.db")
kill -9 "$WPID"
wait "$WPID" 2>/dev/null
eq "redelivery: the message not deleted" "1" "$(depth | awk '{print $1 + $2}')"
start_watch "$T/w3.err" --visibility-timeout 2
wait_for 60 empty || bad "redelivery: the message was not handled again"
sleep 1
eq "redelivery: no duplicate event" "$NC" "$(nevents "$T/s.db")"
eq "redelivery: every event once (= ingest of all objects + 2 EventBridge)" "$((NALL + 2))" "$(nevents "$T/s.db")"
"$BT" hunt --rules builtin --store "$T/s.db" -o ndjson | jq -c -S . | sort >"$T/hunt.all"
NHA=$(wc -l <"$T/hunt.all" | tr -d ' ')
wait_for 30 eval '[ "$(jq -r .key "$T/recv.log" | sort -u | wc -l)" -ge "$NHA" ]' || bad "redelivery: alerts not delivered"
eq "redelivery: alerts = hunt's (no duplicate)" "$NHA" "$(nalerts "$T/s.db")"
eq "redelivery: one distinct key per alert" "$NHA" "$(jq -r .key "$T/recv.log" | sort -u | wc -l | tr -d ' ')"
[ "$NHA" -ge "$NA" ] && ok || bad "redelivery: alerts went down"
kill -TERM "$WPID"
wait "$WPID"
eq "SIGTERM after redelivery: exit 0" 0 "$?"

# ---- the status line's lag of an sqs:// source: from SentTimestamp ------------------------
echo "[$SECONDS s] status: an sqs:// source's lag is its messages' wait in the queue" >&2
LQ=$(peer queue lag-q)
peer sendfile "$LQ" "$T/state.json"
sleep 3
BUILDTRAIL_WATCH_STATUS_MS=500 "$BT" watch "sqs://$LQ" --store "$T/lag.db" --rules builtin \
  --interval 5 --endpoint-url "$URL" --notify stdout >/dev/null 2>"$T/w4.err" &
WPID=$!
PIDS+=($WPID)
wait_for 30 grep -q "; sources: sqs:lag-q ok lag [1-9]" "$T/w4.err" || bad "lag: no status line with it"
wait_for 10 eval '[ "$(grep -c "sqs:lag-q ok lag" "$T/w4.err")" -ge 2 ]' || bad "lag: one status line only"
kill -TERM "$WPID"
wait "$WPID"
eq "lag: exit 0 after SIGTERM" 0 "$?"
lag=$(grep -o "; sources: sqs:lag-q ok lag [0-9.]*s" "$T/w4.err" | head -1 | sed 's/.* lag //; s/s$//')
python3 -c 'import sys; sys.exit(0 if 3.0 <= float(sys.argv[1]) < 60 else 1)' "${lag:-0}" && ok ||
  bad "lag: the message waited 3 s in the queue, the status line says [$lag] s"
eq "lag: later lines: no message, 0" "ok lag 0.0s" \
  "$(grep -o "sqs:lag-q ok lag [0-9.]*s" "$T/w4.err" | tail -1 | sed 's/sqs:lag-q //')"

if grep -q "$SK" "$T"/w*.err; then bad "the secret key appears in messages"; else ok; fi
finish
