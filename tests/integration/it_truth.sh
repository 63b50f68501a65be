#!/usr/bin/env bash
# it_truth.sh - issue #15, true answers on real-world shapes, each case from records
# written here: a bad record costs only itself (rejected count, --rejects), records
# under another key are said to be unrecognised, fragments follow one rule, search
# --from deduplicates like the store, Logstash @timestamp, assumed-role usernames,
# builds that end without a final state event.
. "$(dirname "$0")/lib.sh"
: "${BT:?}"
need jq
cd "$T" || exit 1
export BUILDTRAIL_STORE="$T/s.db"

rec() { # rec ID TIME [NAME]
  printf '{"eventVersion":"1.08","eventID":"%s","eventTime":"%s","eventName":"%s","eventSource":"s3.amazonaws.com","awsRegion":"us-east-1","recipientAccountId":"111122223333"}' \
    "$1" "$2" "${3:-GetObject}"
}
I1=11111111-1111-4111-8111-111111111111
I2=22222222-2222-4222-8222-222222222222
I3=33333333-3333-4333-8333-333333333333

# ---- case 1: [valid, bogus eventTime, valid] stores both valid ones, rejects one ----
printf '{"Records":[%s,\n%s,\n%s]}\n' "$(rec $I1 2026-01-01T00:00:00Z)" "$(rec $I2 bogus)" \
  "$(rec $I3 2026-01-01T00:00:02Z)" > records.json
printf '[%s,%s,%s]\n' "$(rec $I1 2026-01-01T00:00:00Z)" "$(rec $I2 bogus)" \
  "$(rec $I3 2026-01-01T00:00:02Z)" > array.json
for f in records array; do
  rm -f "$T/s.db"
  status "case 1 $f: exit 3" 3 "$BT" ingest --summary json --rejects "$T/$f.rej" "$f.json"
  eq "case 1 $f: rejected" 1 "$(jq .rejected "$T/.out")"
  eq "case 1 $f: new" 2 "$(jq .new "$T/.out")"
  eq "case 1 $f: stored" "$I3 $I1" "$("$BT" search -o json | jq -r '[.Events[].EventId] | join(" ")')"
  eq "case 1 $f: rejects file" "1 $I2 record" \
    "$(jq -r '"\(.index) \(.record.eventID) \(.reason | sub(".*eventTime"; "record"))"' "$T/$f.rej")"
  eq "case 1 $f: rejects source" "$f.json" "$(jq -r .source "$T/$f.rej")"
done
contains "case 1: text summary" "rejected 1" "$("$BT" ingest -f array.json 2>/dev/null)"

# ---- case 3: records under another key, and fragments ----
rm -f "$T/s.db"
printf '[{"Name":"rule fixture","Log":%s}]\n' "$(rec $I1 2026-01-01T00:00:00Z)" > fixture.json
status "case 3: records under another key: exit 3" 3 "$BT" ingest fixture.json
contains "case 3: said" "no CloudTrail records recognised" "$(cat "$T/.err")"
printf '{"eventName":"X","eventSource":"s3.amazonaws.com"}\n' > frag1.json
printf '{"eventVersion":"1.08","eventName":"X","eventSource":"s3.amazonaws.com"}\n' > frag2.json
# in a directory walk such a file is skipped (a manifest), its value counted as ignored
mkdir -p walk && cp fixture.json walk/ && cp records.json walk/
status "case 3: walked, skipped" 3 "$BT" ingest --summary json walk
eq "case 3: walked: not an error beside the rejected record" "1 1 2" \
  "$(jq -r '"\(.ignored_values) \(.errors) \(.new)"' "$T/.out")"
for f in frag1 frag2; do
  status "case 3 $f: exit 3" 3 "$BT" ingest --summary json "$f.json"
  eq "case 3 $f: rejected" 1 "$(jq .rejected "$T/.out")"
done

# ---- case 4: search --from drops duplicate deliveries as the store does ----
mkdir -p dup
printf '{"Records":[%s,%s]}\n' "$(rec $I1 2026-01-01T00:00:00Z StartBuild)" \
  "$(rec legacy-id-7 2026-01-01T00:00:01Z StartBuild)" > dup/a.json
cp dup/a.json dup/b.json
printf '{"Records":[%s]}\n' "$(rec $I2 2026-01-01T00:00:02Z StopBuild)" > dup/c.json
rm -f "$T/s.db"
"$BT" ingest -q dup >/dev/null 2>&1
for f in "" "--event-name StartBuild" "--event-id $I1" "--max-items 2"; do
  # shellcheck disable=SC2086
  eq "case 4: --from and the store agree [$f]" \
    "$("$BT" search $f -o json | jq -c '[.Events[].EventId]')" \
    "$("$BT" search --from dup $f -o json | jq -c '[.Events[].EventId]')"
