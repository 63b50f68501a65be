#!/usr/bin/env bash
# campaign.sh - the standing reliability campaign of issue #17, repeated until a time
# budget is spent: kill -9 during ingest, corrupt inputs, corrupt stores, malformed HTTP,
# slow clients and forged signatures against a loopback serve. Prints one line per case,
# "CASE tried N failed N lost N", so a regression shows up as a number; exits 1 when
# anything failed or was lost. Not part of the default test command.
#
#   BT_CAMPAIGN_SECONDS=60 scripts/campaign.sh      (CI: a short budget)
#   BT_CAMPAIGN_SECONDS=3600 scripts/campaign.sh    (on demand: a long one)
#
# BT (default build/buildtrail) is the binary. Loopback only; every loop bounded in
# count and time.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BT=${BT:-$ROOT/build/buildtrail}
PY=${BT_PYTHON:-python3}
BUDGET=${BT_CAMPAIGN_SECONDS:-300}
CLIENT=$ROOT/tests/integration/hostile/client.py
[ -x "$BT" ] || { echo "campaign: $BT not built" >&2; exit 2; }
W=$(mktemp -d /tmp/bt-campaign.XXXXXX)
SRV=
trap '[ -n "$SRV" ] && kill $SRV 2>/dev/null; rm -rf "$W"' EXIT
SLICE=$((BUDGET / 6 > 5 ? BUDGET / 6 : 5)) # seconds per case
MAXRUNS=10000
declare -A TRIED FAILED LOST
for c in kill9 corrupt-input corrupt-store malformed-http slow-client forged-signature; do
  TRIED[$c]=0 FAILED[$c]=0 LOST[$c]=0
done
note() { echo "campaign: $*" >&2; }
# run CASE: loops its body (the function CASE_once) until its slice is spent
run() {
  local c=$1 end=$(( $(date +%s) + SLICE )) i=0
  while [ "$(date +%s)" -lt "$end" ] && [ $i -lt $MAXRUNS ]; do
    i=$((i + 1))
    TRIED[$c]=$((TRIED[$c] + 1))
    "${c//-/_}_once" "$i"
  done
}

# ---- the archive: 40 files of 250 records, every eventID distinct --------------------
"$PY" - "$W/arch" <<'PYEOF'
import gzip, json, os, sys
d = sys.argv[1]; os.makedirs(d)
for f in range(40):
    recs = [{"eventVersion": "1.08", "eventID": "c-%02d-%04d" % (f, i),
             "eventTime": "2026-02-%02dT%02d:%02d:%02dZ" % (f % 28 + 1, i // 3600 % 24, i // 60 % 60, i % 60),
             "eventName": "StartBuild", "eventSource": "codebuild.amazonaws.com",
             "awsRegion": "us-east-1", "recipientAccountId": "111122223333",
             "requestParameters": {"projectName": "p%d" % (i % 7), "pad": "x" * 200}}
            for i in range(250)]
    with open(os.path.join(d, "f%02d.json.gz" % f), "wb") as o:
        o.write(gzip.compress(json.dumps({"Records": recs}).encode()))
PYEOF
TOTAL=10000
count() { "$BT" info --store "$1" --output json --query Events 2>/dev/null || echo 0; }

# ---- kill -9 during ingest, then resume: every event stored once ----------------------
kill9_once() {
  local s="$W/k9.db" pid n
  rm -f "$s" "$s-wal" "$s-shm"
  BUILDTRAIL_COMMIT_EVENTS=500 "$BT" ingest --store "$s" -q --threads 2 "$W/arch" >/dev/null 2>&1 &
  pid=$!
  sleep "0.$(( RANDOM % 9 + 1 ))"
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  if ! timeout 120 "$BT" ingest --store "$s" -q "$W/arch" >/dev/null 2>"$W/k9.err"; then
    FAILED[kill9]=$((FAILED[kill9] + 1)); note "kill9: resume failed: $(head -2 "$W/k9.err")"
  fi
  n=$(count "$s")
  [ "$n" -lt "$TOTAL" ] && LOST[kill9]=$((LOST[kill9] + TOTAL - n))
  [ "$n" -gt "$TOTAL" ] && { FAILED[kill9]=$((FAILED[kill9] + 1)); note "kill9: $n events stored, expected $TOTAL"; }
}

# ---- corrupt inputs: one damaged file never costs the others --------------------------
corrupt_input_once() {
  local d="$W/ci" s="$W/ci.db" code n victim
  rm -rf "$d" "$s" "$s-wal" "$s-shm"; cp -r "$W/arch" "$d"
  victim=$(printf 'f%02d.json.gz' $((RANDOM % 40)))
  "$PY" - "$d/$victim" "$1" <<'PYEOF'
import gzip, os, random, sys
p, seed = sys.argv[1], int(sys.argv[2]); random.seed(seed)
data = open(p, "rb").read()
kind = seed % 6
if kind == 0:   data = data[:random.randrange(1, len(data))]                      # truncated gzip
elif kind == 1: data = data + os.urandom(random.randrange(1, 200))               # garbage after
elif kind == 2:                                                                  # flipped bytes
    b = bytearray(data)
    for _ in range(random.randrange(1, 20)): b[random.randrange(len(b))] ^= 1 << random.randrange(8)
    data = bytes(b)
elif kind == 3:                                                                  # bad lines
    lines = gzip.decompress(data).replace(b'{"eventVersion"', b'\n{"eventVersion"').split(b"\n")
    data = b"\n".join(l if random.random() > 0.1 else b"\xff\x00not json" for l in lines)
elif kind == 4: data = os.urandom(random.randrange(1, 5000))                     # noise
else:           data = b'{"Records":[' + b'{"a":' * 100000                       # deep nesting
open(p, "wb").write(data)
PYEOF
  timeout 120 "$BT" ingest --store "$s" -q --summary json "$d" >"$W/ci.out" 2>/dev/null
  code=$?
  if [ $code -ne 0 ] && [ $code -ne 3 ]; then
    FAILED[corrupt-input]=$((FAILED[corrupt-input] + 1)); note "corrupt-input: exit $code (case $(( $1 % 6 )))"
  fi
  n=$(count "$s")
  # the 39 undamaged files must all be there
  [ "$n" -lt $((TOTAL - 250)) ] && LOST[corrupt-input]=$((LOST[corrupt-input] + TOTAL - 250 - n))
}

# ---- corrupt stores: a message and exit 4 (or an answer), never a hang or a crash -----
GOOD="$W/good.db"
"$BT" ingest --store "$GOOD" -q "$W/arch" >/dev/null 2>&1
corrupt_store_once() {
  local s="$W/cs.db" code
  cp "$GOOD" "$s"
  "$PY" - "$s" "$1" <<'PYEOF'
import os, random, sys
p, seed = sys.argv[1], int(sys.argv[2]); random.seed(seed)
n = os.path.getsize(p)
with open(p, "r+b") as f:
    if seed % 5 == 0:
        f.truncate(random.randrange(0, n))
    else:
        for _ in range(random.randrange(1, 8)):
            f.seek(random.randrange(0, n)); f.write(os.urandom(random.randrange(1, 4096)))
PYEOF
  for cmd in "search --output json" "info" "builds" "search --event-name StartBuild --max-items 5"; do
    timeout 60 "$BT" $cmd --store "$s" >/dev/null 2>"$W/cs.err"
    code=$?
    case $code in
      0 | 1 | 4 | 5) ;;
      *) FAILED[corrupt-store]=$((FAILED[corrupt-store] + 1)); note "corrupt-store: '$cmd' exit $code" ;;
    esac
    if grep -q 'not an error' "$W/cs.err"; then
      FAILED[corrupt-store]=$((FAILED[corrupt-store] + 1)); note "corrupt-store: 'not an error'"
    fi
  done
}

