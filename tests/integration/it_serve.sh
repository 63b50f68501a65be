#!/usr/bin/env bash
# it_serve.sh - `buildtrail serve` proven with real clients on loopback: the three
# steps of the widely copied CodeBuild recipe run with AWS CLI v2 (/usr/bin/aws),
# boto3 and the AWS SDK for JavaScript v3, each compared with what `buildtrail search`
# finds for the same filter; full pagination over >10,000 events (CLI auto-paging,
# boto3 and JS paginators); the ANDed-attributes extension; the modeled errors;
# NextToken binding; body cap and malformed JSON; events ingested while serving;
# --auth with SigV4 (good and bad signatures); clean SIGTERM shutdown.
. "$(dirname "$0")/lib.sh"
: "${BT:?}"
[ -x /usr/bin/aws ] || { echo "SKIP: /usr/bin/aws (AWS CLI v2, Debian package awscli) is not installed"; exit 77; }
PY=${BT_PYTHON:-python3}
"$PY" -c 'import boto3' 2>/dev/null || { echo "SKIP: $PY cannot import boto3"; exit 77; }
need jq
need curl
need node
need npm
GEN=${BT_BIN_DIR:?}/bt-gen
[ -x "$GEN" ] || { echo "SKIP: $GEN not built"; exit 77; }
HERE=$(cd "$(dirname "$0")" && pwd)/serve

# A clean client environment: dummy keys, no user config, no IMDS, UTC.
export HOME="$T/home" TZ=UTC AWS_EC2_METADATA_DISABLED=true AWS_PAGER= NODE_NO_WARNINGS=1
export AWS_ACCESS_KEY_ID=AKIDSERVETEST AWS_SECRET_ACCESS_KEY=not-checked-without-auth
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_MAX_ATTEMPTS=1
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE \
      AWS_ENDPOINT_URL AWS_ENDPOINT_URL_CLOUDTRAIL AWS_CA_BUNDLE
mkdir -p "$HOME"
aws() { timeout 300 /usr/bin/aws "$@"; }
py() { timeout 300 "$PY" "$HERE/boto3_lookup.py" "$@"; }
js() { timeout 300 node "$HERE/js_lookup.mjs" "$@"; }

# The JS SDK: installed into tests/integration/serve/node_modules when missing.
if [ ! -d "$HERE/node_modules/@aws-sdk/client-cloudtrail" ]; then
  echo "installing @aws-sdk/client-cloudtrail with npm"
  timeout 300 npm install --prefix "$HERE" --no-audit --no-fund --loglevel=error >"$T/npm.log" 2>&1 ||
    { bad "npm install @aws-sdk/client-cloudtrail failed: $(tail -3 "$T/npm.log")"; finish; }
fi

# ---- a store of generated events ------------------------------------------------------
S="$T/store.db"
START=2026-10-01T00:00:00Z
END=2026-10-04T00:00:00Z
"$GEN" --out "$T/gen" --events 12000 --days 3 --seed 11 >"$T/gen.log" 2>&1 || { bad "bt-gen failed: $(tail -2 "$T/gen.log")"; finish; }
"$BT" ingest --store "$S" -q "$T/gen" >/dev/null || { bad "ingest failed"; finish; }
ALL=$("$BT" search --store "$S" --start-time $START --end-time $END --query 'length(Events)' --output text)
[ "$ALL" -ge 10000 ] && ok || bad "expected at least 10000 events in the window, got $ALL"

# bt_ids ARGS...: event ids `buildtrail search` finds, one per line, newest first
bt_ids() { "$BT" search --store "$S" --query 'Events[].EventId' --output json "$@" | jq -r '.[]'; }

# the project whose ARN the recipe filters on: one with events, fewer than a page
ARN=
for a in $(jq -r '.projects[].arn' "$T/gen/ground-truth.json"); do
  n=$(bt_ids --start-time $START --end-time $END --resource-name "$a" | wc -l)
  if [ "$n" -gt 2 ] && [ "$n" -le 50 ]; then ARN=$a; break; fi
