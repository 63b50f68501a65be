#!/usr/bin/env bash
# web.sh - how long `serve` takes to render the web view's pages, measured in the
# server (its --debug line per request gives the handler's time, without HTTP): the
# page of a build whose role session made 500 calls (bench/web_build500.py, added to a
# generated archive), the same build's /api JSON, the builds list and an event search;
# and `build --output html` for that build. Prints median, p95 and max of REPEAT
# requests each next to the target (< 50 ms). Not part of ctest.
#
#   bench/web.sh                    # build dir ./build, 30,000 generated events, 50 requests
#   BUILD=build-bench EVENTS=200000 REPEAT=100 bench/web.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-$ROOT/build}
BT=$BUILD/buildtrail
GEN=$BUILD/bt-gen
EVENTS=${EVENTS:-30000}
REPEAT=${REPEAT:-50}
CALLS=${CALLS:-500}
for f in "$BT" "$GEN"; do
  [ -x "$f" ] || { echo "web.sh: $f is not built (cmake --build $BUILD)" >&2; exit 1; }
done
W=$(mktemp -d /tmp/bt-bench-web.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$W"' EXIT
U=b500b500-1111-4222-8333-444455556666
"$GEN" --out "$W/gen" --events "$EVENTS" --eventbridge --seed 7 >/dev/null 2>&1
mkdir -p "$W/b500"
python3 bench/web_build500.py "$U" "$CALLS" > "$W/b500/b500.json"
"$BT" ingest -q --store "$W/s.db" "$W/gen" "$W/b500" >/dev/null
calls=$("$BT" build --store "$W/s.db" "$U" -o json --query 'Build.Calls' -o text)

"$BT" serve --store "$W/s.db" --port 0 --debug 2>"$W/serve.err" &
pid=$!
for _ in $(seq 100); do grep -q '^listening on' "$W/serve.err" && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$W/serve.err")

# time PATH: REPEAT requests; prints "median p95 max" of the server's ms
measure() {
  local path=$1 i
  : > "$W/before"
  cp "$W/serve.err" "$W/before"
  for i in $(seq "$REPEAT"); do curl -s -o /dev/null "$URL$path"; done
  sleep 0.2
  diff "$W/before" "$W/serve.err" | sed -n "s|^> buildtrail: debug: GET ${path%%\?*} .* \([0-9.]*\) ms request.*|\1|p" |
    sort -n | awk '{v[NR]=$1} END {printf "%7.1f %7.1f %7.1f", v[int((NR+1)/2)], v[int(NR*0.95+0.5)], v[NR]}'
}
printf '%-44s %7s %7s %7s   target\n' "page ($REPEAT requests, server time in ms)" median p95 max
printf '%-44s %s   < 50 ms\n' "/builds/<id> ($calls calls)" "$(measure "/builds/$U")"
printf '%-44s %s\n' "/api/builds/<id> ($calls calls)" "$(measure "/api/builds/$U")"
printf '%-44s %s   < 50 ms\n' "/ (builds list, $("$BT" builds --store "$W/s.db" -o json --query 'length(Builds)') builds)" "$(measure "/")"
printf '%-44s %s   < 50 ms\n' "/events?build=<id> (50 of $calls)" "$(measure "/events?build=$U")"
s=$(date +%s%N)
"$BT" build --store "$W/s.db" "$U" --output html > "$W/r.html"
printf '%-44s %7.1f ms (whole process, %s bytes)\n' "build <id> --output html" "$(( ($(date +%s%N) - s) / 100000 ))e-1" "$(wc -c < "$W/r.html")"
