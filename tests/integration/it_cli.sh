#!/usr/bin/env bash
# it_cli.sh - end-to-end checks of ingest / search / info on the shared samples and on
# hand-made inputs: container recognition, counts against jq, duplicates, re-ingest,
# corrupt input, exit codes, errors, and the man page staying in sync with --help.
. "$(dirname "$0")/lib.sh"
need jq
: "${BT:?}"
S="$T/store.db"
export BUILDTRAIL_STORE="$S"

# ---- the shared samples: every record loads -------------------------------------
if [ -n "${BT_SHARED_DIR:-}" ] && [ -d "$BT_SHARED_DIR/samples" ]; then
  SAMP="$BT_SHARED_DIR/samples"
  out=$("$BT" ingest --summary json "$SAMP" 2>"$T/err")
  code=$?
  eq "samples ingest exit (some inputs unreadable)" 3 "$code"
  # expected records: CloudTrail records in the docs/elastic/ocsf .raw samples, plus the
  # CodeBuild EventBridge events (other detail-types are ignored)
  exp_docs=$(wc -l < "$SAMP/awsdocs_aws-cloudtrail-user-guide/cloudtrail-log-file-examples.records.jsonl")
  exp_eb=$(cat "$SAMP"/BlockChainCompany_code-pipeline-slack/*.jsonl "$SAMP"/awsdocs_aws-codebuild-user-guide/eventbridge_*.json \
           | jq -s '[.[] | select(."detail-type" | test("^CodeBuild Build (State|Phase) Change$"))] | length')
  exp_elastic=$(cat "$SAMP"/elastic_integrations/pipeline/*.log | jq -s '[.[] | select(has("eventVersion") or has("eventID"))] | length')
  exp_ocsf=$(ls "$SAMP"/ocsf_examples/*.raw | wc -l)
  exp=$((exp_docs + exp_eb + exp_elastic + exp_ocsf + 1)) # + the CodeBuild CreateProject doc example
  eq "samples: records" "$exp" "$(echo "$out" | jq .records)"
  eq "samples: digests" 1 "$(echo "$out" | jq .digests)"
  # the text files (SOURCES.txt) are skipped; the .ocsf files are not valid JSON
  eq "samples: not JSON skipped" "$(ls "$SAMP"/*/SOURCES.txt | wc -l)" "$(echo "$out" | jq .not_json)"
  bad_ocsf=0
  for f in "$SAMP"/ocsf_examples/*.ocsf; do jq empty "$f" >/dev/null 2>&1 || bad_ocsf=$((bad_ocsf + 1)); done
  eq "samples: errors (the .ocsf files jq rejects too)" "$bad_ocsf" "$(echo "$out" | jq .errors)"
  # distinct ids: duplicates in the samples are counted, one copy kept
  n=$("$BT" info --output json --query Events)
  eq "samples: stored = new" "$(echo "$out" | jq .new)" "$n"
  # CodeBuild build status events are searchable by build
  got=$("$BT" search --build 8d2c7ba5-5e2b-4e0c-8b0f-d3d58ea4ba6f --output json | jq '.Events | length')
  exp=$(cat "$SAMP"/BlockChainCompany_code-pipeline-slack/*.jsonl | jq -s '[.[] | select((.detail["build-id"] // "") | endswith("8d2c7ba5-5e2b-4e0c-8b0f-d3d58ea4ba6f"))] | length')
  eq "samples: events of one build" "$exp" "$got"
  # a second ingest reads nothing new
  out2=$("$BT" ingest --summary json "$SAMP" 2>/dev/null)
  # only the files that failed are read again
  eq "samples re-ingest: files read" "$(echo "$out" | jq .errors)" "$(echo "$out2" | jq .files)"
  eq "samples re-ingest: unchanged" "$(( $(find "$SAMP" -type f ! -name '.*' | wc -l) - $(echo "$out" | jq .errors) ))" "$(echo "$out2" | jq .unchanged)"
else
  echo "note: ../shared/samples absent; sample checks not run"
fi

# ---- hand-made inputs ---------------------------------------------------------------
mk() { # id time name user [extra]
  printf '{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","userName":"%s","accountId":"111122223333","accessKeyId":"AKIA%s"},"eventTime":"%s","eventSource":"codebuild.amazonaws.com","eventName":"%s","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.9","requestParameters":{"projectName":"demo"},"responseElements":null,"eventID":"%s","readOnly":false%s}' \
    "$4" "$4" "$2" "$3" "$1" "${5:-}"
}
D="$T/in"; mkdir -p "$D/sub"
{ printf '{"Records":['; mk 11111111-0000-4000-8000-000000000001 2026-10-01T10:00:00Z StartBuild alice; printf ','
  mk 11111111-0000-4000-8000-000000000002 2026-10-01T10:05:00Z StopBuild bob; printf ']}'; } | gzip > "$D/a.json.gz"
{ mk 11111111-0000-4000-8000-000000000002 2026-10-01T10:05:00Z StopBuild bob; echo
  mk 11111111-0000-4000-8000-000000000003 2026-10-01T10:10:00Z UpdateProject alice ',"errorCode":"AccessDenied"'; echo; } > "$D/sub/b.ndjson"
printf '[%s]' "$(mk 11111111-0000-4000-8000-000000000004 2026-10-01T10:20:00Z BatchGetBuilds carol)" > "$D/sub/c.weird-extension"
head -c 100 "$D/a.json.gz" > "$D/sub/truncated.json.gz"
echo 'this is not json' > "$D/sub/README.txt"
printf '{"Records":[{"eventID": oops}]}' > "$D/sub/garbage.json"
S2="$T/s2.db"
"$BT" ingest --store "$S2" --summary json "$D" > "$T/sum" 2> "$T/err"
eq "corrupt inputs: exit 3" 3 $?
eq "records" 5 "$(jq .records "$T/sum")"
eq "new" 4 "$(jq .new "$T/sum")"
eq "duplicate" 1 "$(jq .duplicate "$T/sum")"
eq "errors" 2 "$(jq .errors "$T/sum")"
contains "truncated file named" "truncated.json.gz" "$(cat "$T/err")"
contains "garbage file named" "garbage.json" "$(cat "$T/err")"
eq "one line per bad file" 2 "$(grep -c '^buildtrail: ' "$T/err")"
eq "README skipped, not an error" 1 "$(jq .not_json "$T/sum")"
status "a named non-JSON file is an error" 3 "$BT" ingest --store "$T/s3.db" "$D/sub/README.txt"
# newest first, LookupEvents shape
eq "newest first" "BatchGetBuilds UpdateProject StopBuild StartBuild" \
   "$("$BT" search --store "$S2" | jq -r '[.Events[].EventName] | join(" ")')"
eq "ReadOnly is a string" '"false"' "$("$BT" search --store "$S2" --max-items 1 | jq '.Events[0].ReadOnly')"
eq "CloudTrailEvent is the raw record" "$(mk 11111111-0000-4000-8000-000000000004 2026-10-01T10:20:00Z BatchGetBuilds carol)" \
   "$("$BT" search --store "$S2" --max-items 1 | jq -r '.Events[0].CloudTrailEvent')"
eq "ndjson is raw" "$(mk 11111111-0000-4000-8000-000000000001 2026-10-01T10:00:00Z StartBuild alice)" \
   "$("$BT" search --store "$S2" --event-name StartBuild -o ndjson)"
# filters: OR within, AND across
eq "OR within one filter" 2 "$("$BT" search --store "$S2" --event-name StartBuild --event-name StopBuild | jq '.Events|length')"
eq "AND across filters" 1 "$("$BT" search --store "$S2" --event-name StartBuild --event-name UpdateProject --username alice --errors | jq '.Events|length')"
eq "time range inclusive" 2 "$("$BT" search --store "$S2" --start-time 2026-10-01T10:05:00Z --end-time 2026-10-01T10:10:00Z | jq '.Events|length')"
eq "max-items" 3 "$("$BT" search --store "$S2" --max-items 3 | jq '.Events|length')"
eq "resource by project ARN" 4 "$("$BT" search --store "$S2" --resource-name arn:aws:codebuild:us-east-1:111122223333:project/demo | jq '.Events|length')"
eq "empty result" '{"Events":[]}' "$("$BT" search --store "$S2" --username nobody | jq -c .)"
# search --from gives what the store gives
for f in "--event-name StopBuild" "--username alice" "--errors" "--start-time 2026-10-01T10:06:00Z" ""; do
  # shellcheck disable=SC2086
  a=$("$BT" search --store "$S2" $f -o ndjson)
  # shellcheck disable=SC2086
  b=$("$BT" search --from "$D" $f -o ndjson 2>/dev/null | awk '!seen[$0]++')
  eq "search --from = store [$f]" "$a" "$b"
done
# the scan's prefilter never hides a match written with escapes
printf '{"Records":[{"eventVersion":"1.08","eventTime":"2026-10-01T11:00:00Z","eventSource":"codebuild.amazonaws.com","eventName":"StartB\\u0075ild","eventID":"esc-1","awsRegion":"us-east-1"},{"eventVersion":"1.08","eventTime":"2026-10-01T11:00:01Z","eventSource":"codebuild.amazonaws.com","eventName":"StopBuild","eventID":"esc-2","awsRegion":"us-east-1"}]}' > "$T/esc.json"
eq "prefilter: escaped match found" esc-1 "$("$BT" search --from "$T/esc.json" --event-name StartBuild -o ndjson | jq -r .eventID)"
eq "prefilter: records still counted" 2 "$("$BT" search --from "$T/esc.json" --event-name StartBuild --debug 2>&1 >/dev/null | sed -n 's/.*, \([0-9]*\) records.*/\1/p')"
eq "--from stdin" 2 "$(zcat "$D/a.json.gz" | "$BT" search --from - | jq '.Events|length')"
# a lookup-events style file ingests the embedded records
"$BT" search --store "$S2" > "$T/lookup.json"
eq "lookup-events output re-ingests" 4 "$("$BT" search --from "$T/lookup.json" | jq '.Events|length')"