# ---- serve: malformed HTTP, slow clients, forged signatures --------------------------
SECRET=campaignSecretKey0123456789abcdefABCDEF
printf 'AKIDCAMPAIGN %s\n' "$SECRET" >"$W/keys"; chmod 600 "$W/keys"
"$BT" serve --store "$GOOD" --port 0 --auth "$W/keys" 2>"$W/serve.err" &
SRV=$!
for i in $(seq 1 100); do grep -q '^listening on' "$W/serve.err" && break; sleep 0.1; done
URL=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$W/serve.err")
client() { timeout 120 "$PY" "$CLIENT" "$URL" AKIDCAMPAIGN "$SECRET" "$@" >"$W/client.out" 2>&1; }
served() { kill -0 $SRV 2>/dev/null; }
count_fail() {
  local c=$1 f
  f=$(grep -c '^FAIL' "$W/client.out")
  grep -q '^ok' "$W/client.out" || f=$((f + 1))
  served || { f=$((f + 1)); note "$c: serve died"; }
  [ "$f" -gt 0 ] && { FAILED[$c]=$((FAILED[$c] + f)); note "$c: $(grep '^FAIL' "$W/client.out" | head -2)"; }
}
malformed_http_once() { client malformed dupcl big; count_fail malformed-http; }
slow_client_once() { client slow; count_fail slow-client; }
forged_signature_once() { client forged unsigned token; count_fail forged-signature; }

start=$(date +%s)
run kill9
run corrupt-input
run corrupt-store
if [ -n "$URL" ]; then
  run malformed-http
  run slow-client
  run forged-signature
else
  note "serve did not start: $(head -3 "$W/serve.err")"
  FAILED[malformed-http]=1
fi
bad=0
echo "campaign: $(( $(date +%s) - start )) s (budget ${BUDGET} s)"
printf '%-18s %8s %8s %8s\n' case tried failed lost
for c in kill9 corrupt-input corrupt-store malformed-http slow-client forged-signature; do
  printf '%-18s %8d %8d %8d\n' "$c" "${TRIED[$c]}" "${FAILED[$c]}" "${LOST[$c]}"
  [ "${FAILED[$c]}" -gt 0 ] || [ "${LOST[$c]}" -gt 0 ] && bad=1
done
exit $bad