done
[ -n "$ARN" ] && ok || { bad "no project with 3..50 events in the generated data"; finish; }
# a project with more than a page of events, for paging with a filter
BIG_ARN=
for a in $(jq -r '.projects[].arn' "$T/gen/ground-truth.json"); do
  n=$(bt_ids --start-time $START --end-time $END --resource-name "$a" | wc -l)
  if [ "$n" -gt 60 ]; then BIG_ARN=$a; break; fi
done

# ---- servers ---------------------------------------------------------------------------
# start_server NAME ARGS...: runs serve on a free port, waits for "listening on", sets URL
start_server() {
  local name=$1 i
  shift
  "$BT" serve --store "$S" --port 0 "$@" 2>"$T/$name.err" &
  eval "PID_$name=$!"
  cleanup_hooks+=("kill $! 2>/dev/null")
  for i in $(seq 1 150); do
    URL=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$T/$name.err")
    [ -n "$URL" ] && return 0
    sleep 0.1
  done
  bad "$name: serve did not print 'listening on' within 15 s: $(cat "$T/$name.err")"
  finish
}
start_server main
MAIN=$URL
contains "listens on loopback by default" "http://127.0.0.1:" "$MAIN"

Q='Events[*].{EventId:EventId, EventName:EventName, EventTime:EventTime, Username:Username, Resources:Resources}'

# ---- (1) the recipe: time window, --query, text, grep CodeBuild -------------------------
aws cloudtrail lookup-events --endpoint-url "$MAIN" --region us-east-1 --start-time $START --end-time $END \
  --query "$Q" --output text | grep CodeBuild >"$T/r1.aws"
"$BT" search --store "$S" --start-time $START --end-time $END --query "$Q" --output text | grep CodeBuild >"$T/r1.bt"
[ -s "$T/r1.aws" ] && ok || bad "recipe 1: aws printed nothing with CodeBuild"
eq "recipe 1: aws CLI text output = buildtrail search" "$(md5sum <"$T/r1.bt")" "$(md5sum <"$T/r1.aws")"
echo "recipe 1 (aws CLI, first lines):"; head -4 "$T/r1.aws" | cut -c1-150 | sed 's/^/  /'

# full auto-paging by the CLI: every event once, in order
aws cloudtrail lookup-events --endpoint-url "$MAIN" --region us-east-1 --start-time $START --end-time $END \
  --query 'Events[].EventId' --output json | jq -r '.[]' >"$T/all.aws"
bt_ids --start-time $START --end-time $END >"$T/all.bt"
eq "CLI auto-paging: count" "$ALL" "$(wc -l <"$T/all.aws")"
eq "CLI auto-paging: no repeats" "" "$(sort "$T/all.aws" | uniq -d | head -3)"
eq "CLI auto-paging: same ids, same order as search" "$(md5sum <"$T/all.bt")" "$(md5sum <"$T/all.aws")"
# text output pages (one line of ids per page of 50)
eq "CLI text: one line per page of 50" "$(( (ALL + 49) / 50 ))" \
   "$(aws cloudtrail lookup-events --endpoint-url "$MAIN" --start-time $START --end-time $END --query 'Events[].EventId' --output text | wc -l)"

# ---- (2) the variant with --lookup-attributes ResourceName=<project ARN> ---------------
aws cloudtrail lookup-events --endpoint-url "$MAIN" --region us-east-1 --start-time $START --end-time $END \
  --lookup-attributes AttributeKey=ResourceName,AttributeValue="$ARN" \
  --query "$Q" --output text | grep CodeBuild >"$T/r2.aws"
"$BT" search --store "$S" --start-time $START --end-time $END --resource-name "$ARN" --query "$Q" --output text \
  | grep CodeBuild >"$T/r2.bt"
[ -s "$T/r2.aws" ] && ok || bad "recipe 2: aws printed nothing"
eq "recipe 2: aws CLI text output = buildtrail search" "$(md5sum <"$T/r2.bt")" "$(md5sum <"$T/r2.aws")"
echo "recipe 2 (aws CLI, --lookup-attributes ResourceName=$ARN):"; head -4 "$T/r2.aws" | cut -c1-150 | sed 's/^/  /'
bt_ids --start-time $START --end-time $END --resource-name "$ARN" >"$T/r2.bt.ids"
aws cloudtrail lookup-events --endpoint-url "$MAIN" --start-time $START --end-time $END \
  --lookup-attributes AttributeKey=ResourceName,AttributeValue="$ARN" --query 'Events[].EventId' --output json \
  | jq -r '.[]' >"$T/r2.aws.ids"
