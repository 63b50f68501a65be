#!/usr/bin/env bash
# archive.sh - the issue #2 benchmark, in one run on the same generated archive:
#   * scan: `buildtrail search --from` next to `zcat | jq select(...)` and DuckDB
#     (read_json over the same files), all with the same filter and the same count;
#   * the floor: plain gzip decompression of the same files (zcat, and libdeflate on
#     one and on all cores);
#   * ingest rate (events/s) and peak RSS;
#   * store bytes per event next to .json.gz bytes per event.
# Not a test: it prints figures. Needs jq; DuckDB comes from npm (@duckdb/node-api:
# the `duckdb` package downloads its binary from outside the npm registry, which this
# machine cannot reach) and is skipped with a note when npm cannot install it.
#   BT_BENCH_EVENTS=1000000 BT_BENCH_DIR=/tmp/bt-bench BT_BENCH_RUNS=5 bench/archive.sh
# (the scan: the median of BT_BENCH_RUNS runs, wall and CPU, each next to the floor; the
# ingest: the median of as many, alternating with BT_BENCH_PEER=/path/to/buildtrail, e.g. a
# build of the release before, when it is set)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD_DIR:-build-bench}
EVENTS=${BT_BENCH_EVENTS:-1000000}
W=${BT_BENCH_DIR:-/tmp/bt-bench}
NPROC=$(nproc)
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DBT_BUILD_TESTS=OFF >/dev/null
cmake --build "$B" -j"$NPROC" >/dev/null
BT="$B/buildtrail"
mkdir -p "$W"
A="$W/archive-$EVENTS"
if [ ! -f "$A/ground-truth.json" ]; then
  echo "generating $EVENTS events (gzip level 6, like CloudTrail's files) in $A ..."
  rm -rf "$A"
  "$B/bt-gen" --out "$A" --events "$EVENTS" --days 14 --level 6 --seed 42 >/dev/null
fi
logs() { find "$A/AWSLogs" -path '*/CloudTrail/*' -name '*.json.gz' | sort; }
GZ=$(logs | xargs cat | wc -c)
RAW=$(logs | xargs zcat | wc -c)
UNIQUE=$(jq .unique_events "$A/ground-truth.json")
printf 'archive: %d log files, %.1f MB gz, %.1f MB JSON, %d unique events\n' \
  "$(logs | wc -l)" "$(echo "$GZ/1000000" | bc -l)" "$(echo "$RAW/1000000" | bc -l)" "$UNIQUE"

t() { /usr/bin/time -f '%e %M %U %S' -o "$W/.time" "$@"; }
secs() { tail -1 "$W/.time" | cut -d' ' -f1; }
rss() { echo "$(( $(tail -1 "$W/.time" | cut -d' ' -f2) / 1024 ))"; }
cpu() { tail -1 "$W/.time" | awk '{printf "%.2f", $3 + $4}'; } # user + system seconds
rate() { echo "$RAW / $1 / 1000000" | bc -l | xargs printf '%.0f'; }

echo
echo "== scan: events named StartBuild (MB/s of decompressed JSON)"
logs > "$W/files"
# the median of RUNS runs (wall and user+system CPU each): a shared machine is noisy
RUNS=${BT_BENCH_RUNS:-5}
: > "$W/scan.times"
for _ in $(seq "$RUNS"); do
  t sh -c "'$BT' search --from '$A/AWSLogs' --event-name StartBuild -o ndjson | wc -l > '$W/n.bt'"
  echo "$(secs) $(cpu) $(rss)" >> "$W/scan.times"
