#!/usr/bin/env bash
# it_hunt.sh - `buildtrail hunt` and `search --rule` end to end: a bt-gen archive with
# the CodeBuild attack scenarios (--attacks) is ingested; `hunt --rules builtin` over
# the store and over the files (--from) must report exactly the alerts of the
# generator's ground truth (pack_alerts: true positives, and the near-miss records that
# must not alert); events byte-exact; bad rule files stop everything with one line and
# exit 2; output formats; `search --rule`; the pack found from an install.
source "$(dirname "$0")/lib.sh"
need jq
need python3
BT=${BT:-build/buildtrail}
BIN=${BT_BIN_DIR:-$(dirname "$BT")}
SRC=${BT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CMP="$SRC/tests/integration/hunt/compare.py"
BAD="$SRC/tests/rules/bad"
PACK="$SRC/rules/codebuild"

"$BIN/bt-gen" --out "$T/arch" --events 20000 --seed 7 --eventbridge --attacks 2>/dev/null
TRUTH="$T/arch/ground-truth.json"
status "ingest" 0 "$BT" ingest --store "$T/s.db" -q "$T/arch"

# --- alerts against the ground truth, store and files ---
status "hunt store" 0 "$BT" hunt --rules builtin --store "$T/s.db" -o ndjson
cp "$T/.out" "$T/store.ndjson"
status "hunt store = truth" 0 python3 "$CMP" "$TRUTH" "$T/store.ndjson"
[ "$FAIL" -eq 0 ] || cat "$T/.out" >&2
status "hunt --from" 0 "$BT" hunt --rules builtin --from "$T/arch" -o ndjson
cp "$T/.out" "$T/files.ndjson"
status "hunt --from = truth" 0 python3 "$CMP" "$TRUTH" "$T/files.ndjson"
# same alerts both ways (events in a correlation at the same millisecond may be listed
# in another order: compared sorted)
norm() { jq -c 'if .event_ids then .event_ids |= sort else . end' "$1"; }
eq "store and --from agree" "$(norm "$T/store.ndjson" | md5sum)" "$(norm "$T/files.ndjson" | md5sum)"
# one thread or many: the same output
status "hunt --from --threads 1" 0 "$BT" hunt --rules builtin --from "$T/arch" -o ndjson --threads 1
eq "--threads 1 same" "$(norm "$T/files.ndjson" | md5sum)" "$(norm "$T/.out" | md5sum)"
# a time filter: --from still learns every build from the records before it (one pass,
# the filter applied to what is evaluated), as the store knows them from its builds
mid=$(jq -r '.event_time' "$T/store.ndjson" | sort | awk '{a[NR]=$0} END {print a[int(NR/2)]}')
status "hunt store --start-time" 0 "$BT" hunt --rules builtin --store "$T/s.db" -o ndjson --start-time "$mid"
cp "$T/.out" "$T/store-late.ndjson"
status "hunt --from --start-time" 0 "$BT" hunt --rules builtin --from "$T/arch" -o ndjson --start-time "$mid"
eq "--start-time: store and --from agree" "$(norm "$T/store-late.ndjson" | md5sum)" "$(norm "$T/.out" | md5sum)"
late=$(jq -r --arg m "$mid" 'select(.event_time >= $m) | .event_id // (.event_ids | join(","))' "$T/store.ndjson" | wc -l)
eq "--start-time keeps the later alerts" "$late" "$(wc -l < "$T/.out" | tr -d ' ')"
ne "--start-time drops the earlier ones" "$late" "$(wc -l < "$T/store.ndjson" | tr -d ' ')"
contains "--start-time: a build's session after its end" '"build_id":"' "$(grep -m1 AWSCodeBuild- "$T/.out")"

# keys, and each event byte-exact as the store holds it (raw JSON, not a string)
first=$(grep -m1 '"event":' "$T/store.ndjson")
eq "alert keys" 'rule_id,rule_title,level,event_id,event_time,account,region,build_id,event' \
  "$(printf '%s' "$first" | jq -r 'keys_unsorted|join(",")')"
eq "event is an object" object "$(printf '%s' "$first" | jq -r '.event|type')"
n=0; same=0
while IFS= read -r line; do
  id=$(printf '%s' "$line" | jq -r .event_id)
  raw=$(printf '%s' "$line" | python3 -c 'import sys; l=sys.stdin.read().rstrip("\n"); print(l[l.index(",\"event\":")+9:-1])')
  stored=$("$BT" search --store "$T/s.db" --event-id "$id" -o ndjson)
  n=$((n + 1)); [ "$raw" == "$stored" ] && same=$((same + 1))
done < <(grep '"event":' "$T/store.ndjson" | head -8)
eq "events byte-exact" "$n" "$same"
corr=$(jq -c 'select(.event_ids)' "$T/store.ndjson" | head -1)
eq "correlation alert keys" 'rule_id,rule_title,level,event_time,account,region,build_id,event_ids' \
  "$(printf '%s' "$corr" | jq -r 'keys_unsorted|join(",")')"
contains "correlation names its build" ":" "$(printf '%s' "$corr" | jq -r .build_id)"
eq "no alert from the building block" 0 \
  "$(jq -r 'select(.rule_id=="1b4d1cec-b726-4805-9b3b-46a4d0988323")' "$T/store.ndjson" | wc -l)"

# --- filters narrow what is evaluated ---
status "hunt --event-name" 0 "$BT" hunt --rules builtin --store "$T/s.db" -o ndjson --event-name DeleteWebhook
eq "filtered alerts" "$(jq -r 'select(.event.eventName=="DeleteWebhook")|.event_id' "$T/store.ndjson" | sort)" \
  "$(jq -r .event_id "$T/.out" | sort)"
status "hunt --max-items" 0 "$BT" hunt --rules builtin --store "$T/s.db" -o ndjson --max-items 2
eq "--max-items" 2 "$(wc -l < "$T/.out")"

# --- output formats ---
total=$(wc -l < "$T/store.ndjson")
status "json" 0 "$BT" hunt --rules builtin --store "$T/s.db" -o json
eq "json array" "$total" "$(jq length "$T/.out")"
eq "json = ndjson" "$(jq -c . "$T/store.ndjson" | md5sum)" "$(jq -c '.[]' "$T/.out" | md5sum)"
status "json, no alert" 0 "$BT" hunt --rules builtin --store "$T/s.db" -o json --event-name NoSuchCall
eq "json, no alert: an empty array" "[]" "$(cat "$T/.out")"
status "default is json" 0 "$BT" hunt --rules builtin --store "$T/s.db"
eq "default json" "$total" "$(jq length "$T/.out")"
status "table" 0 "$BT" hunt --rules builtin --store "$T/s.db" -o table
contains "table title" "Alerts" "$(head -3 "$T/.out")"
status "text" 0 "$BT" hunt --rules builtin --store "$T/s.db" -o text
eq "text rows" "$total" "$(grep -c '^ALERTS' "$T/.out")"
status "text --query" 0 "$BT" hunt --rules builtin --store "$T/s.db" -o text --query 'Alerts[].Level'
status "yaml refused" 2 "$BT" hunt --rules builtin --store "$T/s.db" -o yaml
status "--query with ndjson refused" 2 "$BT" hunt --rules builtin --store "$T/s.db" -o ndjson --query 'x'

# --- a record over --max-record-size: refused, counted, said, exit 3; the rest evaluated ---
python3 - "$T/big" <<'PY'
import json, os, sys
os.makedirs(sys.argv[1], exist_ok=True)
def rec(i, pad):
    return {"eventVersion": "1.08", "eventID": "00000000-0000-4000-8000-00000000000%d" % i,
            "eventTime": "2026-10-01T00:00:0%dZ" % i, "eventSource": "codebuild.amazonaws.com",
            "eventName": "StartBuild", "awsRegion": "us-east-1", "recipientAccountId": "111122223333",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/u"},
            "requestParameters": {"projectName": "p", "buildspecOverride": "version: 0.2 " + "x" * pad}}
with open(os.path.join(sys.argv[1], "t.json"), "w") as f:
    json.dump({"Records": [rec(1, 10), rec(2, 1200000)]}, f)
PY
status "hunt --from, a record too large" 3 "$BT" hunt --rules builtin --from "$T/big" -o ndjson
contains "too large: said" "1 records larger than 1048576 bytes refused (--max-record-size)" "$(cat "$T/.err")"
eq "too large: the other one alerts" "00000000-0000-4000-8000-000000000001" "$(jq -r .event_id "$T/.out" | sort -u)"
status "hunt --from --max-record-size" 0 "$BT" hunt --rules builtin --from "$T/big" -o ndjson --max-record-size 4194304
eq "--max-record-size: both alert" "2" "$(jq -r .event_id "$T/.out" | sort -u | wc -l)"

# --- bad rules: one line naming file, rule and problem; exit 2; nothing evaluated ---
for f in "$BAD"/*.yml; do
  status "bad $(basename "$f")" 2 "$BT" hunt --rules builtin --rules "$f" --store "$T/s.db" -o ndjson
  eq "bad $(basename "$f"): one line" 1 "$(wc -l < "$T/.err")"
  contains "bad $(basename "$f"): names the file" "$(basename "$f")" "$(cat "$T/.err")"
  eq "bad $(basename "$f"): no output" 0 "$(wc -c < "$T/.out")"
  status "bad $(basename "$f") --from" 2 "$BT" hunt --rules "$f" --from "$T/arch"
done
contains "regex message" "does not compile" "$("$BT" hunt --rules "$BAD/bad_regex.yml" --store "$T/s.db" 2>&1)"
contains "modifier message" "unknown modifier 'sounds_like'" "$("$BT" hunt --rules "$BAD/unknown_modifier.yml" --store "$T/s.db" 2>&1)"
contains "correlation message" "unknown rule" "$("$BT" hunt --rules "$BAD/unknown_correlation_rule.yml" --store "$T/s.db" 2>&1)"
status "no --rules" 2 "$BT" hunt --store "$T/s.db"
status "missing rule file" 2 "$BT" hunt --rules "$T/nope.yml" --store "$T/s.db"
status "no store" 4 "$BT" hunt --rules builtin --store "$T/none.db"
BUILDTRAIL_RULES_DIR="$T/nowhere" status "bad BUILDTRAIL_RULES_DIR" 2 "$BT" hunt --rules builtin --store "$T/s.db"

# --- one rule file, a directory ---
status "rule file" 0 "$BT" hunt --rules "$PACK/05_source_credentials_policies.yml" --store "$T/s.db" -o ndjson
eq "rule file alerts" "$(jq -r '.pack_alerts[]|select(.rule_number==5)|.event_id' "$TRUTH" | sort)" \
  "$(jq -r .event_id "$T/.out" | sort)"
status "rule directory" 0 "$BT" hunt --rules "$PACK" --store "$T/s.db" -o ndjson
eq "directory = builtin" "$(md5sum < "$T/store.ndjson")" "$(md5sum < "$T/.out")"

# --- search --rule ---
status "search --rule" 0 "$BT" search --store "$T/s.db" --rule "$PACK/05_source_credentials_policies.yml" -o ndjson
eq "search --rule events" "$(jq -r '.pack_alerts[]|select(.rule_number==5)|.event_id' "$TRUTH" | sort)" \
  "$(jq -r .eventID "$T/.out" | sort)"
status "search --rule --from" 0 "$BT" search --from "$T/arch" --rule "$PACK/05_source_credentials_policies.yml" -o ndjson
eq "search --rule --from events" "$(jq -r '.pack_alerts[]|select(.rule_number==5)|.event_id' "$TRUTH" | sort)" \
  "$(jq -r .eventID "$T/.out" | sort -u)"
status "search --rule --max-items" 0 "$BT" search --store "$T/s.db" --rule builtin --max-items 3 -o ndjson
eq "search --rule --max-items" 3 "$(wc -l < "$T/.out")"
status "search --rule bad" 2 "$BT" search --store "$T/s.db" --rule "$BAD/unknown_modifier.yml"
status "search without --rule" 0 "$BT" search --store "$T/s.db" --event-name StartBuild -o ndjson
eq "search output unchanged by the option" "$(jq -r '.by_event_name.StartBuild' "$TRUTH")" "$(wc -l < "$T/.out")"

# --- the pack from an install tree ---
if cmake --install "$BIN" --prefix "$T/inst" >/dev/null 2>&1; then
  status "installed builtin" 0 "$T/inst/bin/buildtrail" hunt --rules builtin --store "$T/s.db" -o ndjson
  eq "installed = build tree" "$(md5sum < "$T/store.ndjson")" "$(md5sum < "$T/.out")"
  eq "installed rule files" 8 "$(ls "$T/inst/share/buildtrail/rules/codebuild" | wc -l)"
else
  bad "cmake --install failed"
fi
finish