eq "recipe 2: event ids" "$(cat "$T/r2.bt.ids")" "$(cat "$T/r2.aws.ids")"
if [ -n "$BIG_ARN" ]; then
  eq "CLI paging with a filter and --page-size 7" "$(bt_ids --start-time $START --end-time $END --resource-name "$BIG_ARN")" \
     "$(aws cloudtrail lookup-events --endpoint-url "$MAIN" --start-time $START --end-time $END --page-size 7 \
          --lookup-attributes AttributeKey=ResourceName,AttributeValue="$BIG_ARN" --query 'Events[].EventId' --output json | jq -r '.[]')"
fi

# ---- (3) boto3: the recipe function and the paginator -----------------------------------
eq "recipe 3 (boto3 function): event ids" "$(cat "$T/r2.bt.ids")" "$(py "$MAIN" recipe $START $END "$ARN")"
py "$MAIN" paginate $START $END >"$T/all.py" 2>"$T/py.err"
eq "boto3 paginator: count" "$ALL" "$(wc -l <"$T/all.py")"
eq "boto3 paginator: no repeats" "" "$(sort "$T/all.py" | uniq -d | head -3)"
eq "boto3 paginator: same ids, same order as search" "$(md5sum <"$T/all.bt")" "$(md5sum <"$T/all.py")"
contains "boto3 paginator: pages of 50" "pages $(( (ALL + 49) / 50 ))" "$(cat "$T/py.err")"
eq "boto3 paginator, PageSize 13, EventSource" \
   "$(bt_ids --start-time $START --end-time $END --event-source codebuild.amazonaws.com)" \
   "$(py "$MAIN" paginate $START $END EventSource=codebuild.amazonaws.com --page-size 13 2>/dev/null)"

# ---- (4) AWS SDK for JavaScript v3 ------------------------------------------------------
eq "recipe 3 (JS SDK LookupEventsCommand): event ids" "$(cat "$T/r2.bt.ids")" "$(js "$MAIN" recipe $START $END "$ARN")"
js "$MAIN" paginate $START $END >"$T/all.js" 2>"$T/js.err"
eq "JS paginator: same ids, same order as search" "$(md5sum <"$T/all.bt")" "$(md5sum <"$T/all.js")"
eq "JS SDK: bad MaxResults" "InvalidMaxResultsException 400" "$(js "$MAIN" error '{"MaxResults":51}')"

# ---- extension: several attributes, ANDed ----------------------------------------------
eq "two attributes are ANDed" \
   "$(bt_ids --start-time $START --end-time $END --event-source codebuild.amazonaws.com --username "$(jq -r '.builds[0].trigger.initiator' "$T/gen/ground-truth.json")")" \
   "$(py "$MAIN" paginate $START $END EventSource=codebuild.amazonaws.com Username="$(jq -r '.builds[0].trigger.initiator' "$T/gen/ground-truth.json")" 2>/dev/null)"
eq "ReadOnly=false and EventSource (aws CLI)" \
   "$(bt_ids --start-time $START --end-time $END --event-source codebuild.amazonaws.com --read-only false)" \
   "$(aws cloudtrail lookup-events --endpoint-url "$MAIN" --start-time $START --end-time $END \
        --lookup-attributes AttributeKey=EventSource,AttributeValue=codebuild.amazonaws.com AttributeKey=ReadOnly,AttributeValue=false \
        --query 'Events[].EventId' --output json | jq -r '.[]')"
eq "two values for one key match nothing" "OK 200 0" \
   "$(py "$MAIN" error '{"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"StartBuild"},{"AttributeKey":"EventName","AttributeValue":"StopBuild"}]}')"
eq "EventCategory insight: no Insights events in the data" "OK 200 0" "$(py "$MAIN" error '{"EventCategory":"insight"}')"

