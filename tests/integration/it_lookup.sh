#!/usr/bin/env bash
# it_lookup.sh - `buildtrail lookup` against real peers on loopback: `buildtrail serve`
# over a generated store (the events must equal what `buildtrail search` finds, for
# attributes, ANDed attributes and search filters, paging and resume tokens,
# --store, several regions), a fault-injecting proxy (throttling, 5xx, resets,
# truncated bodies, cut JSON, slow replies: every run returns exactly the expected
# events, no duplicates, no gaps), exit codes and messages as the AWS CLI's, no
# secret under --debug, and /usr/bin/aws side by side on the same endpoint (the
# transcript is kept in $BT_BIN_DIR/lookup-side-by-side.txt).
. "$(dirname "$0")/lib.sh"
: "${BT:?}"
need jq
need python3
need curl
GEN=${BT_BIN_DIR:?}/bt-gen
[ -x "$GEN" ] || { echo "SKIP: $GEN not built"; exit 77; }
HERE=$(cd "$(dirname "$0")" && pwd)/lookup
HAVE_AWS=0
[ -x /usr/bin/aws ] && HAVE_AWS=1

export HOME="$T/home" TZ=UTC AWS_EC2_METADATA_DISABLED=true AWS_PAGER=
export AWS_ACCESS_KEY_ID=AKIDLOOKUPTEST AWS_SECRET_ACCESS_KEY=SeCrEtLoOkUp0123456789abcdefSECRET
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE \
      AWS_ENDPOINT_URL AWS_ENDPOINT_URL_CLOUDTRAIL AWS_CA_BUNDLE AWS_DEFAULT_OUTPUT AWS_MAX_ATTEMPTS
mkdir -p "$HOME"
# serve does not throttle: most calls here lift the 2 req/s limiter to keep the test short
lk() { timeout 120 "$BT" lookup --rate 0 "$@"; }

# ---- a store of generated events, served -------------------------------------------------
S="$T/store.db"
"$GEN" --out "$T/gen" --events 1200 --days 2 --seed 7 --accounts 1 --regions us-east-1 >"$T/gen.log" 2>&1 ||
  { bad "bt-gen failed: $(tail -2 "$T/gen.log")"; finish; }
"$BT" ingest --store "$S" -q "$T/gen" >/dev/null || { bad "ingest failed"; finish; }

# start_serve NAME ARGS...: serve on a free port; sets URL
start_serve() {
  local name=$1 i
  shift
  "$BT" serve --store "$S" --port 0 "$@" 2>"$T/$name.err" &
  cleanup_hooks+=("kill $! 2>/dev/null")
  for i in $(seq 1 100); do
    URL=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$T/$name.err")
    [ -n "$URL" ] && return 0
    sleep 0.1
  done
  bad "$name: serve did not start: $(cat "$T/$name.err")"
  finish
}
# start_faulty NAME UPSTREAM ARGS...: the fault proxy; sets FURL
start_faulty() {
  local name=$1 up=$2 i
  shift 2
  python3 "$HERE/faulty.py" --upstream "$up" --port-file "$T/$name.port" --log "$T/$name.log" \
    --lifetime 600 "$@" >"$T/$name.out" 2>&1 &
  cleanup_hooks+=("kill $! 2>/dev/null")
  for i in $(seq 1 100); do
    [ -s "$T/$name.port" ] && break
    sleep 0.1
  done
  [ -s "$T/$name.port" ] || { bad "$name: proxy did not start: $(cat "$T/$name.out")"; finish; }
  FURL="http://127.0.0.1:$(cat "$T/$name.port")"
}
start_serve serve
SERVE=$URL
START=2026-10-01T00:00:00Z
END=2026-10-03T00:00:00Z

