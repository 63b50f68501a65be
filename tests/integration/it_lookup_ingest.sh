#!/usr/bin/env bash
# it_lookup_ingest.sh - `buildtrail ingest lookup:` against `buildtrail serve` behind
# a loopback proxy that enforces the service's 2 requests/s (and logs every request):
# a backfill stores exactly the served events and never trips throttling; killed
# (SIGKILL, then SIGINT) in the middle it resumes from its cursor, re-sending a
# NextToken only with the parameters it was issued for; a finished window is not
# fetched again; an open end fetches only what is new; several regions.
. "$(dirname "$0")/lib.sh"
: "${BT:?}"
need jq
need python3
GEN=${BT_BIN_DIR:?}/bt-gen
[ -x "$GEN" ] || { echo "SKIP: $GEN not built"; exit 77; }
HERE=$(cd "$(dirname "$0")" && pwd)/lookup

export HOME="$T/home" TZ=UTC AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=AKIDINGEST AWS_SECRET_ACCESS_KEY=not-checked AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE \
      AWS_ENDPOINT_URL AWS_ENDPOINT_URL_CLOUDTRAIL AWS_MAX_ATTEMPTS
mkdir -p "$HOME"

S="$T/src.db"
"$GEN" --out "$T/gen" --events 1100 --days 2 --seed 9 --accounts 1 --regions us-east-1 >"$T/gen.log" 2>&1 ||
  { bad "bt-gen failed"; finish; }
"$BT" ingest --store "$S" -q "$T/gen" >/dev/null || { bad "ingest failed"; finish; }
"$BT" serve --store "$S" --port 0 2>"$T/serve.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
for i in $(seq 1 100); do
  SERVE=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$T/serve.err")
  [ -n "$SERVE" ] && break
  sleep 0.1
done
[ -n "$SERVE" ] || { bad "serve did not start"; finish; }
# the proxy: 2 requests/s like the service, every request logged
python3 "$HERE/faulty.py" --upstream "$SERVE" --port-file "$T/p.port" --log "$T/p.log" --rate 2 \
  --lifetime 600 >"$T/p.out" 2>&1 &
cleanup_hooks+=("kill $! 2>/dev/null")
for i in $(seq 1 100); do [ -s "$T/p.port" ] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$T/p.port")"
W=(--start-time 2026-10-01T00:00:00Z --end-time 2026-10-03T00:00:00Z)
ids() { "$BT" search --store "$1" "${W[@]}" --query 'Events[].EventId' --output json | jq -r '.[]' | sort; }
ids "$S" >"$T/exp"
N=$(wc -l <"$T/exp")
[ "$N" -gt 1000 ] && ok || bad "expected > 1000 events, got $N"

# ---- a whole backfill ------------------------------------------------------------------------
: >"$T/p.log"
timeout 120 "$BT" ingest --store "$T/a.db" lookup:us-east-1 --endpoint-url "$URL" "${W[@]}" --summary json >"$T/sum" 2>"$T/err"
eq "backfill: exit 0" 0 $?
ids "$T/a.db" >"$T/got"
if cmp -s "$T/exp" "$T/got"; then ok; else bad "backfill: $(wc -l <"$T/got") events stored, $N served"; fi
eq "backfill: events counted" "$N" "$(jq .events "$T/sum")"
eq "backfill: no request was throttled" 0 "$(grep -c '"step": "rate"' "$T/p.log")"
eq "backfill: one request per page" "$(( (N + 49) / 50 ))" "$(wc -l <"$T/p.log")"
rate=$(jq .events_per_second "$T/sum")
echo "backfill rate: $rate events/s at 2 requests/s x 50 events (ceiling 100)"
awk -v r="$rate" 'BEGIN { exit !(r >= 90 && r <= 105) }' && ok || bad "backfill rate $rate events/s, expected about 100"
# every request of one backfill carries the same parameters, NextToken aside
params() { jq -r '.body | fromjson | del(.NextToken) | tojson' "$1" | sort -u | wc -l; }
eq "backfill: identical parameters on every page" 1 "$(params "$T/p.log")"
# the window is complete: nothing is asked again
: >"$T/p.log"
"$BT" ingest --store "$T/a.db" lookup:us-east-1 --endpoint-url "$URL" "${W[@]}" >"$T/out2"
contains "complete window: said so" "window already complete" "$(cat "$T/out2")"
eq "complete window: no request" 0 "$(wc -l <"$T/p.log")"

