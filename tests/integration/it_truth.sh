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

finish