# ---- hints and errors -----------------------------------------------------------------
"$BT" search --store "$S2" --event-name BuildPhaseChange > /dev/null 2> "$T/err"
contains "BuildPhaseChange hint" "EventBridge" "$(cat "$T/err")"
"$BT" search --store "$S2" --event-name StartBuilds > /dev/null 2> "$T/err"
contains "near-miss hint" "did you mean 'StartBuild'" "$(cat "$T/err")"
status "unknown option" 2 "$BT" search --nope
status "bad time" 2 "$BT" search --store "$S2" --start-time yesterdayish
contains "bad time names the value" "'yesterdayish'" "$(cat "$T/.err")"
status "bad query" 2 "$BT" search --store "$S2" --query 'Events[?'
contains "bad query gives the column" "column" "$(cat "$T/.err")"
eq "errors are one line" 1 "$(wc -l < "$T/.err")"
status "bad output" 2 "$BT" search --store "$S2" --output xml
status "missing store" 4 "$BT" search --store "$T/nope.db"
echo '{"x":1}' > "$T/notastore.db"
status "not a store" 4 "$BT" search --store "$T/notastore.db"
eq "not a store: left untouched" '{"x":1}' "$(cat "$T/notastore.db")"
status "no path" 2 "$BT" ingest --store "$S2"
status "missing path" 2 "$BT" ingest --store "$S2" "$T/does-not-exist"
status "unknown command" 2 "$BT" frobnicate
eq "store mode 0600" 600 "$(stat -c %a "$S2")"