# ids_search ARGS: ground truth from the store; ids_lookup ARGS: through the API
ids_search() { "$BT" search --store "$S" --start-time $START --end-time $END "$@" --query 'Events[].EventId' --output json | jq -r '.[]'; }
ids_lookup() { lk --endpoint-url "$SERVE" --start-time $START --end-time $END "$@" --query 'Events[].EventId' --output json | jq -r '.[]'; }
same_ids() { # NAME SEARCH-ARGS -- LOOKUP-ARGS
  local name=$1 a=() b=()
  shift
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do a+=("$1"); shift; done
  shift
  b=("$@")
  ids_search "${a[@]}" >"$T/exp"
  ids_lookup "${b[@]}" >"$T/got"
  if cmp -s "$T/exp" "$T/got" && [ -s "$T/exp" ]; then ok; else
    bad "$name: lookup gave $(wc -l <"$T/got") events, search $(wc -l <"$T/exp"): $(diff "$T/exp" "$T/got" | head -3)"
  fi
}

ALL=$(ids_search | wc -l)
[ "$ALL" -gt 1000 ] && ok || bad "expected > 1000 events, got $ALL"
same_ids "everything, newest first" --
same_ids "everything, pages of 7" -- --page-size 7
same_ids "one attribute (service side)" --event-source codebuild.amazonaws.com -- \
  --lookup-attributes AttributeKey=EventSource,AttributeValue=codebuild.amazonaws.com
same_ids "attribute in JSON form" --event-source codebuild.amazonaws.com -- \
  --lookup-attributes '[{"AttributeKey":"EventSource","AttributeValue":"codebuild.amazonaws.com"}]'
echo '[{"AttributeKey":"EventSource","AttributeValue":"codebuild.amazonaws.com"}]' >"$T/attrs.json"
same_ids "attribute from file://" --event-source codebuild.amazonaws.com -- \
  --lookup-attributes "file://$T/attrs.json"
# a user with events in several services
U1=$("$BT" search --store "$S" --output json --query 'Events[?Username!=null].Username' | jq -r 'group_by(.) | max_by(length) | .[0]')
SRC1=$("$BT" search --store "$S" --username "$U1" --output json --query 'Events[].EventSource' | jq -r 'group_by(.) | max_by(length) | .[0]')
same_ids "two attributes ANDed" --username "$U1" --event-source "$SRC1" -- \
  --lookup-attributes "AttributeKey=Username,AttributeValue=$U1" \
  --lookup-attributes "AttributeKey=EventSource,AttributeValue=$SRC1"
same_ids "two attributes in one list ANDed" --username "$U1" --event-source "$SRC1" -- \
  --lookup-attributes "AttributeKey=EventSource,AttributeValue=$SRC1" "AttributeKey=Username,AttributeValue=$U1"
same_ids "--event-name with an attribute" --event-source codebuild.amazonaws.com --event-name StartBuild -- \
  --lookup-attributes AttributeKey=EventSource,AttributeValue=codebuild.amazonaws.com --event-name StartBuild
same_ids "search filters: two event names ORed, --errors" --event-name StartBuild --event-name StopBuild -- \
  --event-name StartBuild --event-name StopBuild
same_ids "search filters: --errors" --errors -- --errors
BUILD=$(jq -r '.builds[0].build_id' "$T/gen/ground-truth.json")
same_ids "search filters: --build" --build "$BUILD" -- --build "$BUILD"
same_ids "--read-only false and an event source" --read-only false --event-source codebuild.amazonaws.com -- \
  --read-only false --event-source codebuild.amazonaws.com
# --debug says which went where
lk --endpoint-url "$SERVE" --lookup-attributes AttributeKey=EventSource,AttributeValue=codebuild.amazonaws.com \
  --username "$U1" --errors --debug --max-items 1 >/dev/null 2>"$T/dbg"
contains "debug: the service gets the most selective" "sent to the service: Username=$U1 (from --username)" "$(cat "$T/dbg")"
contains "debug: the rest applied here" "applied here: EventSource=codebuild.amazonaws.com (from --lookup-attributes) AND --errors (on the record)" "$(cat "$T/dbg")"