# ---- errors -----------------------------------------------------------------------------
eq "InvalidNextTokenException (garbage)" "InvalidNextTokenException 400" "$(py "$MAIN" error '{"NextToken":"not-a-token"}')"
tok=$(aws cloudtrail lookup-events --endpoint-url "$MAIN" --start-time $START --end-time $END --max-results 5 --output json | jq -r .NextToken)
[ -n "$tok" ] && [ "$tok" != null ] && ok || bad "no NextToken with --max-results 5"
eq "NextToken continues with the same parameters" "$(bt_ids --start-time $START --end-time $END --max-items 10 | tail -5)" \
   "$(aws cloudtrail lookup-events --endpoint-url "$MAIN" --start-time $START --end-time $END --max-results 5 --next-token "$tok" --query 'Events[].EventId' --output json | jq -r '.[]')"
eq "NextToken reused with another EndTime" "InvalidNextTokenException 400" \
   "$(py "$MAIN" error "{\"StartTime\":\"$START\",\"EndTime\":\"2026-10-03T00:00:00Z\",\"NextToken\":\"$tok\"}")"
eq "NextToken reused with an attribute added" "InvalidNextTokenException 400" \
   "$(py "$MAIN" error "{\"StartTime\":\"$START\",\"EndTime\":\"$END\",\"NextToken\":\"$tok\",\"LookupAttributes\":[{\"AttributeKey\":\"EventName\",\"AttributeValue\":\"StartBuild\"}]}")"
aws cloudtrail lookup-events --endpoint-url "$MAIN" --start-time $START --end-time 2026-10-03T00:00:00Z --next-token "$tok" >/dev/null 2>"$T/e.err"
eq "aws CLI: reused token exits 254" 254 $?
contains "aws CLI: reused token, the model's message" ": A token that is not valid, or a token that was previously used" "$(cat "$T/e.err")"
contains "aws CLI: reused token message" "(InvalidNextTokenException) when calling the LookupEvents operation" "$(cat "$T/e.err")"
aws cloudtrail lookup-events --endpoint-url "$MAIN" --max-results 51 >/dev/null 2>"$T/e.err"
eq "aws CLI: --max-results 51 exits 254" 254 $?
contains "aws CLI: InvalidMaxResultsException" "(InvalidMaxResultsException)" "$(cat "$T/e.err")"
aws cloudtrail lookup-events --endpoint-url "$MAIN" --start-time $END --end-time $START >/dev/null 2>"$T/e.err"
contains "aws CLI: start after end" ": Occurs if the timestamp values are not valid. Either the start time occurs after the end time" "$(cat "$T/e.err")"
aws cloudtrail lookup-events --endpoint-url "$MAIN" --lookup-attributes AttributeKey=Colour,AttributeValue=blue >/dev/null 2>"$T/e.err"
contains "aws CLI: bad attribute key" "(InvalidLookupAttributesException)" "$(cat "$T/e.err")"
eq "bad ReadOnly value" "InvalidLookupAttributesException 400" "$(py "$MAIN" error '{"LookupAttributes":[{"AttributeKey":"ReadOnly","AttributeValue":"yes"}]}')"
eq "EventCategory other than insight" "InvalidEventCategoryException 400" "$(py "$MAIN" error '{"EventCategory":"management"}')"
aws cloudtrail describe-trails --endpoint-url "$MAIN" >/dev/null 2>"$T/e.err"
contains "other CloudTrail operation" "(UnsupportedOperationException) when calling the DescribeTrails operation" "$(cat "$T/e.err")"

