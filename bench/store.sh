#!/usr/bin/env bash
# store.sh - the issue #13 store benchmark, in one run: ingest events/s into an empty
# store and into a store already holding BT_BENCH_BASE events, peak RSS, store bytes
# next to the archive's .json.gz bytes, the WAL left after ingest, and the query
# latencies the issue lists (first page of `search --event-name`, `build <id>`,
# `builds` over all builds, `search --errors`), and searches on the fields block
# summaries serve (a principal, a resource name) and on the event source. With BT_BENCH_PEER=/path/to/buildtrail
# (e.g. a build of main) every figure is printed beside the peer's from the same run,
# each step run for both builds before the next (below).
# Not a test: it prints figures.
#   BT_BENCH_EVENTS=300000 BT_BENCH_BASE=1000000 BT_BENCH_PEER=/tmp/main/buildtrail bench/store.sh
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD_DIR:-build-bench}
EVENTS=${BT_BENCH_EVENTS:-300000}
BASE=${BT_BENCH_BASE:-1000000}
BUILDS=${BT_BENCH_BUILDS:-10000}
W=${BT_BENCH_DIR:-/tmp/bt-bench}
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DBT_BUILD_TESTS=OFF >/dev/null
cmake --build "$B" -j"$(nproc)" >/dev/null
mkdir -p "$W"
gen() { # gen DIR EVENTS SEED [args]
  local d=$1 n=$2 seed=$3
  shift 3
  if [ ! -f "$d/ground-truth.json" ]; then
    rm -rf "$d"
    echo "generating $n events in $d ..."
    "$B/bt-gen" --out "$d" --events "$n" --days 14 --level 6 --seed "$seed" "$@" >/dev/null
  fi
}
INC="$W/store-inc-$EVENTS"
LATER="$W/store-later-$EVENTS" # the days after the base's 14: the daily case
BASEA="$W/store-base-$BASE-$BUILDS"
gen "$INC" "$EVENTS" 43
gen "$LATER" "$EVENTS" 45 --start 2026-10-15
gen "$BASEA" "$BASE" 44 --builds "$BUILDS"
gzbytes() { find "$1/AWSLogs" -path '*/CloudTrail/*' -name '*.json.gz' -print0 | xargs -0 cat | wc -c; }
GZ_INC=$(gzbytes "$INC")
N_INC=$(jq .unique_events "$INC/ground-truth.json")
N_BASE=$(jq .unique_events "$BASEA/ground-truth.json")
N_LATER=$(jq .unique_events "$LATER/ground-truth.json")