# ---- paging: --max-items and --starting-token chain through everything -------------------
: >"$T/chain"
tok=
for i in $(seq 1 400); do
  lk --endpoint-url "$SERVE" --start-time $START --end-time $END --max-items 97 --page-size 10 \
     ${tok:+--starting-token "$tok"} --output json >"$T/page.json" || { bad "chain step $i failed"; break; }
  jq -r '.Events[].EventId' "$T/page.json" >>"$T/chain"
  tok=$(jq -r '.NextToken // empty' "$T/page.json")
  [ -n "$tok" ] || break
done
ids_search >"$T/exp"
if cmp -s "$T/exp" "$T/chain"; then ok; else bad "--max-items 97 chain: $(wc -l <"$T/chain") ids vs $(wc -l <"$T/exp")"; fi
# the same chain with a local filter (cuts fall inside pages)
: >"$T/chain"
tok=
for i in $(seq 1 400); do
  lk --endpoint-url "$SERVE" --start-time $START --end-time $END --max-items 5 --page-size 20 --read-only false \
     ${tok:+--starting-token "$tok"} --output json >"$T/page.json" || { bad "filtered chain step $i failed"; break; }
  jq -r '.Events[].EventId' "$T/page.json" >>"$T/chain"
  tok=$(jq -r '.NextToken // empty' "$T/page.json")
  [ -n "$tok" ] || break
done
ids_search --read-only false >"$T/exp"
if cmp -s "$T/exp" "$T/chain"; then ok; else bad "filtered chain: $(wc -l <"$T/chain") ids vs $(wc -l <"$T/exp")"; fi

# ---- --store saves what was fetched -------------------------------------------------------
lk --endpoint-url "$SERVE" --start-time $START --end-time $END --store "$T/saved.db" --output json \
  --lookup-attributes AttributeKey=EventSource,AttributeValue=codebuild.amazonaws.com >/dev/null
eq "--store: what was fetched is stored" "$(ids_search --event-source codebuild.amazonaws.com | sort)" \
  "$("$BT" search --store "$T/saved.db" --query 'Events[].EventId' --output json | jq -r '.[]' | sort)"

# ---- several regions in parallel (the same endpoint answers each) ---------------------------
n=$(lk --endpoint-url "$SERVE" --start-time $START --end-time $END --region us-east-1,eu-west-1 \
      --event-name StartBuild --output json | jq '.Events | length')
eq "two regions: each region's events, merged" "$(( $(ids_search --event-name StartBuild | wc -l) * 2 ))" "$n"
first=$(lk --endpoint-url "$SERVE" --start-time $START --end-time $END --region us-east-1,eu-west-1 \
      --event-name StartBuild --output json --query 'Events[].EventTime' | jq -r '.[]')
eq "two regions: newest first" "$(echo "$first" | sort -r)" "$first"

# ---- faults: every run returns exactly the expected events ----------------------------------
ids_search >"$T/exp"
run_faults() { # NAME PLAN [lookup args]
  local name=$1 plan=$2
  shift 2
  start_faulty "$name" "$SERVE" --plan "$plan" --slow 2
  timeout 300 "$BT" lookup --endpoint-url "$FURL" --start-time $START --end-time $END --rate 0 \
    --cli-read-timeout 1 --output json --query 'Events[].EventId' "$@" 2>"$T/$name.stderr" |
    jq -r '.[]' >"$T/got"
  if cmp -s "$T/exp" "$T/got"; then ok; else
    bad "$name: $(wc -l <"$T/got") events (expected $(wc -l <"$T/exp")), $(sort "$T/got" | uniq -d | wc -l) duplicates; $(head -c 300 "$T/$name.stderr")"
  fi
  eq "$name: no duplicates" 0 "$(sort "$T/got" | uniq -d | wc -l)"
  # every page request after a failure repeats the exact same parameters
  eq "$name: faults were injected" 1 "$(jq -r .step "$T/$name.log" | grep -vc '^ok$' | awk '{print ($1>0)}')"
}
run_faults faults-mixed throttle,ok,500,ok,reset,ok,truncate,ok,cutjson,ok,slow,ok,503,ok --page-size 50
run_faults faults-double throttle,throttle,ok,reset,503,ok,cutjson,truncate,ok --page-size 25
run_faults faults-text throttle,ok,ok,500,ok,truncate,ok --page-size 40
# text output through faults: the per-page lines hold the same events
timeout 300 "$BT" lookup --endpoint-url "$FURL" --start-time $START --end-time $END --rate 0 --cli-read-timeout 1 \
  --page-size 40 --output text --query 'Events[].EventId' 2>/dev/null | tr '\t' '\n' | grep -v '^$' >"$T/got"