# raw HTTP: status codes, error shape, headers
TGT=com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101
post() { curl -s -m 20 -o "$T/body" -D "$T/hdr" -w '%{http_code}' -X POST "$MAIN/" -H "Content-Type: application/x-amz-json-1.1" "$@"; }
eq "MaxResults 0: 400" 400 "$(post -H "X-Amz-Target: $TGT.LookupEvents" -d '{"MaxResults":0}')"
eq "MaxResults 0: type" InvalidMaxResultsException "$(jq -r .__type "$T/body")"
contains "error responses carry x-amzn-RequestId" "x-amzn-RequestId: " "$(cat "$T/hdr")"
contains "error responses are awsJson 1.1" "Content-Type: application/x-amz-json-1.1" "$(cat "$T/hdr")"
eq "unknown operation: 400" 400 "$(post -H "X-Amz-Target: $TGT.LookupEverything" -d '{}')"
eq "unknown operation: type" "com.amazon.coral.service#UnknownOperationException" "$(jq -r .__type "$T/body")"
eq "no target: 400" 400 "$(post -d '{}')"
eq "malformed JSON: 400" 400 "$(post -H "X-Amz-Target: $TGT.LookupEvents" -d '{"MaxResults": 5')"
eq "malformed JSON: SerializationException" "com.amazon.coral.service#SerializationException" "$(jq -r .__type "$T/body")"
eq "wrong type: SerializationException" 400 "$(post -H "X-Amz-Target: $TGT.LookupEvents" -d '{"StartTime":"yesterday"}')"
head -c 100000 /dev/zero | tr '\0' ' ' >"$T/big"
eq "body over the cap: 413" 413 "$(post -H "X-Amz-Target: $TGT.LookupEvents" --data-binary @"$T/big")"
eq "body over the cap (chunked): 413" 413 "$(post -H "X-Amz-Target: $TGT.LookupEvents" -H 'Transfer-Encoding: chunked' --data-binary @"$T/big")"
eq "fractional epoch times accepted" 200 "$(post -H "X-Amz-Target: $TGT.LookupEvents" -d '{"StartTime":1790812800.5,"EndTime":1791072000.25,"MaxResults":1}')"
eq "EventTime is epoch seconds on the wire" number "$(jq -r '.Events[0].EventTime | type' "$T/body")"
eq "ReadOnly is a string on the wire" string "$(jq -r '.Events[0].ReadOnly | type' "$T/body")"
eq "model order of members" '["EventId","EventName","ReadOnly","AccessKeyId","EventTime","EventSource","Username","Resources","CloudTrailEvent"]' \
   "$(jq -c '.Events[0] | keys_unsorted' "$T/body")"
eq "CloudTrailEvent is the raw record" "$("$BT" search --store "$S" --start-time $START --end-time $END --max-items 1 -o ndjson)" \
   "$(jq -r '.Events[0].CloudTrailEvent' "$T/body")"
eq "GET is not an operation: 404" 404 "$(curl -s -m 20 -o /dev/null -w '%{http_code}' "$MAIN/no-such-page")"
eq "GET / is the web view (it_web.sh)" 200 "$(curl -s -m 20 -o /dev/null -w '%{http_code}' "$MAIN/")"
# the server survived all of the above
eq "still serving" 200 "$(post -H "X-Amz-Target: $TGT.LookupEvents" -d '{"MaxResults":1}')"

# ---- events ingested while serve runs become visible ------------------------------------
NEW=feedface-0000-4000-8000-00000000c0de
printf '{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","userName":"late-user","accountId":"111122223333"},"eventTime":"2026-10-03T23:59:59Z","eventSource":"codebuild.amazonaws.com","eventName":"StartBuild","awsRegion":"us-east-1","requestParameters":{"projectName":"late"},"responseElements":null,"eventID":"%s","readOnly":false,"eventType":"AwsApiCall"}\n' "$NEW" >"$T/late.ndjson"
eq "not there before ingest" "" "$(aws cloudtrail lookup-events --endpoint-url "$MAIN" --lookup-attributes AttributeKey=EventId,AttributeValue=$NEW --query 'Events[].EventId' --output text)"
"$BT" ingest --store "$S" -q "$T/late.ndjson" >/dev/null
eq "visible after ingest (no restart)" "$NEW" "$(aws cloudtrail lookup-events --endpoint-url "$MAIN" --lookup-attributes AttributeKey=EventId,AttributeValue=$NEW --query 'Events[].EventId' --output text)"
eq "newest event is the new one" "$NEW" "$(aws cloudtrail lookup-events --endpoint-url "$MAIN" --max-results 1 --query 'Events[0].EventId' --output text)"

