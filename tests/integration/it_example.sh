#!/usr/bin/env bash
# it_example.sh - examples/build_timeline.c, built against the public headers only, prints
# the timeline of generated builds as `buildtrail build <id> --output json` and the
# generator's ground truth say: outcome, trigger, calls and failures per service.
. "$(dirname "$0")/lib.sh"
need jq
: "${BT:?}" "${BT_BIN_DIR:?}"
GEN="$BT_BIN_DIR/bt-gen"
EX="$BT_BIN_DIR/example-build-timeline"
[ -x "$GEN" ] || { echo "SKIP: bt-gen not built"; exit 77; }
[ -x "$EX" ] || { echo "SKIP: example-build-timeline not built"; exit 77; }
export TZ=UTC

# the example includes nothing but the public headers
src="${BT_SOURCE_DIR:-$(dirname "$0")/../..}/examples/build_timeline.c"
eq "example: public headers only" "" "$(grep '^#include "' "$src" | grep -v '^#include "buildtrail/')"

A="$T/a"; S="$T/s.db"
"$GEN" --out "$A" --seed 7 --events 8000 --eventbridge --accounts 1 --days 1 >/dev/null 2>&1 || bad "bt-gen"
"$BT" ingest -q --store "$S" "$A" >/dev/null || bad "ingest"
truth="$A/ground-truth.json"
# builds with failures, with a StartBuild record, and one without
for u in $(jq -r '[.builds[] | select(.errors > 0 and .start_record == "StartBuild")][:3][].uuid,
                  [.builds[] | select(.start_record == null)][:1][].uuid' "$truth"); do
  "$EX" "$S" "$u" >"$T/ex.txt" || { bad "example on $u: exit $?"; continue; }
  "$BT" build --store "$S" "$u" --output json >"$T/tl.json" || { bad "build $u: exit $?"; continue; }
  eq "$u: build" "$(jq -r '"\(.Build.BuildId)\t\(.Build.Project)"' "$T/tl.json")" "$(sed -n 's/^build\t//p' "$T/ex.txt")"
  eq "$u: trigger" "$(jq -r '"\(.Build.Trigger.Type)\t\(.Build.Trigger.Principal // "-")"' "$T/tl.json")" \
    "$(sed -n 's/^trigger\t//p' "$T/ex.txt")"
  eq "$u: started" "$(jq -r 'if .Trigger.EventName then "\(.Trigger.EventName)\t\(.Trigger.By)\t\(.Trigger.Overrides | length) overrides" else "" end' "$T/tl.json")" \
    "$(sed -n 's/^started\t//p' "$T/ex.txt")"
  eq "$u: outcome" "$(jq -r '.Build.Outcome // "unknown"' "$T/tl.json")" "$(sed -n 's/^outcome\t//p' "$T/ex.txt")"
  eq "$u: outcome (truth)" "$(jq -r --arg u "$u" '.builds[] | select(.uuid == $u) | .outcome // "unknown"' "$truth")" \
    "$(sed -n 's/^outcome\t//p' "$T/ex.txt")"
  eq "$u: calls (truth)" "$(jq -r --arg u "$u" '.builds[] | select(.uuid == $u) | "\(.calls)\t\(.errors)"' "$truth")" \
    "$(sed -n 's/^calls\t//p' "$T/ex.txt")"
  eq "$u: services" "$(jq -r '.Services[] | "\(.EventSource)\t\(.Calls)\t\(.Errors)"' "$T/tl.json")" \
    "$(sed -n 's/^service\t//p' "$T/ex.txt")"
  eq "$u: errors" "$(jq -r '.Errors[] | "\(.EventSource)\t\(.EventName)\t\(.ErrorCode)"' "$T/tl.json")" \
    "$(sed -n 's/^error\t//p' "$T/ex.txt")"
  eq "$u: error codes (truth)" "$(jq -r --arg u "$u" '.builds[] | select(.uuid == $u) | .error_codes | to_entries[] | "\(.key) \(.value)"' "$truth" | sort)" \
    "$(sed -n 's/^error\t//p' "$T/ex.txt" | cut -f3 | sort | uniq -c | awk '{print $2, $1}' | sort)"
done
status "example: unknown build" 5 "$EX" "$S" 00000000-0000-4000-8000-00000000dead
finish