if cmp -s "$T/exp" "$T/got"; then ok; else bad "text through faults: $(wc -l <"$T/got") vs $(wc -l <"$T/exp")"; fi
# a request retried after a fault carries the same NextToken and parameters as the failed
# one: every request body that failed was later answered with the same body
python3 - "$T/faults-mixed.log" <<'EOF' && ok || bad "a failed request was not retried with the same parameters"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
good = {r["body"] for r in rows if r["status"] == 200}
sys.exit(0 if all(r["body"] in good for r in rows) else 1)
EOF
# a service that keeps failing: the AWS CLI's message with the retry count, exit 254
start_faulty always-throttle "$SERVE" --plan throttle
status "throttled to the end: exit 254" 254 timeout 60 "$BT" lookup --endpoint-url "$FURL" --rate 0 --max-items 1
eq "throttled to the end: the AWS CLI's message" \
  "An error occurred (ThrottlingException) when calling the LookupEvents operation (reached max retries: 2): Rate exceeded" \
  "$(sed -n 2p "$T/.err")"
# the client-side limiter keeps a rate-limited endpoint from ever throttling
start_faulty limited "$SERVE" --rate 2
timeout 60 "$BT" lookup --endpoint-url "$FURL" --start-time $START --end-time $END --page-size 50 --max-items 500 --output json >/dev/null
eq "2 req/s limiter: no throttling at a 2 req/s endpoint" 0 "$(grep -c '"rate"' "$T/limited.log")"

# ---- exit codes and messages ---------------------------------------------------------------
status "usage: --no-paginate with --max-items is 252" 252 "$BT" lookup --endpoint-url "$SERVE" --no-paginate --max-items 3
eq "usage message" "Cannot specify --no-paginate along with pagination arguments: --max-items" "$(sed -n 2p "$T/.err")"
status "usage: unknown option is 252" 252 "$BT" lookup --nope
status "usage: bad query is 252" 252 "$BT" lookup --endpoint-url "$SERVE" --query 'Events[?'
status "usage: --page-size 0 is 252" 252 "$BT" lookup --endpoint-url "$SERVE" --page-size 0
status "service error is 254" 254 "$BT" lookup --endpoint-url "$SERVE" --event-category nope
contains "service error message" "An error occurred (InvalidEventCategoryException) when calling the LookupEvents operation: " "$(cat "$T/.err")"
status "bad token is 254" 254 "$BT" lookup --endpoint-url "$SERVE" --starting-token garbage
status "no region is 253" 253 env -u AWS_REGION -u AWS_DEFAULT_REGION "$BT" lookup --endpoint-url "$SERVE"
contains "no region message" "You must specify a region." "$(cat "$T/.err")"
status "no credentials is 253" 253 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$BT" lookup --endpoint-url "$SERVE"
contains "no credentials message" "Unable to locate credentials." "$(cat "$T/.err")"
status "missing profile is 255" 255 "$BT" lookup --endpoint-url "$SERVE" --profile nope
eq "missing profile message" "The config profile (nope) could not be found" "$(sed -n 2p "$T/.err")"
status "nothing listening is 255" 255 "$BT" lookup --endpoint-url http://127.0.0.1:9 --cli-connect-timeout 2
eq "nothing listening message" 'Could not connect to the endpoint URL: "http://127.0.0.1:9/"' "$(sed -n 2p "$T/.err")"

