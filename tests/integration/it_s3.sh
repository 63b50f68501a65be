#!/usr/bin/env bash
# it_s3.sh - ingest and search --from on s3:// trail archives against a real S3
# implementation: the machine's moto_server on loopback with SigV4 checking on
# (INITIAL_NO_AUTH_ACTION_COUNT=3: only the IAM bootstrap goes unchecked; see
# s3/moto_server.py for the one correction made to moto's checker), holding a bt-gen
# archive (organization trail and a plain one, several accounts, regions and days,
# digest files, corrupt objects). Checks: the store equals an ingest of the same files
# from disk (count and ids), resume by ETag, kill -9 then re-run, search --from equals
# search over the local copy (time windows, accounts, regions, deep prefixes), wrong
# and missing credentials, a missing bucket and a denied prefix (one line each, what
# was read kept), buckets in other regions (301, 400 with <Region>, HeadBucket), 503
# SlowDown, virtual-hosted addressing, AWS_ENDPOINT_URL_S3, the progress bar, and no
# secret in any output. Prints "N passed, M failed".
. "$(dirname "$0")/lib.sh"
: "${BT:?}" "${BT_BIN_DIR:?}" "${BT_SOURCE_DIR:?}"
need jq
command -v moto_server >/dev/null 2>&1 || { echo "SKIP: moto_server not on PATH"; exit 77; }
python3 -c 'import boto3, moto' 2>/dev/null || { echo "SKIP: python3 lacks boto3 or moto"; exit 77; }
GEN="$BT_BIN_DIR/bt-gen"
[ -x "$GEN" ] || { echo "SKIP: $GEN not built"; exit 77; }
HERE="$BT_SOURCE_DIR/tests/integration/s3"

PIDS=()
stop_servers() {
  local p
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
}
cleanup_hooks+=(stop_servers)
trap 'exit 130' INT TERM
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---- the archive ----------------------------------------------------------------------
ORG=o-testorg0001
timeout 120 "$GEN" --out "$T/arch" --seed 7 --events 4000 --accounts 3 --regions us-east-1,eu-west-1 \
  --days 2 --org "$ORG" --corrupt 2>/dev/null || { echo "bt-gen failed"; exit 1; }
timeout 120 "$GEN" --out "$T/arch2" --seed 9 --events 600 --accounts 1 --regions us-west-2 --days 1 \
  2>/dev/null || { echo "bt-gen failed"; exit 1; }
ACCTS=$(ls "$T/arch/AWSLogs/$ORG")
A1=$(echo "$ACCTS" | head -1)
A3=$(echo "$ACCTS" | tail -1)
LOGS=$(find "$T/arch/AWSLogs" "$T/arch2/AWSLogs" -path '*/CloudTrail/*' -type f | wc -l)
DIGESTS=$(find "$T/arch/AWSLogs" -path '*/CloudTrail-Digest/*' -type f | wc -l)
[ "$DIGESTS" -gt 0 ] || bad "the archive has digest files"

# ---- moto -------------------------------------------------------------------------------
MPORT=$(free_port)
URL="http://127.0.0.1:$MPORT"
INITIAL_NO_AUTH_ACTION_COUNT=3 python3 "$HERE/moto_server.py" -H 127.0.0.1 -p "$MPORT" \
  >"$T/moto.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 150); do
  curl -s --max-time 1 -o /dev/null "$URL/moto-api/" && break
  sleep 0.2
done
curl -s --max-time 1 -o /dev/null "$URL/moto-api/" || { echo "moto_server did not start"; cat "$T/moto.log"; exit 1; }
timeout 300 python3 "$HERE/setup.py" --url "$URL" --keys "$T/keys" --deny "trail/AWSLogs/$ORG/$A3/" \
  --bucket trail --bucket trail-eu@eu-west-1 --bucket trail-ap@ap-southeast-2 --bucket trail-hd@us-west-2 \
  --upload "trail::$T/arch" --upload "trail::$T/arch2" \
  --upload "trail-eu:logs/:$T/arch2" --upload "trail-ap:logs/:$T/arch2" --upload "trail-hd:logs/:$T/arch2" \
  >"$T/setup.log" 2>&1 || { echo "moto setup failed"; cat "$T/setup.log"; exit 1; }
# shellcheck disable=SC1091
. "$T/keys"