done
median() { cut -d' ' -f"$1" "$W/scan.times" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
s_bt=$(median 1); c_bt=$(median 2); r_bt=$(median 3)
t sh -c "xargs zcat < '$W/files' | jq -c '.Records[] | select(.eventName == \"StartBuild\")' | wc -l > '$W/n.jq'"
s_jq=$(secs); r_jq=$(rss)
printf '  buildtrail search --from  %7.2f s  %6s MB/s  %4s MB RSS  %s matches  (CPU %s s; median of %d runs)\n' "$s_bt" "$(rate "$s_bt")" "$r_bt" "$(cat "$W/n.bt")" "$c_bt" "$RUNS"
printf '  zcat | jq                 %7.2f s  %6s MB/s  %4s MB RSS  %s matches  (buildtrail %.1fx faster)\n' \
  "$s_jq" "$(rate "$s_jq")" "$r_jq" "$(cat "$W/n.jq")" "$(echo "$s_jq / $s_bt" | bc -l)"
D="$W/duckdb"
if [ ! -d "$D/node_modules/@duckdb/node-api" ]; then
  mkdir -p "$D" && (cd "$D" && timeout 600 npm install --no-audit --no-fund --silent @duckdb/node-api >/dev/null 2>&1) || true
fi
if [ -d "$D/node_modules/@duckdb/node-api" ]; then
  cat > "$D/scan.js" <<JS
const {DuckDBInstance} = require('@duckdb/node-api');
(async () => {
  const db = await DuckDBInstance.create(':memory:', {threads: '$NPROC'});
  const c = await db.connect();
  const r = await c.runAndReadAll(\`SELECT count(*) FROM (SELECT unnest(Records) AS r FROM
      read_json('$A/AWSLogs/**/CloudTrail/*/*/*/*/*.json.gz', columns = {Records: 'JSON[]'},
                compression = 'gzip', format = 'auto', maximum_object_size = 1073741824))
      WHERE r->>'eventName' = 'StartBuild'\`);
  console.log(String(r.getRows()[0][0]));
})().catch(e => { console.error(e.message); process.exit(1); });
JS
  t sh -c "node '$D/scan.js' > '$W/n.duck'"
  s_dk=$(secs); r_dk=$(rss)
  printf '  DuckDB read_json          %7.2f s  %6s MB/s  %4s MB RSS  %s matches  (buildtrail %.1fx faster)\n' \
    "$s_dk" "$(rate "$s_dk")" "$r_dk" "$(cat "$W/n.duck")" "$(echo "$s_dk / $s_bt" | bc -l)"
else
  echo "  DuckDB: not available (npm could not install @duckdb/node-api)"
fi

echo
echo "== the floor: plain gzip decompression of the same files"
t sh -c "xargs zcat < '$W/files' > /dev/null"
printf '  zcat (1 core)             %7.2f s  %6s MB/s\n' "$(secs)" "$(rate "$(secs)")"
"$B/bench-gzip_speed" "$A/AWSLogs" "$NPROC" | tee "$W/floor" | sed 's/^/  /'
floor=$(awk '/threads/ {print $2}' "$W/floor")
floor1=$(awk '/libdeflate/ && !/threads/ {print $2; exit}' "$W/floor")
printf '  search --from vs the %d-core libdeflate floor: %.2fx the floor time\n' "$NPROC" \
  "$(echo "$s_bt / ($RAW / 1000000 / $floor)" | bc -l)"
printf '  search --from CPU (user+system) vs the 1-core libdeflate time: %.2fx\n' \
  "$(echo "$c_bt / ($RAW / 1000000 / $floor1)" | bc -l)"
echo
echo "== every record, newest first (no filter: what a full export or a wide window reads)"
# buildtrail dedups and sorts by time in bounded memory (sorted runs through \$TMPDIR);
# the peer extracts the records with zcat | jq and orders them with sort(1) by eventTime
t sh -c "'$BT' search --from '$A/AWSLogs' -o ndjson | wc -l > '$W/n.all'"
printf '  buildtrail search --from  %7.2f s  %4s MB RSS  %s records  (CPU %s s)\n' "$(secs)" "$(rss)" "$(cat "$W/n.all")" "$(cpu)"
t sh -c "xargs zcat < '$W/files' | jq -c '.Records[] | [.eventTime, .]' | sort -r | wc -l > '$W/n.alljq'"
printf '  zcat | jq | sort -r       %7.2f s            %s records (duplicates kept)\n' "$(secs)" "$(cat "$W/n.alljq")"

echo
echo "== ingest into a new store (the median of $RUNS runs${BT_BENCH_PEER:+, alternating with the peer})"
S="$W/store.db"
# ingest_runs LABEL BIN: RUNS ingests into a new store, alternating with the peer when
# there is one (the machine's speed drifts by 15% over minutes: runs side by side cancel
# it); each run's seconds and peak RSS appended to $W/ingest.LABEL
ingest_one() {
  rm -f "$S" "$S-wal" "$S-shm"
  sync
  t "$2" ingest -q --store "$S" "$A/AWSLogs" > "$W/ingest.out" 2>/dev/null || true
  echo "$(secs) $(rss) $(cpu)" >> "$W/ingest.$1"
}
rm -f "$W/ingest.this" "$W/ingest.peer"
for i in $(seq 1 "$RUNS"); do
  [ -n "${BT_BENCH_PEER:-}" ] && ingest_one peer "$BT_BENCH_PEER"
  ingest_one this "$BT"
done
# the last run of this build: its own summary and its store's size
cat "$W/ingest.out" | sed 's/^/  /'
med() { sort -n -k1,1 "$1" | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
report() { # report LABEL FILE
  local m s r c lo hi
  m=$(med "$2"); s=${m%% *}; r=$(echo "$m" | cut -d' ' -f2); c=$(echo "$m" | cut -d' ' -f3)
  lo=$(sort -n -k1,1 "$2" | head -1 | cut -d' ' -f1); hi=$(sort -n -k1,1 "$2" | tail -1 | cut -d' ' -f1)
  printf '  %-10s %8.0f events/s  (%.2f s, runs %.2f-%.2f s; CPU %s s), peak RSS %s MB\n' "$1" \
    "$(echo "$UNIQUE / $s" | bc -l)" "$s" "$lo" "$hi" "$c" "$r"
}
report ingest "$W/ingest.this"
[ -n "${BT_BENCH_PEER:-}" ] && report peer "$W/ingest.peer"
rm -f "$S" "$S-wal" "$S-shm"
t "$BT" ingest -q --store "$S" "$A/AWSLogs" > /dev/null 2>&1 || true
SB=$(stat -c %s "$S")
[ -f "$S-wal" ] && SB=$((SB + $(stat -c %s "$S-wal")))
printf '  store %.1f MB = %.0f bytes/event;  .json.gz %.1f MB = %.0f bytes/event;  ratio %.2f\n' \
  "$(echo "$SB/1000000" | bc -l)" "$(echo "$SB/$UNIQUE" | bc -l)" "$(echo "$GZ/1000000" | bc -l)" \
  "$(echo "$GZ/$UNIQUE" | bc -l)" "$(echo "$SB/$GZ" | bc -l)"
echo
echo "targets: scan >= 10x jq and faster than DuckDB, within 1.5x of the gzip floor; ingest >= 150,000"
echo "events/s; peak RSS < 100 MB; store <= 1.5x the .json.gz archive"
echo "#13's targets: ingest >= 250,000 events/s on 2 cores and peak RSS <= 100 MB; store <= 1.0x the"
echo ".json.gz archive; search --from <= 1.5x the 2-core libdeflate floor"