# ---- signed requests: serve --auth checks the signature -------------------------------------
printf '%s %s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$T/keys"
start_serve auth --auth "$T/keys"
AUTH=$URL
status "signed: accepted" 0 "$BT" lookup --endpoint-url "$AUTH" --max-items 2
status "wrong secret: 254" 254 env AWS_SECRET_ACCESS_KEY=wrong-secret-0000 "$BT" lookup --endpoint-url "$AUTH" --max-items 2
contains "wrong secret: the service's error" "An error occurred (" "$(cat "$T/.err")"

# ---- secrets never printed, also under --debug ----------------------------------------------
AWS_SESSION_TOKEN=ToKeNsEcReT0123456789 "$BT" lookup --endpoint-url "$SERVE" --debug --max-items 60 --page-size 30 \
  >/dev/null 2>"$T/debug.log"
[ -s "$T/debug.log" ] && ok || bad "--debug printed nothing"
for s in "$AWS_SECRET_ACCESS_KEY" ToKeNsEcReT0123456789 "Signature=[0-9a-f]{64}"; do
  if grep -Eq -- "$s" "$T/debug.log" "$T/.err" 2>/dev/null; then bad "a secret ($s) was printed"; else ok; fi
done
contains "--debug shows the signature redacted" "Signature=<redacted>" "$(cat "$T/debug.log")"

# ---- side by side with /usr/bin/aws on the same endpoint -------------------------------------
if [ "$HAVE_AWS" = 1 ]; then
  TR="${BT_BIN_DIR}/lookup-side-by-side.txt"
  : >"$TR"
  side() {
    local a b ra rb
    /usr/bin/aws cloudtrail lookup-events --endpoint-url "$SERVE" "$@" >"$T/a.out" 2>"$T/a.err"; ra=$?
    "$BT" lookup --endpoint-url "$SERVE" "$@" >"$T/b.out" 2>"$T/b.err"; rb=$?
    {
      echo "\$ aws cloudtrail lookup-events --endpoint-url \$URL $*   # exit $ra"
      head -12 "$T/a.out"; head -3 "$T/a.err"
      echo "\$ buildtrail lookup --endpoint-url \$URL $*   # exit $rb"
      head -12 "$T/b.out"; head -3 "$T/b.err"
      if cmp -s "$T/a.out" "$T/b.out" && [ $ra = $rb ]; then echo "=> identical ($(wc -c <"$T/a.out") bytes, exit $ra)"; else echo "=> DIFFERENT"; fi
      echo
    } >>"$TR"
    if cmp -s "$T/a.out" "$T/b.out" && [ $ra = $rb ]; then ok; else bad "side by side differs: $*"; fi
  }
  side --lookup-attributes AttributeKey=EventName,AttributeValue=StartBuild --max-items 2 --query 'Events[].[EventTime,Username,EventName]' --output table
  side --lookup-attributes AttributeKey=EventSource,AttributeValue=codebuild.amazonaws.com --page-size 3 --max-items 7 --output text --query 'Events[].EventName'
  side --start-time $START --end-time 2026-10-01T06:00:00Z --max-items 3 --output json --query '{ids: Events[].EventId, next: NextToken}'
  side --lookup-attributes AttributeKey=EventName,AttributeValue=StopBuild --output text
  side --event-category bogus
  side --no-paginate --max-results 2 --query 'Events[].EventId' --output yaml
  echo "side-by-side transcript: $TR"
else
  echo "note: /usr/bin/aws absent; side-by-side checks not run"
fi
finish