done
eq "case 4: each id once" 3 "$("$BT" search --from dup -o json | jq '.Events | length')"
# two copies of one event that differ in their bytes (an EventBridge copy is
# re-serialised): the shorter is kept, whichever file is read first
mkdir -p dup2
printf '{"Records":[%s]}\n' "$(rec $I3 2026-01-01T00:00:03Z StartBuild)" > dup2/a.json
printf '{"Records":[%s]}\n' "$(rec $I3 2026-01-01T00:00:03Z StartBuild | sed 's/{"eventVersion"/{ "eventVersion"/; s/}$/, "x": 1 }/')" > dup2/b.json
short=$(jq -c '.Records[0]' dup2/a.json)
for order in "dup2/a.json dup2/b.json" "dup2/b.json dup2/a.json" "dup2"; do
  # shellcheck disable=SC2086
  eq "case 4: the shorter copy kept [$order]" "$short" \
    "$("$BT" search $(printf -- '--from %s ' $order) -o ndjson)"
  # shellcheck disable=SC2086
  eq "case 4: the same with --reverse [$order]" "$short" \
    "$("$BT" search $(printf -- '--from %s ' $order) --reverse -o ndjson)"
done

# ---- case 2: Logstash/Elastic exports: @timestamp for eventTime, the bytes kept ----
L='{"@version":"1","@timestamp":"2026-02-03T04:05:06.789Z","eventVersion":"1.08","eventID":"55555555-5555-4555-8555-555555555555","eventName":"CreateUser","eventSource":"iam.amazonaws.com","awsRegion":"us-east-1","recipientAccountId":"111122223333"}'
printf '%s\n' "$L" > logstash.ndjson
rm -f "$T/s.db"
status "case 2: a Logstash export loads" 0 "$BT" ingest -q logstash.ndjson
eq "case 2: its time" "2026-02-03T04:05:06.789000+00:00" \
  "$(TZ=UTC "$BT" search -o json | jq -r '.Events[0].EventTime')"
eq "case 2: byte-exact" "$L" "$("$BT" search -o ndjson)"

# ---- case 9: an assumed-role ARN with no session part: the session from principalId ----
printf '%s\n' '{"eventVersion":"1.08","eventID":"66666666-6666-4666-8666-666666666666","eventTime":"2026-02-03T04:05:06Z","eventName":"ListBuckets","eventSource":"s3.amazonaws.com","awsRegion":"us-east-1","recipientAccountId":"111122223333","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLEID:deploy-bot","arn":"arn:aws:sts::111122223333:assumed-role/Deployer","accountId":"111122223333"}}' \
  '{"eventVersion":"1.08","eventID":"77777777-7777-4777-8777-777777777777","eventTime":"2026-02-03T04:05:07Z","eventName":"ListBuckets","eventSource":"s3.amazonaws.com","awsRegion":"us-east-1","recipientAccountId":"111122223333","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLEID:other","arn":"arn:aws:sts::111122223333:assumed-role/Deployer/ci-session","accountId":"111122223333"}}' > roles.ndjson
rm -f "$T/s.db"
"$BT" ingest -q roles.ndjson >/dev/null 2>&1
eq "case 9: usernames" "ci-session deploy-bot" "$("$BT" search -o json | jq -r '[.Events[].Username] | join(" ")')"
eq "case 9: a username lookup finds it" "66666666-6666-4666-8666-666666666666" \
  "$("$BT" search --username deploy-bot -o json | jq -r '.Events[].EventId')"

# ---- case 6: CloudTrailEvent compact as the service sends it, stored bytes exact ----
printf '{\n  "Records": [\n    {\n      "eventVersion": "1.08",\n      "eventID": "88888888-8888-4888-8888-888888888888",\n      "eventTime": "2026-02-03T04:05:06Z",\n      "eventName": "StartBuild",\n      "eventSource": "codebuild.amazonaws.com",\n      "userAgent": "aws-cli/2.0 Python/3.11 \\" q",\n      "awsRegion": "us-east-1"\n    }\n  ]\n}\n' > pretty.json
rm -f "$T/s.db"
"$BT" ingest -q pretty.json >/dev/null 2>&1
C='{"eventVersion":"1.08","eventID":"88888888-8888-4888-8888-888888888888","eventTime":"2026-02-03T04:05:06Z","eventName":"StartBuild","eventSource":"codebuild.amazonaws.com","userAgent":"aws-cli/2.0 Python/3.11 \" q","awsRegion":"us-east-1"}'
eq "case 6: store, compact" "$C" "$("$BT" search -o json | jq -r '.Events[0].CloudTrailEvent')"
eq "case 6: --from, compact" "$C" "$("$BT" search --from pretty.json -o json | jq -r '.Events[0].CloudTrailEvent')"
eq "case 6: one line in --output text" 1 "$("$BT" search -o text | wc -l | tr -d ' ')"
eq "case 6: the stored bytes are exact" "$(sed -n '3,11p' pretty.json | sed '1s/^    //')" "$("$BT" search -o ndjson)"