# the proxy that answers like S3 for buckets in other regions, and throttles
start_proxy() { # NAME ARGS...
  local name=$1 i
  shift
  python3 "$HERE/region_proxy.py" --upstream "$URL" --port-file "$T/$name.port" --log "$T/$name.log" \
    --lifetime 600 "$@" >"$T/$name.out" 2>&1 &
  PIDS+=($!)
  for i in $(seq 1 100); do [ -s "$T/$name.port" ] && break; sleep 0.1; done
  [ -s "$T/$name.port" ] || { echo "proxy $name did not start"; cat "$T/$name.out"; exit 1; }
}
start_proxy regions --bucket-region trail-eu=eu-west-1:301 --bucket-region trail-ap=ap-southeast-2:400 \
  --bucket-region trail-hd=us-west-2:head
start_proxy slow --slowdown 7
PROXY="http://127.0.0.1:$(cat "$T/regions.port")"
SLOW="http://127.0.0.1:$(cat "$T/slow.port")"

mkdir -p "$T/home"
ALL_ERR="$T/all_stderr"
: > "$ALL_ERR"
# bt [VAR=value ...] -- ARGS: buildtrail with a clean AWS environment (no config files,
# no IMDS), alice's keys unless overridden, stderr kept in $T/err and collected.
bt() {
  local envs=("AWS_ACCESS_KEY_ID=$AK" "AWS_SECRET_ACCESS_KEY=$SK")
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  env -i PATH="$PATH" HOME="$T/home" AWS_CONFIG_FILE="$T/none" AWS_SHARED_CREDENTIALS_FILE="$T/none" \
    AWS_EC2_METADATA_DISABLED=true TZ=UTC "${envs[@]}" timeout 300 "$BT" "$@" 2>"$T/err"
  local st=$?
  cat "$T/err" >> "$ALL_ERR"
  return $st
}
ids() { # STORE -> sorted event ids
  "$BT" search --store "$1" --output text --query 'Events[].EventId' | tr '\t' '\n' | sort
}
count() { "$BT" info --store "$1" --output json --query Events; }
one_line() { # NAME PATTERN: stderr of the last run is exactly one line matching PATTERN
  local n
  n=$(wc -l < "$T/err")
  if [ "$n" -eq 1 ] && grep -Eq -- "$2" "$T/err"; then ok; else bad "$1: stderr [$(cat "$T/err")]"; fi
}

# ---- the reference: the same files from local disk ---------------------------------------
L="$T/local.db"
"$BT" ingest --store "$L" --summary json "$T/arch/AWSLogs" "$T/arch2/AWSLogs" > "$T/lsum" 2>/dev/null
eq "local ingest: exit 3 (corrupt files)" 3 $?
eq "local ingest: 2 errors" 2 "$(jq .errors "$T/lsum")"
ids "$L" > "$T/ids.local"
NL=$(count "$L")
[ "$NL" -gt 1000 ] && ok || bad "local store too small: $NL"

# ---- ingest s3:// -----------------------------------------------------------------------------
S="$T/s3.db"
bt -- ingest --store "$S" --summary json --endpoint-url "$URL" s3://trail > "$T/sum"
eq "s3 ingest: exit 3 (corrupt objects)" 3 $?
eq "s3 ingest: objects read = log files" "$LOGS" "$(jq .files "$T/sum")"
eq "s3 ingest: 2 errors" 2 "$(jq .errors "$T/sum")"
eq "s3 ingest: digests never read" 0 "$(jq .digests "$T/sum")"
eq "s3 ingest: records = local" "$(jq .records "$T/lsum")" "$(jq .records "$T/sum")"
eq "s3 ingest: new = local" "$(jq .new "$T/lsum")" "$(jq .new "$T/sum")"
eq "s3 ingest: one line per corrupt object" 2 "$(grep -c "^buildtrail: 's3://trail/AWSLogs/$ORG/" "$T/err")"
eq "store = local store: count" "$NL" "$(count "$S")"
ids "$S" > "$T/ids.s3"
if cmp -s "$T/ids.local" "$T/ids.s3"; then ok; else bad "store = local store: event ids differ"; fi
eq "sources keyed s3://bucket/key with the ETag" "$((LOGS - 2))" \
  "$(sqlite3 "$S" "select count(*) from sources where key like 's3://trail/AWSLogs/%' and length(etag) = 32" 2>/dev/null || echo sqlite3-missing)"

# resume: nothing new is read again (the corrupt objects are: they never completed)
bt -- ingest --store "$S" --summary json --endpoint-url "$URL" s3://trail > "$T/sum2"
eq "re-run: exit 3" 3 $?
eq "re-run: only the 2 failed objects read" 2 "$(jq .files "$T/sum2")"
eq "re-run: unchanged" "$((LOGS - 2))" "$(jq .unchanged "$T/sum2")"
eq "re-run: nothing new" 0 "$(jq .new "$T/sum2")"

