#!/usr/bin/env bash
# it_ingest.sh - ingest of a generated archive matches its ground truth; kill -9 in the
# middle of an ingest leaves a consistent store, and re-running completes it with
# nothing lost and nothing duplicated; re-ingest reads nothing; search --from and the
# store agree.
. "$(dirname "$0")/lib.sh"
need jq
need sqlite3
: "${BT:?}" "${BT_BIN_DIR:?}"
GEN="$BT_BIN_DIR/bt-gen"
SQL="$BT_BIN_DIR/bt-sql" # SQL with the table `events` (the sqlite3 shell lacks it since schema 13)
[ -x "$GEN" ] || { echo "SKIP: bt-gen not built"; exit 77; }
A="$T/archive"
"$GEN" --out "$A" --seed 5 --events 60000 --eventbridge --org o-abcd123456 --corrupt >/dev/null 2>&1 || bad "bt-gen"
truth="$A/ground-truth.json"

# the log files without the corrupt ones the generator planted (jq stops at the first)
(cd "$A" && find AWSLogs -path '*/CloudTrail/*' -name '*.json.gz' | sort) > "$T/all"
jq -r '.corrupt_files[]' "$truth" | sort > "$T/corrupt"
comm -23 "$T/all" "$T/corrupt" | sed "s|^|$A/|" > "$T/good"
# the ids in the archive, computed without buildtrail
xargs zcat < "$T/good" | jq -r '.Records[].eventID' | sort -u > "$T/ids.archive"
eq "archive ids = ground truth unique events" "$(jq .unique_events "$truth")" "$(wc -l < "$T/ids.archive")"

# one clean run
S1="$T/clean.db"
"$BT" ingest --store "$S1" --summary json "$A/AWSLogs" > "$T/clean.json" 2>/dev/null
eq "clean: exit 3 (the corrupt files)" 3 $?
# the truncated file keeps its complete records before the cut (copies of the first log
# file's, so duplicates), counted here without buildtrail
recovered=$(cd "$A" && python3 - $(cat "$T/corrupt") <<'PYEOF'
import json, sys, zlib
n = 0
for p in sys.argv[1:]:
    text = zlib.decompressobj(16 + 15).decompress(open(p, "rb").read()).decode("utf-8", "replace")
    i = text.find("[")
    if not text.lstrip().startswith('{"Records"') or i < 0:
        continue
    dec, i = json.JSONDecoder(), i + 1
    while True:
        while i < len(text) and text[i] in " \n\r\t,":
            i += 1
        try:
            _, i = dec.raw_decode(text, i)
        except ValueError:
            break
        n += 1
print(n)
PYEOF
)
eq "clean: records = written + recovered before the cut" "$(( $(jq .records_written "$truth") + recovered ))" "$(jq .records "$T/clean.json")"
eq "clean: new = unique events" "$(jq .unique_events "$truth")" "$(jq .new "$T/clean.json")"
eq "clean: duplicates (+ the recovered copies)" "$(( $(jq .duplicates "$truth") + recovered ))" "$(jq .duplicate "$T/clean.json")"
eq "clean: digests" "$(jq .digest_files "$truth")" "$(jq .digests "$T/clean.json")"
eq "clean: errors = corrupt files" "$(jq '.corrupt_files | length' "$truth")" "$(jq .errors "$T/clean.json")"
"$BT" search --store "$S1" -o ndjson | jq -r .eventID | sort > "$T/ids.clean"
if cmp -s "$T/ids.archive" "$T/ids.clean"; then ok; else bad "clean: stored ids differ from the archive's"; fi