# ---- case 7: Insights events: name and source from insightDetails ----
need curl
INS='{"eventVersion":"1.08","eventTime":"2026-02-03T04:00:00Z","awsRegion":"us-east-1","eventID":"99999999-9999-4999-8999-999999999999","eventType":"AwsCloudTrailInsight","recipientAccountId":"111122223333","sharedEventID":"12345678-1234-4234-8234-123456789012","insightDetails":{"state":"Start","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","insightType":"ApiCallRateInsight","insightContext":{"statistics":{"baseline":{"average":0.1},"insight":{"average":2.5}}}},"eventCategory":"Insight"}'
printf '%s\n%s\n' "$INS" "$(rec $I3 2026-02-03T04:00:01Z RunInstances)" > insights.ndjson
rm -f "$T/s.db"
"$BT" ingest -q insights.ndjson >/dev/null 2>&1
"$BT" serve --store "$T/s.db" --port 0 2>"$T/serve.err" &
SPID=$!
cleanup_hooks+=("kill $SPID 2>/dev/null")
URL=
for _ in $(seq 1 150); do
  URL=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$T/serve.err"); [ -n "$URL" ] && break; sleep 0.1
done
lookup() {
  curl -s -m 20 -X POST "$URL/" -H "Content-Type: application/x-amz-json-1.1" \
    -H "X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents" -d "$1"
}
eq "case 7: insight: EventName and EventSource" '["RunInstances","ec2.amazonaws.com"]' \
  "$(lookup '{"EventCategory":"insight"}' | jq -c '.Events[0] | [.EventName, .EventSource]')"
eq "case 7: an EventName lookup finds it" "99999999-9999-4999-8999-999999999999" \
  "$(lookup '{"EventCategory":"insight","LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"RunInstances"}]}' | jq -r '.Events[].EventId')"
eq "case 7: an EventSource lookup finds it" "99999999-9999-4999-8999-999999999999" \
  "$(lookup '{"EventCategory":"insight","LookupAttributes":[{"AttributeKey":"EventSource","AttributeValue":"ec2.amazonaws.com"}]}' | jq -r '.Events[].EventId')"
eq "case 7: management events leave it out" "$I3" \
  "$(lookup '{"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"RunInstances"}]}' | jq -r '.Events[].EventId')"
eq "case 7: search --insights" "99999999-9999-4999-8999-999999999999 RunInstances" \
  "$("$BT" search --insights -o json | jq -r '.Events[] | "\(.EventId) \(.EventName)"')"
eq "case 7: search --from --insights" "99999999-9999-4999-8999-999999999999" \
  "$("$BT" search --from insights.ndjson --insights -o json | jq -r '.Events[].EventId')"
eq "case 7: info counts them apart" "1 1" "$("$BT" info -o json | jq -r '"\(.ApiEvents) \(.InsightsEvents)"')"
contains "case 7: info text" "1 Insights events" "$("$BT" info)"
kill $SPID 2>/dev/null