# kill -9 in the middle, then the same command: one clean run's store
K="$T/killed.db"
env -i PATH="$PATH" HOME="$T/home" AWS_CONFIG_FILE="$T/none" AWS_SHARED_CREDENTIALS_FILE="$T/none" \
  AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" \
  "$BT" ingest --store "$K" --max-concurrent-requests 2 --endpoint-url "$URL" s3://trail >/dev/null 2>&1 &
KP=$!
killed=0
for _ in $(seq 1 300); do
  n=$("$BT" info --store "$K" --output json --query Events 2>/dev/null || echo 0)
  if [ "${n:-0}" -gt 200 ]; then kill -9 "$KP" 2>/dev/null && killed=1; break; fi
  kill -0 "$KP" 2>/dev/null || break
  sleep 0.05
done
kill -9 "$KP" 2>/dev/null # (should the loop have ended first)
{ wait "$KP"; } 2>/dev/null
partial=$(count "$K")
if [ "$killed" = 1 ] && [ "$partial" -lt "$NL" ]; then ok; else bad "kill -9 mid-run: killed=$killed, $partial of $NL events"; fi
bt -- ingest --store "$K" --summary json --endpoint-url "$URL" s3://trail > "$T/ksum"
eq "after kill -9: re-run exit 3" 3 $?
eq "after kill -9: count = one clean run" "$NL" "$(count "$K")"
ids "$K" > "$T/ids.k"
if cmp -s "$T/ids.local" "$T/ids.k"; then ok; else bad "after kill -9: ids differ from one clean run"; fi

# ---- search --from s3:// = search --from the local copy ----------------------------------------
same_search() { # NAME FROM_S3 "LOCAL_DIR..." ARGS...
  local name=$1 s3=$2 loc=() d st
  for d in $3; do loc+=(--from "$d"); done
  shift 3
  bt -- search --endpoint-url "$URL" --from "$s3" -o ndjson "$@" > "$T/q.s3"
  st=$?
  # (the local copy exits 3 whenever its corrupt files are in the way; S3 reads only
  # the window's days)
  case $st in 0|3) ok ;; *) bad "$name: exit $st: $(cat "$T/err")" ;; esac
  "$BT" search "${loc[@]}" -o ndjson "$@" > "$T/q.loc" 2>/dev/null
  if [ -s "$T/q.loc" ] && cmp -s "$T/q.loc" "$T/q.s3"; then ok; else
    bad "$name: results differ ($(wc -l < "$T/q.s3") from S3, $(wc -l < "$T/q.loc") local)"; fi
}
BOTH="$T/arch/AWSLogs $T/arch2/AWSLogs"
same_search "window across midnight, mid-minute start" s3://trail "$BOTH" \
  --start-time 2026-10-01T13:37:30Z --end-time 2026-10-02T01:10:00Z
same_search "window + filter" s3://trail "$BOTH" \
  --start-time 2026-10-01T06:00:00Z --end-time 2026-10-01T18:00:00Z --event-source codebuild.amazonaws.com
same_search "account and region (discovered days)" s3://trail "$BOTH" --account "$A1" --region eu-west-1
same_search "long window (days discovered within it)" s3://trail "$BOTH" \
  --start-time 2026-08-01 --end-time 2026-12-31 --region us-east-1 --event-name StartBuild
same_search "plain (non-organization) layout" s3://trail "$T/arch2/AWSLogs" --region us-west-2
DAY="AWSLogs/$ORG/$A1/CloudTrail/us-east-1/2026/10/02"
same_search "a day prefix" "s3://trail/$DAY/" "$T/arch/$DAY"
bt -- search --endpoint-url "$URL" --from "s3://trail/$DAY/" -o ndjson --start-time 2026-10-02T12:00:00Z > "$T/q.day"
[ -s "$T/q.day" ] && [ "$(wc -l < "$T/q.day")" -lt "$(wc -l < "$T/q.s3")" ] && ok || bad "a day prefix with a start time"