# kill -9 at two points, then resume
S2="$T/killed.db"
prev=0
for round in 1 2; do
  # small commits, so the kill lands between commits with part of the archive stored
  BUILDTRAIL_COMMIT_EVENTS=2000 "$BT" ingest -q --store "$S2" "$A/AWSLogs" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 400); do
    n=$("$SQL" "$S2" 'SELECT count(*) FROM events' 2>/dev/null || echo 0)
    [ "${n:-0}" -gt "$prev" ] && break
    sleep 0.02
  done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  n=$("$SQL" "$S2" 'SELECT count(*) FROM events')
  [ "$n" -gt "$prev" ] && [ "$n" -lt "$(jq .unique_events "$truth")" ] && ok \
    || bad "kill $round did not land mid-ingest ($n events stored)"
  prev=$n
  eq "after kill -9 ($round): integrity" ok "$(sqlite3 "$S2" 'PRAGMA integrity_check' 2>&1)"
  n=$("$BT" info --store "$S2" --output json --query Events 2>/dev/null)
  [ -n "$n" ] && [ "$n" -le "$(jq .unique_events "$truth")" ] && ok || bad "after kill: event count [$n]"
  # every stored event belongs to the archive, none twice
  "$BT" search --store "$S2" -o ndjson | jq -r .eventID | sort > "$T/ids.partial"
  eq "after kill: no duplicates" "$(wc -l < "$T/ids.partial")" "$(sort -u "$T/ids.partial" | wc -l)"
  eq "after kill: nothing foreign" 0 "$(comm -13 "$T/ids.archive" "$T/ids.partial" | wc -l)"
  # files recorded as done have all their events stored
  done_files=$(sqlite3 "$S2" 'SELECT count(*) FROM sources')
  [ "$done_files" -lt "$(wc -l < "$T/all")" ] && ok || bad "after kill: all files recorded done"
done
"$BT" ingest --store "$S2" --summary json "$A/AWSLogs" > "$T/resume.json" 2>/dev/null
"$BT" search --store "$S2" -o ndjson | jq -r .eventID | sort > "$T/ids.resumed"
if cmp -s "$T/ids.archive" "$T/ids.resumed"; then ok; else bad "resumed: ids differ from a clean run ($(wc -l < "$T/ids.resumed") vs $(wc -l < "$T/ids.archive"))"; fi
eq "resumed: same builds as the clean run" "$("$BT" builds --store "$S1" -o json | jq -c '[.Builds[] | [.Uuid,.Calls,.Errors,.Outcome]] | sort')" \
   "$("$BT" builds --store "$S2" -o json | jq -c '[.Builds[] | [.Uuid,.Calls,.Errors,.Outcome]] | sort')"

# the log files are read hour by hour of delivery (within an hour by account and
# region), not account by account: the store's time-keyed rows grow at one place. Few
# events are stored after one two hours newer than them (those a log file delivers late,
# and the hour's other accounts: 10% here); read in path order, most are (77% here: one
# sweep of the whole time range per account and region)
late=$("$SQL" "$S1" 'SELECT count(*) FROM (SELECT t, max(t) OVER (ORDER BY id ROWS BETWEEN
  UNBOUNDED PRECEDING AND 1 PRECEDING) m FROM events) WHERE m > t + 7200000')
all=$("$SQL" "$S1" 'SELECT count(*) FROM events')
[ "$all" -gt 1000 ] && [ $((late * 4)) -lt "$all" ] && ok ||
  bad "ingest reads by delivery hour: $late of $all events stored after one 2 h newer"
# (that an hour's files of one account and region are read together is test_scan's
# test_delivery_order: the store's ids no longer keep the reading order, a batch
# numbering its events by block and name since schema 8)

# re-running reads only the files that failed
"$BT" ingest --store "$S1" --summary json "$A/AWSLogs" > "$T/again.json" 2>/dev/null
eq "re-ingest: reads only the failed files" "$(jq '.corrupt_files | length' "$truth")" "$(jq .files "$T/again.json")"
eq "re-ingest: nothing new" 0 "$(jq .new "$T/again.json")"

# EventBridge events and the API-call copies they carry
"$BT" ingest --store "$S1" --summary json "$A/eventbridge" > "$T/eb.json" 2>/dev/null
eq "eventbridge: records" "$(jq .eventbridge_events "$truth")" "$(jq .records "$T/eb.json")"

# direct scan = store, for a few filters
# (several names: one arm per name, merged in time order by SQLite)
for f in "--event-name StartBuild" "--errors --event-source cloudformation.amazonaws.com" "--read-only false --event-name UpdateProject" \
  "--event-name StartBuild --event-name StopBuild --event-name AssumeRole --event-name NoSuchCall"; do
  # shellcheck disable=SC2086
  a=$("$BT" search --store "$S2" $f -o ndjson | jq -r .eventID | sort)
  # shellcheck disable=SC2086
  b=$("$BT" search --from "$A/AWSLogs" $f -o ndjson 2>/dev/null | jq -r .eventID | sort -u)
  eq "search --from = store [$f]" "$a" "$b"
  # shellcheck disable=SC2086
  "$BT" search --store "$S2" $f -o ndjson | jq -r .eventTime > "$T/times"
  sort -r "$T/times" | cmp -s - "$T/times" && ok || bad "store: newest first [$f]"
  # shellcheck disable=SC2086
  "$BT" search --store "$S2" $f --reverse -o ndjson | jq -r .eventTime > "$T/times"
  sort "$T/times" | cmp -s - "$T/times" && ok || bad "store: oldest first with --reverse [$f]"