# ---- --auth: SigV4 required -------------------------------------------------------------
printf '# keys for it_serve.sh\nAKIDSERVEAUTH1 s3cr3t/Key+Example1\n\nAKIDSERVEAUTH2 other-secret\n' >"$T/keys"
chmod 600 "$T/keys"
start_server auth --auth "$T/keys" --debug
AUTH=$URL
(
  export AWS_ACCESS_KEY_ID=AKIDSERVEAUTH1 AWS_SECRET_ACCESS_KEY=s3cr3t/Key+Example1
  eq "auth: aws CLI signed request" "$(cat "$T/r2.bt.ids")" \
     "$(aws cloudtrail lookup-events --endpoint-url "$AUTH" --region eu-west-1 --start-time $START --end-time $END \
          --lookup-attributes AttributeKey=ResourceName,AttributeValue="$ARN" --query 'Events[].EventId' --output json | jq -r '.[]')"
  eq "auth: boto3 recipe signed" "$(cat "$T/r2.bt.ids")" "$(py "$AUTH" recipe $START $END "$ARN")"
  eq "auth: JS SDK signed" "$(cat "$T/r2.bt.ids")" "$(js "$AUTH" recipe $START $END "$ARN")"
  echo "$PASS $FAIL" >"$T/sub.counts"
)
read -r PASS FAIL <"$T/sub.counts"
(
  export AWS_ACCESS_KEY_ID=AKIDSERVEAUTH1 AWS_SECRET_ACCESS_KEY=wrong-secret
  aws cloudtrail lookup-events --endpoint-url "$AUTH" --max-results 1 >/dev/null 2>"$T/e.err"
  eq "auth: wrong secret, aws exits 254" 254 $?
  contains "auth: wrong secret, aws error code" "(InvalidSignatureException) when calling the LookupEvents operation" "$(cat "$T/e.err")"
  contains "auth: wrong secret, aws message" ": The request signature we calculated does not match the signature you provided." "$(cat "$T/e.err")"
  eq "auth: wrong secret, boto3 sees 403" "InvalidSignatureException 403" "$(py "$AUTH" error '{"MaxResults":1}')"
  export AWS_ACCESS_KEY_ID=AKIDUNKNOWN
  eq "auth: unknown key, 403" "UnrecognizedClientException 403" "$(py "$AUTH" error '{"MaxResults":1}')"
  echo "$PASS $FAIL" >"$T/sub.counts"
)
read -r PASS FAIL <"$T/sub.counts"
eq "auth: unsigned request, 403" 403 "$(curl -s -m 20 -o "$T/body" -w '%{http_code}' -X POST "$AUTH/" -H "X-Amz-Target: $TGT.LookupEvents" -d '{}')"
eq "auth: unsigned request, type" MissingAuthenticationTokenException "$(jq -r .__type "$T/body")"
# a signature from 20 minutes ago (curl signs with the current time, so sign by hand)
old=$("$PY" "$HERE/sign_old.py" "$AUTH" AKIDSERVEAUTH1 's3cr3t/Key+Example1' 1200)
eq "auth: signature 20 minutes old, 403" "403 InvalidSignatureException" "$old"
eq "auth: signature 10 minutes old is within the skew" "200 OK" \
   "$("$PY" "$HERE/sign_old.py" "$AUTH" AKIDSERVEAUTH2 other-secret 600)"
if grep -q 's3cr3t\|other-secret\|wrong-secret' "$T/auth.err"; then bad "auth: a secret appears in the server log"; else ok; fi
contains "auth: debug log names the key id" "key AKIDSERVEAUTH1" "$(cat "$T/auth.err")"

# ---- clean shutdown ---------------------------------------------------------------------
kill -TERM "$PID_main"
wait "$PID_main"
eq "SIGTERM: exit 0" 0 $?
kill -INT "$PID_auth"
wait "$PID_auth"
eq "SIGINT: exit 0" 0 $?
contains "SIGTERM: says it stops" "SIGTERM, stopping" "$(cat "$T/main.err")"

# ---- usage errors ---------------------------------------------------------------------
status "serve: missing store exits 4" 4 "$BT" serve --store "$T/nope.db" --port 0
status "serve: bad port exits 2" 2 "$BT" serve --store "$S" --port 70000
status "serve: bad listen address exits 2" 2 "$BT" serve --store "$S" --port 0 --listen not-an-ip
printf 'ONLYONEFIELD\n' >"$T/badkeys"
status "serve: malformed auth file exits 2" 2 "$BT" serve --store "$S" --port 0 --auth "$T/badkeys"

finish