# ---- failures: one line, what was read kept ------------------------------------------------------
before=$(count "$S")
bt AWS_SECRET_ACCESS_KEY=not-the-secret-0000000000000000000000000 -- ingest --store "$S" --endpoint-url "$URL" s3://trail >/dev/null
eq "wrong secret: exit 1" 1 $?
one_line "wrong secret: one line" "s3://trail/.*SignatureDoesNotMatch \(HTTP 403\)"
eq "wrong secret: store kept" "$before" "$(count "$S")"
bt AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE -- ingest --store "$S" --endpoint-url "$URL" s3://trail >/dev/null
eq "unknown key: exit 1" 1 $?
one_line "unknown key: one line" "InvalidAccessKeyId \(HTTP 403\)"
env -i PATH="$PATH" HOME="$T/home" AWS_CONFIG_FILE="$T/none" AWS_SHARED_CREDENTIALS_FILE="$T/none" \
  AWS_EC2_METADATA_DISABLED=true timeout 60 "$BT" ingest --store "$S" --endpoint-url "$URL" s3://trail >/dev/null 2>"$T/err"
eq "no credentials: exit 1" 1 $?
one_line "no credentials: one line" "credentials"
bt -- ingest --store "$S" --endpoint-url "$URL" s3://no-such-bucket-here >/dev/null
eq "missing bucket: exit 1" 1 $?
one_line "missing bucket: one line" "s3://no-such-bucket-here/.*NoSuchBucket \(HTTP 404\)"
eq "missing bucket: store kept" "$before" "$(count "$S")"

# one connection, so the order is known: the denied account ($A3) is listed and read last
DEN="$T/denied.db"
bt AWS_ACCESS_KEY_ID="$BAK" AWS_SECRET_ACCESS_KEY="$BSK" -- ingest --store "$DEN" --summary json \
  --max-concurrent-requests 1 --endpoint-url "$URL" s3://trail > "$T/dsum"
eq "denied prefix: exit 1" 1 $?
# (the two corrupt objects may have been reported before)
last=$(tail -1 "$T/err")
contains "denied prefix: the last line names the object" "'s3://trail/AWSLogs/$ORG/$A3/" "$last"
contains "denied prefix: and the refusal" "GetObject: AccessDenied (HTTP 403)" "$last"
eq "denied prefix: one such line" 1 "$(grep -c AccessDenied "$T/err")"
kept=$(count "$DEN")
ids "$DEN" > "$T/ids.den"
if [ "$kept" -gt 0 ] && [ "$kept" -lt "$NL" ] && [ -z "$(comm -23 "$T/ids.den" "$T/ids.local")" ]; then ok; else
  bad "denied prefix: $kept events kept (want some of the $NL, all from the archive)"; fi
eq "denied prefix: summary counts what was kept" "$kept" "$(jq .new "$T/dsum")"
bt -- ingest --store "$DEN" --endpoint-url "$URL" s3://trail >/dev/null
eq "denied prefix, then allowed: exit 3" 3 $?
eq "denied prefix, then allowed: count" "$NL" "$(count "$DEN")"

# ---- buckets in other regions (through a proxy answering as S3 does) ----------------------------
L2="$T/local2.db"
"$BT" ingest --store "$L2" "$T/arch2/AWSLogs" >/dev/null 2>&1
ids "$L2" > "$T/ids.local2"
for b in trail-eu trail-ap trail-hd; do
  R="$T/$b.db"
  bt -- ingest --store "$R" --debug --endpoint-url "$PROXY" "s3://$b/logs" >/dev/null
  eq "$b: exit 0" 0 $?
  ids "$R" > "$T/ids.$b"
  if [ -s "$T/ids.$b" ] && cmp -s "$T/ids.local2" "$T/ids.$b"; then ok; else bad "$b: store differs from local"; fi
  contains "$b: region followed" "bucket '$b' is in region" "$(cat "$T/err")"
done
eq "301 PermanentRedirect was answered" 1 "$(grep -c '^301 GET trail-eu' "$T/regions.log")"
eq "400 AuthorizationHeaderMalformed was answered" 1 "$(grep -c '^400 GET trail-ap' "$T/regions.log")"
contains "HeadBucket asked for the region" "head HEAD trail-hd us-west-2" "$(cat "$T/regions.log")"

# ---- 503 SlowDown -----------------------------------------------------------------------------
W="$T/slow.db"
bt -- ingest --store "$W" --summary json --endpoint-url "$SLOW" s3://trail > "$T/wsum"
eq "SlowDown: exit 3 (only the corrupt objects)" 3 $?
eq "SlowDown: 2 errors" 2 "$(jq .errors "$T/wsum")"
ids "$W" > "$T/ids.w"
if cmp -s "$T/ids.local" "$T/ids.w"; then ok; else bad "SlowDown: store differs from local"; fi
[ "$(grep -c '^slowdown' "$T/slow.log")" -gt 10 ] && ok || bad "SlowDown: the proxy throttled $(grep -c '^slowdown' "$T/slow.log") requests"