# ---- --query: a per-event projection streams; it must print what the whole query prints
# (`Events | [...]` is the same query in a shape that is evaluated over the whole list)
for q in '[].EventName' '[?EventName==`StopBuild`].{N:EventName,U:Username}' '[*].Resources[].ResourceName' \
         '[?ReadOnly==`"false"`].[EventTime, EventId]' '[?contains(EventName, `Build`)] | length(@)'; do
  for fmt in json text table yaml csv; do
    a=$("$BT" search --store "$S2" -o "$fmt" --query "Events$q" 2>&1)
    b=$("$BT" search --store "$S2" -o "$fmt" --query "Events | $q" 2>&1)
    eq "query streams = whole [$fmt Events$q]" "$b" "$a"
  done
done
status "query runtime error" 2 "$BT" search --store "$S2" --query 'Events[].abs(EventName)'

# ---- info ---------------------------------------------------------------------------------
eq "info events" 4 "$("$BT" info --store "$S2" --output json | jq .Events)"
eq "info first" '"2026-10-01T10:00:00Z"' "$("$BT" info --store "$S2" --output json | jq .First)"

# ---- libcurl and libmicrohttpd are loaded only when a command needs the network -------------
# (it_lookup, it_s3, it_serve and it_watch* run the commands that load them)
if command -v ldd >/dev/null; then
  eq "the program does not link libcurl or libmicrohttpd" 0 \
    "$(ldd "$BT" | grep -c -E 'libcurl|libmicrohttpd')"
fi
LD_DEBUG=files "$BT" search --store "$S2" --output json > /dev/null 2> "$T/ld"
eq "search over a store: exit 0" 0 $?
contains "the loader's trace was written" "file=" "$(cat "$T/ld")"
eq "search over a store loads neither libcurl nor libmicrohttpd" 0 \
  "$(grep -c -E 'file=(libcurl|libmicrohttpd)' "$T/ld")"
AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=not-a-secret AWS_REGION=us-east-1 \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null LD_DEBUG=files \
  "$BT" lookup --endpoint-url http://127.0.0.1:9 --max-items 1 > /dev/null 2> "$T/ld"
ne "lookup (to a closed port) loads libcurl" 0 "$(grep -c 'file=libcurl' "$T/ld")"

# ---- help and the man page come from the same tables --------------------------------------
if [ -n "${BT_SOURCE_DIR:-}" ]; then
  "$BT" help --man > "$T/man"
  if diff -u "$BT_SOURCE_DIR/docs/buildtrail.1" "$T/man" > "$T/mandiff"; then ok; else
    bad "docs/buildtrail.1 is stale: regenerate with 'buildtrail help --man > docs/buildtrail.1'"; head -20 "$T/mandiff" >&2; fi
fi
for c in ingest search info help; do
  "$BT" "$c" --help > "$T/h" || bad "$c --help exit"
  contains "$c --help usage" "usage: buildtrail $c" "$(cat "$T/h")"
done
finish
