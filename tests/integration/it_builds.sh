#!/usr/bin/env bash
# it_builds.sh - `builds` reconstructs every generated build as the generator's ground
# truth describes it: trigger (type, caller, pipeline, retry, batch), calls and errors of
# its role session, stop and outcome; including webhook builds with no StartBuild record
# and builds whose records arrive in later files. (A webhook build seen only through its
# role session leaves no record of its source version: expected unknown there.)
. "$(dirname "$0")/lib.sh"
need jq
: "${BT:?}" "${BT_BIN_DIR:?}"
GEN="$BT_BIN_DIR/bt-gen"
[ -x "$GEN" ] || { echo "SKIP: bt-gen not built"; exit 77; }

for seed in 3 11; do
  A="$T/a$seed"; S="$T/s$seed.db"
  "$GEN" --out "$A" --seed "$seed" --events 30000 --eventbridge --accounts 2 --days 2 >/dev/null 2>&1 || bad "bt-gen seed $seed"
  "$BT" ingest -q --store "$S" "$A" >/dev/null || bad "ingest seed $seed"
  truth="$A/ground-truth.json"
  "$BT" builds --store "$S" --output json --query 'Builds[?!Batch]' > "$T/b.json"
  # the fields the issue names, one line per build, sorted by uuid
  jq -r '.builds[] | [.uuid, .project, .trigger.type, (.trigger.principal_arn // "-"), (.trigger.pipeline // "-"),
         (.trigger.retry_of // "-"), .calls, .errors, (.stopped_by // "-"), (.outcome // "-"),
         (if .start_record == null and (.eventbridge | not) then "-" else (.source_version // "-") end)] | @tsv' \
     "$truth" | sort > "$T/truth.tsv"
  jq -r '.[] | [.Uuid, .Project, .Trigger.Type, (if .Trigger.Inferred then "-" else (.Trigger.Principal // "-") end),
         (.Trigger.Pipeline // "-"), (.Trigger.RetryOf // "-"), .Calls, .Errors, (.StoppedBy // "-"), (.Outcome // "-"),
         (.SourceVersion // "-")] | @tsv' \
     "$T/b.json" | sort > "$T/mine.tsv"
  n=$(wc -l < "$T/truth.tsv")
  [ "$n" -gt 50 ] && ok || bad "seed $seed: only $n builds generated"
  if diff "$T/truth.tsv" "$T/mine.tsv" > "$T/diff"; then ok; else
    bad "seed $seed: builds differ from ground truth ($(grep -c '^[<>]' "$T/diff") lines)"; head -10 "$T/diff" >&2; fi
  # the generator made every kind of build the issue names
  for kind in user pipeline webhook retry batch; do
    c=$(jq --arg k "$kind" '[.builds[] | select(.trigger.type == $k)] | length' "$truth")
    [ "$c" -gt 0 ] && ok || bad "seed $seed: no $kind builds generated"
  done
  late=$(jq '[.builds[] | select(.late_records > 0)] | length' "$truth")
  [ "$late" -gt 0 ] && ok || bad "seed $seed: no build with late records"
  nostart=$(jq '[.builds[] | select(.start_record == null)] | length' "$truth")
  [ "$nostart" -gt 0 ] && ok || bad "seed $seed: no build without a StartBuild record"
  # filters
  f=$(jq '[.builds[] | select(.outcome == "FAILED")] | length' "$truth")
  eq "seed $seed: --status FAILED" "$f" "$("$BT" builds --store "$S" --status FAILED --output json --query 'length(Builds[?!Batch])')"
  p=$(jq -r '.builds[0].project' "$truth")
  pc=$(jq --arg p "$p" '[.builds[] | select(.project == $p)] | length' "$truth")
  eq "seed $seed: --project" "$pc" "$("$BT" builds --store "$S" --project "$p" --output json --query 'length(Builds[?!Batch])')"
  w=$(jq '[.builds[] | select(.trigger.type == "webhook")] | length' "$truth")
  eq "seed $seed: --trigger webhook" "$w" "$("$BT" builds --store "$S" --trigger webhook --output json --query 'length(Builds)')"
  # the timeline of builds that had project changes, errors, stops: the facts agree
  jq -r '[.builds[] | select((.project_changes | length) > 0 or .errors > 0 or .stopped_by != null)] | .[0:25][] | .uuid' \
     "$truth" > "$T/sample"
  [ "$(wc -l < "$T/sample")" -ge 10 ] && ok || bad "seed $seed: too few interesting builds"
  while read -r u; do
    "$BT" build --store "$S" "$u" --output json > "$T/tl.json" || { bad "build $u: exit $?"; continue; }
    want=$(jq -c --arg u "$u" '.builds[] | select(.uuid == $u) | [.calls, .errors, (.stopped_by // null),
           ([.project_changes[] | [.event_name, .by]] | sort)]' "$truth")
    got=$(jq -c --argjson w "$(jq -c --arg u "$u" '[.builds[] | select(.uuid == $u) | .project_changes[] | [.event_name, .by]]' "$truth")" \
          '[.Build.Calls, (.Errors | length), (.Stops[0].By // null),
            ([.ProjectChanges[] | [.EventName, .By]] | map(select(. as $c | $w | index([$c]))) | sort)]' "$T/tl.json")
    eq "seed $seed: timeline of $u" "$want" "$got"
    # every call in the timeline that the build made is counted once
    eq "seed $seed: timeline calls of $u" "$(jq '.Build.Calls' "$T/tl.json")" "$(jq '[.Events[] | select(.Kind == "call")] | length' "$T/tl.json")"
  done < "$T/sample"
done
status "build: unknown build" 5 "$BT" build --store "$S" 00000000-0000-4000-8000-00000000dead
status "build: not an id" 2 "$BT" build --store "$S" yesterday
status "builds: bad trigger" 2 "$BT" builds --store "$S" --trigger carrier-pigeon
finish
