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
#      and no key or secret in watch's output.
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
finish
