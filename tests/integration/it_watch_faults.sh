#!/usr/bin/env bash
# it_watch_faults.sh - faults of issue #12 for `buildtrail watch sqs://...`, against the
# machine's moto_server with SigV4 checking on, through a loopback proxy
# (watch/fault_proxy.py) that injects what moto does not produce:
#   1. S3 503 SlowDown: the first 8 GetObject calls of the objects a trail's log-delivery
#      notifications name are answered 503 SlowDown -> every event stored once (= an
#      ingest of the same objects from disk), the queue empty, and no DeleteMessageBatch
#      before the objects were read (the proxy's request log);
#   2. credentials expiring mid-run: the chain's credential_process (watch/credproc.py)
#      hands out one of two IAM keys at a time, each valid 4 s (the proxy refuses a key
#      past its time with ExpiredToken); notifications sent in three rounds 6 s apart -> every
#      event stored, the credentials fetched again several times, no request refused,
#      and no key or secret in watch's output;
#   3. s3://bucket watched from the last key seen: objects delivered 90 and 30 minutes ago
#      (A, B) read by the first cycle (listed from 24 h back); then C (5 minutes ago), D1 (B's
#      minute, a smaller random part), D2 (B - 10 min) and E (B - 40 min) uploaded -> C, D1
#      and D2 stored, E not (outside the 15-minute overlap: the bucket is not listed from
#      24 h back again), every later ListObjectsV2 of the day prefixes starts after
#      B - 15 min (the proxy's request log); the status line names the source, ok, its lag;
#   4. the visibility timeout extended while a batch's work goes on: --visibility-timeout 2,
#      every GetObject held 1.5 s by the proxy (one notification of 12 objects, 4 read at a
#      time: the work outlasts 2 s) -> ChangeMessageVisibility requests made, a second consumer (boto3) receiving
#      during the work gets nothing, every event stored once, the queue empty.
source "$(dirname "$0")/lib.sh"
need jq
command -v moto_server >/dev/null 2>&1 || { echo "SKIP: moto_server not on PATH"; exit 77; }
python3 -c 'import boto3, moto' 2>/dev/null || { echo "SKIP: python3 lacks boto3 or moto"; exit 77; }
BT=${BT:-build/buildtrail}
BIN=${BT_BIN_DIR:-$(dirname "$BT")}
SRC=${BT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PROXY="$SRC/tests/integration/watch/fault_proxy.py"

# shellcheck disable=SC1091
. "$SRC/tests/integration/watch/moto.sh"

"$BIN/bt-gen" --out "$T/arch" --events 2000 --seed 17 --days 1 --accounts 1 \
  --regions us-east-1 2>/dev/null || { echo "bt-gen failed"; exit 1; }
(cd "$T/arch" && find AWSLogs -path '*/CloudTrail/*' -name '*.json.gz' | sort) >"$T/keys.all"
NOBJ=$(wc -l <"$T/keys.all")
head -n $((NOBJ / 2)) "$T/keys.all" >"$T/keys.1"
tail -n +$((NOBJ / 2 + 1)) "$T/keys.all" >"$T/keys.2"

start_moto "$T/arch" 120
nevents() { "$BT" info --store "$1" -o json 2>/dev/null | jq .Events; }
(cd "$T/arch" && "$BT" ingest --store "$T/ref1.db" -q $(cat "$T/keys.1")) >/dev/null
(cd "$T/arch" && "$BT" ingest --store "$T/refall.db" -q $(cat "$T/keys.all")) >/dev/null
N1=$(nevents "$T/ref1.db")
NALL=$(nevents "$T/refall.db")
start_proxy() { # NAME ARGS...: the proxy's URL in PURL
  local name=$1
  shift
  rm -f "$T/$name.port"
  python3 "$PROXY" "$URL" "$T/$name.port" "$T/$name.log" "$@" >/dev/null 2>&1 &
  PIDS+=($!)
  wait_for 10 test -s "$T/$name.port" || bad "$name proxy did not start"
  PURL="http://127.0.0.1:$(cat "$T/$name.port")"
}

# ---- 1. S3 503 SlowDown --------------------------------------------------------------
echo "[$SECONDS s] S3 503 SlowDown for the first 8 GetObject calls" >&2
Q1=$(peer queue slow-q)
start_proxy slow --slowdown 8
P1=$PURL
"$BT" watch "sqs://$Q1" --store "$T/s1.db" --rules builtin --interval 60 --endpoint-url "$P1" \
  --dead-letter "$T/dead1.ndjson" >"$T/w1.out" 2>"$T/w1.err" &
W1=$!
PIDS+=($W1)
# shellcheck disable=SC2046
peer notify "$Q1" trail $(cat "$T/keys.1")
wait_for 60 eval '[ "$(nevents "$T/s1.db")" = "$N1" ] && [ "$(peer depth "$Q1")" = "0 0" ]' ||
  bad "slowdown: not stored in time ($(nevents "$T/s1.db") of $N1 events; queue $(peer depth "$Q1"))"
kill -TERM "$W1"
wait "$W1"
eq "slowdown: exit 0 after SIGTERM" 0 "$?"
eq "slowdown: every event stored once (= ingest of the same objects)" "$N1" "$(nevents "$T/s1.db")"
eq "slowdown: eight 503 answers" 8 "$(grep -c ' 503$' "$T/slow.log")"
eq "slowdown: every object read" "$(wc -l <"$T/keys.1" | tr -d ' ')" \
  "$(grep '^GET /trail/' "$T/slow.log" | grep -c ' 200$')"
# the delete comes after the reads of the batch: no DeleteMessageBatch before the last
# 503 (the objects of the batch were still being read)
last503=$(grep -n ' 503$' "$T/slow.log" | tail -1 | cut -d: -f1)
firstdel=$(grep -n 'DeleteMessageBatch' "$T/slow.log" | head -1 | cut -d: -f1)
[ -n "$firstdel" ] && [ "$firstdel" -gt "$last503" ] && ok ||
  bad "slowdown: a DeleteMessageBatch (line $firstdel) before the last 503 (line $last503)"
eq "slowdown: no dead letter" "no" "$([ -s "$T/dead1.ndjson" ] && echo yes || echo no)"

# ---- 2. credentials expiring mid-run ---------------------------------------------------
echo "[$SECONDS s] credentials from credential_process, each valid 4 s" >&2
K2=$(python3 - "$URL" "$AK" "$SK" <<'PY'
import sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
k = iam.create_access_key(UserName="alice")["AccessKey"]
print(k["AccessKeyId"], k["SecretAccessKey"])
PY
)
[ -n "$K2" ] || bad "second key not made"
AK2=${K2%% *}
SK2=${K2#* }
printf '%s %s\n%s %s\n' "$AK" "$SK" "$AK2" "$SK2" >"$T/pairs"
chmod 600 "$T/pairs"
mkdir -p "$HOME/.aws"
printf '[default]\nregion = us-east-1\ncredential_process = python3 %s %s %s 4\n' \
  "$SRC/tests/integration/watch/credproc.py" "$T/pairs" "$T/expiry" >"$HOME/.aws/config"
Q2=$(peer queue creds-q)
start_proxy creds --expiry "$T/expiry"
P2=$PURL
(
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  exec "$BT" watch "sqs://$Q2" --store "$T/s2.db" --rules builtin --interval 60 \
    --endpoint-url "$P2" --dead-letter "$T/dead2.ndjson" >"$T/w2.out" 2>"$T/w2.err"
) &
W2=$!
PIDS+=($W2)
# notifications in three rounds 6 s apart (a key lives 4 s)
split -n l/3 "$T/keys.all" "$T/round."
for r in "$T"/round.*; do
  # shellcheck disable=SC2046
  peer notify "$Q2" trail $(cat "$r")
  sleep 6
done
wait_for 60 eval '[ "$(nevents "$T/s2.db")" = "$NALL" ] && [ "$(peer depth "$Q2")" = "0 0" ]' ||
  bad "creds: not stored in time ($(nevents "$T/s2.db") of $NALL events; queue $(peer depth "$Q2"))"
kill -TERM "$W2"
wait "$W2"
eq "creds: exit 0 after SIGTERM" 0 "$?"
eq "creds: every event stored" "$NALL" "$(nevents "$T/s2.db")"
n=$(wc -l <"$T/expiry" | tr -d ' ')
[ "$n" -ge 3 ] && ok || bad "creds: credentials fetched $n times (expected several)"
eq "creds: no request refused as expired" 0 "$(grep -c ' 400$' "$T/creds.log")"
eq "creds: both keys used" 2 "$(cut -d' ' -f1 "$T/expiry" | sort -u | wc -l | tr -d ' ')"
for s in "$AK" "$SK" "$AK2" "$SK2"; do
  if grep -qF -- "$s" "$T/w2.out" "$T/w2.err" "$T/w1.out" "$T/w1.err"; then
    bad "a key or secret appears in watch's output"
  else ok; fi
done
# ---- 3. s3:// from the last key seen ----------------------------------------------------
echo "[$SECONDS s] s3://live watched from the last key seen" >&2
mapfile -t F < <(head -n 6 "$T/keys.all")
s3key() { # MINUTES_AGO_OF_NOW_MINUTE RANDOM: a trail key delivered then
  python3 - "$1" "$2" <<'PY'
import sys, time
t = (int(time.time()) // 60 - int(sys.argv[1])) * 60
d, m = time.strftime("%Y/%m/%d", time.gmtime(t)), time.strftime("%Y%m%dT%H%MZ", time.gmtime(t))
print("AWSLogs/111122223333/CloudTrail/us-east-1/%s/111122223333_CloudTrail_us-east-1_%s_%s.json.gz"
      % (d, m, sys.argv[2]))
PY
}
put() { # KEY FILE...: uploads FILE as KEY, pairs, into the bucket "live"
  python3 - "$URL" "$@" <<'PY'
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")
try:
    s3.create_bucket(Bucket="live")
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
a = sys.argv[2:]
for k, f in zip(a[0::2], a[1::2]):
    s3.put_object(Bucket="live", Key=k, Body=open(f, "rb").read())
PY
}
KA=$(s3key 90 m) KB=$(s3key 30 m) KC=$(s3key 5 m) KD1=$(s3key 30 a) KD2=$(s3key 40 m)
KE=$(s3key 70 m)
(cd "$T/arch" && "$BT" ingest --store "$T/ref3a.db" -q "${F[0]}" "${F[1]}") >/dev/null
(cd "$T/arch" && "$BT" ingest --store "$T/ref3b.db" -q "${F[@]:0:5}") >/dev/null
N3A=$(nevents "$T/ref3a.db")
N3B=$(nevents "$T/ref3b.db")
put "$KA" "$T/arch/${F[0]}" "$KB" "$T/arch/${F[1]}" || bad "s3: upload failed"
start_proxy s3
P3=$PURL
BUILDTRAIL_WATCH_STATUS_MS=500 "$BT" watch s3://live --store "$T/s3.db" --rules builtin \
  --interval 1 --endpoint-url "$P3" >"$T/w3.out" 2>"$T/w3.err" &
W3=$!
PIDS+=($W3)
wait_for 60 eval '[ "$(nevents "$T/s3.db")" = "$N3A" ]' ||
  bad "s3: A and B not stored in time ($(nevents "$T/s3.db") of $N3A events)"
mark=$(wc -l <"$T/s3.log")
# the older ones first (a cycle between two uploads must not have read C yet)
put "$KD1" "$T/arch/${F[3]}" "$KD2" "$T/arch/${F[4]}" "$KE" "$T/arch/${F[5]}" \
  "$KC" "$T/arch/${F[2]}" || bad "s3: upload failed"
wait_for 60 eval '[ "$(nevents "$T/s3.db")" = "$N3B" ]' ||
  bad "s3: C, D1, D2 not stored in time ($(nevents "$T/s3.db") of $N3B events)"
# two more cycles after that (their listings in the log): E had its chances
m2=$(grep -c 'list-type=2' "$T/s3.log")
wait_for 30 eval '[ $(grep -c "list-type=2" "$T/s3.log") -ge $((m2 + 8)) ]' ||
  bad "s3: no further cycles"
kill -TERM "$W3"
wait "$W3"
eq "s3: exit 0 after SIGTERM" 0 "$?"
eq "s3: A, B, C, D1, D2 stored once, E (outside the overlap) not" "$N3B" "$(nevents "$T/s3.db")"
# every listing of a day prefix after the first cycle: no day before B - 15 min's, and on
# that day a start-after at or after its minute
tail -n +$((mark + 1)) "$T/s3.log" >"$T/s3.later"
res=$(python3 - "$T/s3.later" "$KB" <<'PY'
import sys, re, time, calendar
from urllib.parse import urlsplit, parse_qs
kb = sys.argv[2]
m = re.search(r"_(\d{8}T\d{4})Z_", kb)
t = calendar.timegm(time.strptime(m.group(1), "%Y%m%dT%H%M")) - 15 * 60
day = time.strftime("%Y/%m/%d", time.gmtime(t))
want = "AWSLogs/111122223333/CloudTrail/us-east-1/%s/111122223333_CloudTrail_us-east-1_%s" % (
    day, time.strftime("%Y%m%dT%H%MZ", time.gmtime(t)))
same = bad = 0
for line in open(sys.argv[1]):
    if "list-type=2" not in line:
        continue
    q = parse_qs(urlsplit(line.split()[1]).query)
    p = q.get("prefix", [""])[0]
    dm = re.search(r"/(\d{4}/\d{2}/\d{2})/$", p)
    if not dm:
        continue
    if dm.group(1) < day:
        bad += 1
    elif dm.group(1) == day:
        sa = q.get("start-after", [""])[0]
        same += 1
        bad += not (sa >= want)
print("ok" if same and not bad else "day listings %d, wrong %d (want start-after >= %s)" % (same, bad, want))
PY
)
eq "s3: later listings start after the newest key read less 15 minutes" ok "$res"
grep -q 'status: .* events/s.*; sources: s3://live ok lag [0-9][0-9.]*s' "$T/w3.err" && ok ||
  bad "s3: the status line without the source's state and lag: $(grep status: "$T/w3.err" | tail -1)"

# ---- 4. the visibility timeout extended while a batch's work goes on -------------------
echo "[$SECONDS s] SQS visibility extended while a slow batch is read" >&2
Q4=$(peer queue slowread-q)
start_proxy slowget --delay-get 1.5
P4=$PURL
mapfile -t K4 < <(head -n 12 "$T/keys.all")
(cd "$T/arch" && "$BT" ingest --store "$T/ref4.db" -q "${K4[@]}") >/dev/null
N4=$(nevents "$T/ref4.db")
"$BT" watch "sqs://$Q4" --store "$T/s4.db" --rules builtin --interval 60 --endpoint-url "$P4" \
  --visibility-timeout 2 --dead-letter "$T/dead4.ndjson" >"$T/w4.out" 2>"$T/w4.err" &
W4=$!
PIDS+=($W4)
# one notification naming the 12 objects: one message, one batch (no second message left
# visible while the first batch is worked on)
peer send "$Q4" "$(python3 -c 'import json, sys
print(json.dumps({"s3Bucket": "trail", "s3ObjectKey": sys.argv[1:]}))' "${K4[@]}")"
# the work began (a GetObject reached the proxy): a second consumer tries for 4 s
wait_for 30 grep -q '^GET /trail/' "$T/slowget.log" || bad "visibility: no object read"
STOLEN=$(peer steal "$Q4" 4)
wait_for 60 eval '[ "$(nevents "$T/s4.db")" = "$N4" ] && [ "$(peer depth "$Q4")" = "0 0" ]' ||
  bad "visibility: not stored in time ($(nevents "$T/s4.db") of $N4 events; queue $(peer depth "$Q4"))"
kill -TERM "$W4"
wait "$W4"
eq "visibility: exit 0 after SIGTERM" 0 "$?"
eq "visibility: a second consumer received nothing while the work went on" 0 "$STOLEN"
n=$(grep -c 'ChangeMessageVisibility 200$' "$T/slowget.log")
[ "$n" -ge 1 ] && ok || bad "visibility: no ChangeMessageVisibility request"
eq "visibility: every event stored once (= ingest of the same objects)" "$N4" "$(nevents "$T/s4.db")"
eq "visibility: the queue empty" "0 0" "$(peer depth "$Q4")"
eq "visibility: no dead letter" "no" "$([ -s "$T/dead4.ndjson" ] && echo yes || echo no)"
echo "visibility: $n ChangeMessageVisibility, $(grep -c '^GET /trail/' "$T/slowget.log") GetObject" >&2

finish