# ---- addressing, endpoint from the environment, progress ----------------------------------------
bt -- search --debug --endpoint-url "http://localhost:$MPORT" --addressing-style virtual \
  --from "s3://trail/$DAY/" -o ndjson > "$T/q.virt"
eq "virtual-hosted: exit 0" 0 $?
if cmp -s "$T/q.virt" <("$BT" search --from "$T/arch/$DAY" -o ndjson 2>/dev/null); then ok; else bad "virtual-hosted: results differ"; fi
contains "virtual-hosted: bucket in the host" "GET http://trail.localhost:$MPORT/" "$(cat "$T/err")"
bt AWS_ENDPOINT_URL_S3="$URL" -- search --from "s3://trail/$DAY/" -o ndjson > "$T/q.env"
if [ -s "$T/q.env" ] && cmp -s "$T/q.virt" "$T/q.env"; then ok; else bad "AWS_ENDPOINT_URL_S3: results differ"; fi
printf '[bt-test]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$AK" "$SK" > "$T/creds"
bt AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SHARED_CREDENTIALS_FILE="$T/creds" -- search --profile bt-test \
  --endpoint-url "$URL" --from "s3://trail/$DAY/" -o ndjson > "$T/q.prof"
if [ -s "$T/q.prof" ] && cmp -s "$T/q.virt" "$T/q.prof"; then ok; else bad "--profile: its keys were not used: $(cat "$T/err")"; fi
bt -- ingest --store "$T/p.db" --progress --endpoint-url "$URL" "s3://trail/$DAY/" >/dev/null
eq "progress: exit 0" 0 $?
prog=$(tr '\r' '\n' < "$T/err" | grep 'files' | tail -1)
contains "progress: files" "files" "$prog"
contains "progress: events" "events" "$prog"
contains "progress: bytes" "KB" "$prog"

bt -- search --endpoint-url "$URL" --from s3://trail/not-the-trail-prefix > "$T/q.none"
eq "nothing under the prefix: exit 0" 0 $?
contains "nothing under the prefix: said so" "no CloudTrail log files found" "$(cat "$T/err")"

# ---- usage errors -----------------------------------------------------------------------------
status "s3 options without s3://" 2 "$BT" ingest --store "$T/u.db" --start-time 1d "$T/arch2"
status "bad bucket name" 2 "$BT" ingest --store "$T/u.db" s3://Bad_Bucket%
status "not a CloudTrail prefix" 2 "$BT" search --from "s3://trail/AWSLogs/$ORG/123/"
status "bad --account" 2 "$BT" ingest --store "$T/u.db" --account 12345 s3://trail
status "bad --addressing-style" 2 "$BT" search --addressing-style sideways --from s3://trail

# ---- a changed object is read again ------------------------------------------------------------
key=$(cd "$T/arch" && find "AWSLogs/$ORG/$A1/CloudTrail/us-east-1" -name '*.json.gz' | sort | head -1)
printf '{"Records":[{"eventVersion":"1.08","eventID":"99999999-0000-4000-8000-000000000001","eventTime":"2026-10-01T00:00:01Z","eventName":"StartBuild","eventSource":"codebuild.amazonaws.com","awsRegion":"us-east-1","recipientAccountId":"%s"}]}' "$A1" \
  | gzip > "$T/changed.json.gz"
AK="$AK" SK="$SK" python3 - "$URL" "$key" "$T/changed.json.gz" <<'EOF'
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id=os.environ["AK"], aws_secret_access_key=os.environ["SK"])
s3.put_object(Bucket="trail", Key=sys.argv[2], Body=open(sys.argv[3], "rb").read())
EOF
bt -- ingest --store "$S" --summary json --endpoint-url "$URL" s3://trail > "$T/sum3"
eq "changed object: read again (+ the 2 failed)" 3 "$(jq .files "$T/sum3")"
eq "changed object: its new event stored" 1 "$(jq .new "$T/sum3")"

# ---- no secret anywhere ---------------------------------------------------------------------------
for secret in "$SK" "$BSK" "not-the-secret-0000000000000000000000000"; do
  if grep -qF -- "$secret" "$ALL_ERR" "$T"/*.out "$T"/sum* 2>/dev/null; then bad "a secret key appears in the output"; else ok; fi
done
if grep -Eq 'Signature=[0-9a-f]{64}' "$ALL_ERR"; then bad "a signature appears in the debug log"; else ok; fi
finish