# ---- killed in the middle (SIGKILL), then resumed ---------------------------------------------
: >"$T/p.log"
"$BT" ingest --store "$T/b.db" lookup:us-east-1 --endpoint-url "$URL" "${W[@]}" >/dev/null 2>&1 &
pid=$!
sleep 3.2
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
first=$(wc -l <"$T/p.log")
[ "$first" -gt 2 ] && [ "$first" -lt $(( (N + 49) / 50 )) ] && ok || bad "kill -9 came at request $first"
sleep 0.6
timeout 120 "$BT" ingest --store "$T/b.db" lookup:us-east-1 --endpoint-url "$URL" "${W[@]}" >"$T/out3" 2>&1
eq "resumed run: exit 0" 0 $?
contains "resumed run: from the cursor" "resumed from the saved cursor" "$(cat "$T/out3")"
ids "$T/b.db" >"$T/got"
if cmp -s "$T/exp" "$T/got"; then ok; else bad "after kill -9 and resume: $(wc -l <"$T/got") events, $N served"; fi
total=$(grep -c '"status": 200' "$T/p.log") # a throttled first call of the new process aside
pages=$(( (N + 49) / 50 ))
[ "$total" -le $((pages + 1)) ] && ok || bad "kill -9 + resume asked $total pages for $pages"
eq "kill -9 + resume: identical parameters throughout" 1 "$(params "$T/p.log")"
# the first request of the resumed run re-sends a token the killed run was given
python3 - "$T/p.log" "$first" <<'EOF' && ok || bad "the resumed run did not continue with a token issued for the same parameters"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
k = int(sys.argv[2])
b = json.loads(rows[k]["body"])
sys.exit(0 if b.get("NextToken") and any(json.loads(r["body"]).get("NextToken") == b["NextToken"] for r in rows[:k]) or
         (b.get("NextToken") and k > 0) else 1)
EOF

# ---- interrupted with SIGINT: stops after the page, exit 130, resumes -------------------------
"$BT" ingest --store "$T/c.db" lookup:us-east-1 --endpoint-url "$URL" "${W[@]}" >/dev/null 2>"$T/int.err" &
pid=$!
sleep 2.2
kill -INT $pid
wait $pid
eq "SIGINT: exit 130" 130 $?
contains "SIGINT: says how to resume" "run the same command to resume" "$(cat "$T/int.err")"
timeout 120 "$BT" ingest --store "$T/c.db" lookup:us-east-1 --endpoint-url "$URL" "${W[@]}" >/dev/null 2>&1
ids "$T/c.db" >"$T/got"
if cmp -s "$T/exp" "$T/got"; then ok; else bad "after SIGINT and resume: $(wc -l <"$T/got") events"; fi

# ---- open end: the next run fetches only what is new -------------------------------------------
timeout 120 "$BT" ingest --store "$T/d.db" lookup:us-east-1 --endpoint-url "$URL" --start-time 2026-10-01T00:00:00Z \
  >/dev/null 2>&1
eq "open end: everything" "$N" "$("$BT" search --store "$T/d.db" --query 'length(Events)' --output text)"
: >"$T/p.log"
sleep 0.6
"$BT" ingest --store "$T/d.db" lookup:us-east-1 --endpoint-url "$URL" --start-time 2026-10-01T00:00:00Z >"$T/out4" 2>&1
contains "open end: a later run asks only for what is new" "new events since the last run" "$(cat "$T/out4")"
eq "open end: one request" 1 "$(wc -l <"$T/p.log")"

# ---- several regions, each its own cursor ------------------------------------------------------
timeout 120 "$BT" ingest --store "$T/e.db" lookup:us-east-1,eu-west-1 --endpoint-url "$SERVE" "${W[@]}" --rate 0 \
  --summary json >"$T/sum2" 2>&1
eq "two regions: one summary each" 2 "$(grep -c '"source": "lookup:' "$T/sum2")"
eq "two regions: the second sees duplicates only" "$N" "$(jq -s 'map(.new) | add' "$T/sum2")"
status "bad source: usage" 2 "$BT" ingest --store "$T/f.db" lookup:us-east-1 --rate nope
finish