# ---- case 8: builds that end without a final state event; phases ----
U1=aaaaaaaa-bbbb-4ccc-8ddd-000000000001
U2=aaaaaaaa-bbbb-4ccc-8ddd-000000000002
ev() { # ev ID TIME UUID DETAIL-TYPE DETAIL-MEMBERS
  printf '{"version":"0","id":"%s","detail-type":"%s","source":"aws.codebuild","account":"111122223333","time":"%s","region":"us-east-1","resources":[],"detail":{"project-name":"web","build-id":"arn:aws:codebuild:us-east-1:111122223333:build/web:%s",%s}}\n' \
    "$1" "$4" "$2" "$3" "$5"
}
ph() { # ph ID TIME UUID PHASE STATUS
  ev "$1" "$2" "$3" "CodeBuild Build Phase Change" "\"completed-phase\":\"$4\",\"completed-phase-status\":\"$5\",\"additional-information\":{\"initiator\":\"alice\"}"
}
{
  ev s1 2026-01-01T00:00:00Z $U1 "CodeBuild Build State Change" '"build-status":"IN_PROGRESS","additional-information":{"initiator":"alice","build-start-time":"Jan 1, 2026 12:00:00 AM"}'
  # PRE_BUILD arrives before INSTALL in the same second
  ph p1 2026-01-01T00:00:05Z $U1 PRE_BUILD SUCCEEDED
  ph p2 2026-01-01T00:00:05Z $U1 INSTALL SUCCEEDED
  ph p3 2026-01-01T00:00:20Z $U1 BUILD FAILED
  ph p4 2026-01-01T00:00:30Z $U1 FINALIZING SUCCEEDED
  ev f2 2026-01-02T00:01:00Z $U2 "CodeBuild Build State Change" '"build-status":"FAILED","additional-information":{"initiator":"GitHub-Hookshot/abc","build-start-time":"Jan 2, 2026 12:00:00 AM","phases":[{"phase-context":[],"start-time":"Jan 2, 2026 12:00:00 AM","end-time":"Jan 2, 2026 12:00:01 AM","duration-in-seconds":1,"phase-type":"SUBMITTED","phase-status":"SUCCEEDED"},{"phase-context":["COMMAND_EXECUTION_ERROR: Error while executing command: make. Reason: exit status 2"],"start-time":"Jan 2, 2026 12:00:10 AM","end-time":"Jan 2, 2026 12:00:40 AM","duration-in-seconds":30,"phase-type":"BUILD","phase-status":"FAILED"},{"phase-context":[],"start-time":"Jan 2, 2026 12:00:01 AM","end-time":"Jan 2, 2026 12:00:10 AM","duration-in-seconds":9,"phase-type":"INSTALL","phase-status":"SUCCEEDED"},{"start-time":"Jan 2, 2026 12:01:00 AM","phase-type":"COMPLETED"}]}'
} > builds.ndjson
rm -f "$T/s.db"
TZ=UTC "$BT" ingest -q builds.ndjson >/dev/null 2>&1
b1=$(TZ=UTC "$BT" builds -o json | jq -c --arg u $U1 '.Builds[] | select(.Uuid == $u) | [.Outcome, .OutcomeSource, .EndTime, .Trigger.Type, .Trigger.Inferred]')
eq "case 8: the end inferred from the phases; an initiator is not a webhook" \
  '["FAILED","phases","2026-01-01T00:00:30+00:00","user",true]' "$b1"
TZ=UTC "$BT" build $U1 -o json > b1.json
eq "case 8: phase events of one second in CodeBuild's sequence" "INSTALL PRE_BUILD BUILD FINALIZING" \
  "$(jq -r '[.Events[] | select(.Kind == "phase") | .Phase] | join(" ")' b1.json)"
eq "case 8: phases from the phase events: start, end, duration" \
  '{"Phase":"BUILD","Status":"FAILED","StartTime":"2026-01-01T00:00:05+00:00","EndTime":"2026-01-01T00:00:20+00:00","DurationSeconds":15,"Contexts":[]}' \
  "$(jq -c '.Phases[] | select(.Phase == "BUILD")' b1.json)"
TZ=UTC "$BT" build $U1 > b1.txt
contains "case 8: said inferred" "inferred from the phase events" "$(cat b1.txt)"
contains "case 8: a phase line shows start, end and duration" \
  "[phase] BUILD FAILED  started 2026-01-01T00:00:05+00:00, ended 2026-01-01T00:00:20+00:00, 15 s" "$(cat b1.txt)"
TZ=UTC "$BT" build $U2 -o json > b2.json
eq "case 8: the final state event's phases[], in sequence" "SUBMITTED INSTALL BUILD COMPLETED" \
  "$(jq -r '[.Phases[].Phase] | join(" ")' b2.json)"
eq "case 8: a listed phase: times, duration, contexts" \
  '{"Phase":"BUILD","Status":"FAILED","StartTime":"2026-01-02T00:00:10+00:00","EndTime":"2026-01-02T00:00:40+00:00","DurationSeconds":30,"Contexts":["COMMAND_EXECUTION_ERROR: Error while executing command: make. Reason: exit status 2"]}' \
  "$(jq -c '.Phases[] | select(.Phase == "BUILD")' b2.json)"
eq "case 8: the final state event's outcome" '["FAILED","eventbridge","webhook"]' \
  "$(jq -c '.Build | [.Outcome, .OutcomeSource, .Trigger.Type]' b2.json)"

finish