done

# every record of the archive through search --from: more than the 16 MiB it sorts in
# memory, so sorted runs go through a temporary file and are merged back (bounded memory)
"$BT" search --from "$A/AWSLogs" -o ndjson --debug > "$T/all.ndjson" 2> "$T/all.err"
runs=$(sed -n 's/.* in \([0-9]*\) sorted runs.*/\1/p' "$T/all.err")
[ "${runs:-0}" -ge 2 ] && ok || bad "search --from, all records: sorted runs in the file [$runs]"
jq -r .eventID "$T/all.ndjson" > "$T/all.ids"
eq "search --from, all records: each id once" "$(wc -l < "$T/all.ids")" "$(sort -u "$T/all.ids" | wc -l)"
eq "search --from, all records = store" "$("$BT" search --store "$S2" -o ndjson | jq -r .eventID | sort)" \
  "$(sort "$T/all.ids")"
jq -r '"\(.eventTime) \(.eventID)"' "$T/all.ndjson" > "$T/keys"
LC_ALL=C sort -r "$T/keys" | cmp -s - "$T/keys" && ok || bad "search --from, all records: newest first, then event id"
"$BT" search --from "$A/AWSLogs" -o ndjson --reverse 2>/dev/null | tac | cmp -s - "$T/all.ndjson" &&
  ok || bad "search --from --reverse: the same records in the opposite order"
"$BT" search --from "$A/AWSLogs" -o ndjson --max-items 700 2>/dev/null | cmp -s - <(head -n 700 "$T/all.ndjson") &&
  ok || bad "search --from --max-items 700: the first 700 of the full order"
# the runs go to $TMPDIR, unlinked at once; one that cannot be written there says so
mkdir -p "$T/tmpdir"
eq "search --from: \$TMPDIR honoured, nothing left there" "$(wc -l < "$T/all.ids") 0" \
  "$(TMPDIR="$T/tmpdir" "$BT" search --from "$A/AWSLogs" -o ndjson 2>/dev/null | wc -l) $(ls -A "$T/tmpdir" | wc -l)"
out=$(TMPDIR="$T/no-such-dir" "$BT" search --from "$A/AWSLogs" -o ndjson 2> "$T/tmp.err")
eq "search --from, \$TMPDIR missing: exit 1, nothing printed" "1 0" "$? ${#out}"
contains "search --from, \$TMPDIR missing: said" "cannot write the temporary file that sorts the matches in '$T/no-such-dir' (\$TMPDIR)" "$(cat "$T/tmp.err")"
if [ -x /usr/bin/time ]; then # the records are 3x what it may hold: memory does not follow them
  # (a sanitizer build's quarantine of freed memory, 256 MB by default, kept small here)
  ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=8" \
    /usr/bin/time -f %M -o "$T/rss" "$BT" search --from "$A/AWSLogs" -o ndjson >/dev/null 2>&1
  mb=$(( $(tail -1 "$T/rss") / 1024 )); rec_mb=$(( $(wc -c < "$T/all.ndjson") / 1048576 ))
  cap=100 # (a sanitizer build's shadow memory and allocator add some 40 MB here)
  grep -q '^BT_SANITIZE:BOOL=ON' "$BT_BIN_DIR/CMakeCache.txt" 2>/dev/null && cap=140
  [ "$mb" -lt "$cap" ] && [ "$rec_mb" -gt 60 ] && ok || bad "search --from, all records: peak RSS $mb MB for $rec_mb MB of records"
fi
c=$(xargs zcat < "$T/good" | jq -r '.Records[] | select(.eventName == "StartBuild") | .eventID' | sort -u | wc -l)
eq "StartBuild count = jq" "$c" "$("$BT" search --store "$S2" --event-name StartBuild -o ndjson | wc -l)"
finish