ms() { # median of N runs of a command, in ms. The clock is bash's own: a `date` forked
  # for each reading added its own start (4-5 ms on the reference machine) to every figure
  local n=$1 i t0 t1
  shift
  for i in $(seq 1 "$n"); do
    t0=${EPOCHREALTIME/./}; "$@" >/dev/null 2>&1 || true; t1=${EPOCHREALTIME/./}
    echo $(( (t1 - t0) / 1000 ))
  done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
bytes() { local n; n=$(stat -c %s "$1"); [ -f "$1-wal" ] && n=$((n + $(stat -c %s "$1-wal"))); echo "$n"; }
wal() { [ -f "$1-wal" ] && stat -c %s "$1-wal" || echo 0; }

# ingest NAME BIN STORE ARCHIVE EVENTS: one timed ingest; prints a line
ingest() {
  local name=$1 bt=$2 s=$3 a=$4 n=$5 e u sy r
  sync # the writes before (a copy, an ingest) are not flushed during this one
  /usr/bin/time -f '%e %U %S %M' -o "$W/.time" "$bt" ingest -q --store "$s" "$a/AWSLogs" >/dev/null 2>&1 || true
  read -r e u sy r < "$W/.time"
  printf '  %-34s %8.0f events/s  (%.1f s wall, %.1f s CPU)  peak RSS %4d MB\n' "$name" \
    "$(echo "$n / $e" | bc -l)" "$e" "$(echo "$u + $sy" | bc -l)" $((r / 1024))
}

# The builds measured: this one, and the peer when there is one. Each step runs for
# every build before the next step (the ingests alternate, and each query's runs of one
# build sit next to the other's): the machine's speed drifts by 15% over minutes, and a
# build measured whole before the other had shown that drift more than either build.
# Each build's lines go to $W/out.LABEL, printed together at the end.
LABELS=(this)
declare -A BIN=([this]="$B/buildtrail")
if [ -n "${BT_BENCH_PEER:-}" ]; then
  LABELS+=(peer)
  BIN[peer]=$BT_BENCH_PEER
fi
out() { local l=$1; shift; printf "$@" >> "$W/out.$l"; }
for l in "${LABELS[@]}"; do
  : > "$W/out.$l"
  for f in "$W/store-empty-$l.db" "$W/store-base-$l.db"; do rm -f "$f" "$f-wal" "$f-shm"; done
done
for l in "${LABELS[@]}"; do
  ingest "ingest $N_INC into an empty store" "${BIN[$l]}" "$W/store-empty-$l.db" "$INC" "$N_INC" >> "$W/out.$l"
done
for l in "${LABELS[@]}"; do
  s0="$W/store-empty-$l.db"
  out "$l" '  store %.1f MB; .json.gz %.1f MB; ratio %.2f; WAL left %d bytes\n' \
    "$(echo "$(bytes "$s0") / 1000000" | bc -l)" "$(echo "$GZ_INC / 1000000" | bc -l)" \
    "$(echo "$(bytes "$s0") / $GZ_INC" | bc -l)" "$(wal "$s0")"
  "${BIN[$l]}" ingest -q --store "$W/store-base-$l.db" "$BASEA/AWSLogs" >/dev/null 2>&1 || true
done
# the same days as the base's (a backfill: every index takes inserts all over its range),
# then days after them (the daily case: inserts at the indexes' ends)
for l in "${LABELS[@]}"; do
  ingest "ingest $N_INC onto $N_BASE" "${BIN[$l]}" "$W/store-base-$l.db" "$INC" "$N_INC" >> "$W/out.$l"
done
for l in "${LABELS[@]}"; do
  ingest "ingest $N_LATER later onto $((N_BASE + N_INC))" "${BIN[$l]}" "$W/store-base-$l.db" \
    "$LATER" "$N_LATER" >> "$W/out.$l"
done
bt=${BIN[this]}
s1="$W/store-base-this.db"
id=$("$bt" builds --store "$s1" --output json --query 'Builds[?!Batch].BuildId' 2>/dev/null | jq -r '.[0] // empty')
p=$("$bt" search --store "$s1" --max-items 50 -o ndjson 2>/dev/null | jq -r '.userIdentity.arn // empty' | head -1)
r=$("$bt" search --store "$s1" --max-items 500 -o ndjson 2>/dev/null | jq -r '.resources[0].ARN // empty' | awk 'NR == 1')
hits() { "$@" -o ndjson --max-items 100000000 2>/dev/null | wc -l; }
# each STEP: the query step STEP LABEL run for every build in turn, with bt and s1 its
# binary and its base store
each() {
  local l
  for l in "${LABELS[@]}"; do
    bt=${BIN[$l]}
    s1="$W/store-base-$l.db"
    "$1" "$l"
  done
}
q_first() {
  out "$1" '  first page of search --event-name StartBuild   %5s ms (target < 100)\n' \
    "$(ms 5 "$bt" search --store "$s1" --event-name StartBuild --max-items 50 -o json)"
}
q_build() {
  out "$1" '  build <id>                                     %5s ms (target < 20)\n' \
    "$(ms 5 "$bt" build --store "$s1" "$id" --output json)"
  out "$1" '    (a process that only starts: --version %s ms, /bin/true %s ms)\n' \
    "$(ms 5 "$bt" --version)" "$(ms 5 /bin/true)"
}
q_builds() {
  out "$1" '  builds (%s builds)                           %5s ms (target < 500)\n' "$BUILDS" \
    "$(ms 3 "$bt" builds --store "$s1" --output json)"
}
q_errors() {
  out "$1" '  search --errors (%6s hits)                  %5s ms (target < 300)\n' \
    "$(hits "$bt" search --store "$s1" --errors)" \
    "$(ms 3 "$bt" search --store "$s1" --errors -o ndjson --max-items 100000000)"
}
q_principal() {
  out "$1" '  search --principal (%6s hits, all pages)     %5s ms\n' \
    "$(hits "$bt" search --store "$s1" --principal "$p")" \
    "$(ms 3 "$bt" search --store "$s1" --principal "$p" -o ndjson --max-items 100000000)"
}
q_pages() { # q_pages LABEL NAME FLAG VALUE: hits, first page and all pages of one search
  out "$1" "  search $2 (%6s hits): first page %5s ms, all pages %5s ms\\n" \
    "$(hits "$bt" search --store "$s1" "$3" "$4")" \
    "$(ms 3 "$bt" search --store "$s1" "$3" "$4" --max-items 50 -o json)" \
    "$(ms 3 "$bt" search --store "$s1" "$3" "$4" -o ndjson --max-items 100000000)"
}
q_resource() { q_pages "$1" --resource-name --resource-name "$r"; }
q_source() { q_pages "$1" "--event-source codebuild" --event-source codebuild.amazonaws.com; }
for step in q_first q_build q_builds q_errors q_principal q_resource q_source; do
  each "$step"
done

printf 'archives: %d events (%s bytes gz) to ingest; %d events with %d builds as the base\n' \
  "$N_INC" "$GZ_INC" "$N_BASE" "$BUILDS"
for l in "${LABELS[@]}"; do
  echo
  echo "== $l (${BIN[$l]})"
  cat "$W/out.$l"
done
echo
echo "targets (issue #13): ingest >= 250,000 events/s also onto a big store; peak RSS <= 100 MB;"
echo "store <= 1.0x the .json.gz archive; no WAL left; query latencies as printed"
