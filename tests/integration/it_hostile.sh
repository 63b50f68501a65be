#!/usr/bin/env bash
# it_hostile.sh - hostile inputs, stores and clients (issue #17), one check per case:
# symlink loops, unreadable and missing paths beside good ones, read-only stores, the
# record size cap, slow clients, one bad record or gzip damage costing only itself,
# empty eventIDs, UNSIGNED-PAYLOAD, auth-file errors that never echo a value,
# conflicting Content-Length, FIFOs, authenticated NextTokens, and the smaller ones
# (corrupt and empty store messages, SIGINT, digests, --listen localhost, 413 after
# authentication). Servers on loopback only; every wait bounded.
. "$(dirname "$0")/lib.sh"
: "${BT:?}"
need python3
need jq
HERE=$(cd "$(dirname "$0")" && pwd)/hostile
PY=${BT_PYTHON:-python3}
cd "$T" || exit 1
chmod 755 "$T"
# as an unprivileged user when root (root ignores permissions)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  asuser() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
else
  asuser() { "$@"; }
fi

"$PY" - <<'PYEOF'
import json, gzip
def rec(i, p="e"):
    return {"eventVersion": "1.08", "eventID": "%s%04d" % (p, i),
            "eventTime": "2026-01-01T00:%02d:%02dZ" % (i // 60 % 60, i % 60),
            "eventName": "StartBuild", "eventSource": "codebuild.amazonaws.com",
            "awsRegion": "us-east-1", "recipientAccountId": "111122223333"}
gz = gzip.compress(json.dumps({"Records": [rec(i) for i in range(100)]}).encode())
open("x.json.gz", "wb").write(gz)
lines = [json.dumps(rec(i, "n")) for i in range(20)]
l = list(lines); l[10] = "this line is not JSON"
open("bad.ndjson", "w").write("\n".join(l) + "\n")
l = [x.encode() for x in lines]; l[10] = l[10].replace(b"StartBuild", b"Start\xff\xfeBuild")
open("utf8.ndjson", "wb").write(b"\n".join(l) + b"\n")
l = [x.encode() for x in lines]; l[3] = l[3].replace(b"StartBuild", b"Start\x00Build")
open("nul.ndjson", "wb").write(b"\n".join(l) + b"\n")
gz2 = gzip.compress(json.dumps({"Records": [rec(i, "g") for i in range(100)]}).encode())
open("garbage.json.gz", "wb").write(gz2 + b"G" * 64)
gz3 = gzip.compress(json.dumps({"Records": [rec(i, "t") for i in range(100)]}).encode())
open("trunc.json.gz", "wb").write(gz3[:len(gz3) * 2 // 3])
e = [rec(1, "z"), rec(2, "z")]; e[0]["eventID"] = ""; e[1]["eventID"] = ""
open("emptyid.ndjson", "w").write("\n".join(json.dumps(x) for x in e) + "\n")
big = rec(2, "b"); big["requestParameters"] = {"x": "a" * (2 << 20)}
open("big.json.gz", "wb").write(gzip.compress(json.dumps({"Records": [rec(1, "b"), big, rec(3, "b")]}).encode()))
open("digest.json", "w").write(json.dumps({"awsAccountId": "111122223333",
    "digestStartTime": "2026-01-01T00:00:00Z", "digestEndTime": "2026-01-01T01:00:00Z",
    "digestS3Bucket": "b", "newestEventTime": None, "logFiles": []}))
PYEOF

sumj() { jq -r ".$1"; }

# ---- 1 symlink loops --------------------------------------------------------------------
mkdir -p loop/sub && cp x.json.gz loop/ && ln -s . loop/self && ln -s .. loop/sub/up
out=$(timeout -k 2 20 "$BT" ingest --store "$T/s1.db" --summary json loop 2>"$T/e1")
eq "1 loop: ingest ends, exit 0" 0 $?
eq "1 loop: each record read once" 100 "$(echo "$out" | sumj records)"
eq "1 loop: one warning line" 1 "$(grep -c 'directory already read' "$T/e1")"
n=$(timeout -k 2 20 "$BT" search --from loop --output json 2>/dev/null | jq '.Events | length')
eq "1 loop: search --from prints each event once" 100 "$n"

# ---- 2 unreadable subdirectory, missing path beside good ones ---------------------------
mkdir -p part/locked && cp x.json.gz part/ && cp garbage.json.gz part/locked/ && chmod 000 part/locked
chmod 777 "$T"
out=$(asuser timeout -k 2 20 "$BT" ingest --store "$T/s2.db" --summary json part 2>"$T/e2"); code=$?
eq "2 unreadable subdirectory: exit 3" 3 "$code"
eq "2 unreadable subdirectory: the rest loaded" 100 "$(echo "$out" | sumj new)"
contains "2 unreadable subdirectory: reported" "part/locked" "$(cat "$T/e2")"
out=$(timeout -k 2 20 "$BT" ingest --store "$T/s2b.db" --summary json x.json.gz "$T/nope" 2>"$T/e2b"); code=$?
eq "2 missing path beside a good one: exit 3" 3 "$code"
eq "2 missing path beside a good one: the rest loaded" 100 "$(echo "$out" | sumj new)"
contains "2 missing path: reported" "nope" "$(cat "$T/e2b")"
n=$(timeout -k 2 20 "$BT" search --from x.json.gz --from "$T/nope" --output json 2>/dev/null | jq '.Events | length')
eq "2 search --from with a missing path: the rest read" 100 "$n"
status "2 search --from with a missing path: exit 3" 3 timeout -k 2 20 "$BT" search --from x.json.gz --from "$T/nope"
n=$(asuser timeout -k 2 20 "$BT" search --from part --output json 2>/dev/null | jq '.Events | length')
eq "2 search --from with an unreadable subdirectory: the rest read" 100 "$n"
chmod 755 "$T"; chmod 755 part/locked

# ---- 3 read-only store ------------------------------------------------------------------
mkdir ro && "$BT" ingest --store "$T/ro/s.db" -q x.json.gz >/dev/null
chmod 755 ro; chmod 644 ro/s.db; chmod 555 ro
[ ! -s ro/s.db-wal ] && ok || bad "3: the WAL is not checkpointed after ingest"
n=$(asuser timeout -k 2 20 "$BT" search --store "$T/ro/s.db" --output json 2>"$T/e3" | jq '.Events | length')
eq "3 read-only store: search" 100 "$n"
status "3 read-only store: info" 0 asuser timeout -k 2 20 "$BT" info --store "$T/ro/s.db"
status "3 read-only store: builds" 0 asuser timeout -k 2 20 "$BT" builds --store "$T/ro/s.db"
asuser timeout -k 2 20 "$BT" serve --store "$T/ro/s.db" --port 0 2>"$T/e3s" &
SP=$!; cleanup_hooks+=("kill $SP 2>/dev/null")
for i in $(seq 1 100); do grep -q '^listening on' "$T/e3s" && break; sleep 0.1; done
contains "3 read-only store: serve starts" "listening on" "$(cat "$T/e3s")"
URL=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$T/e3s")
if [ -n "$URL" ]; then
  r=$(curl -s -m 10 -X POST -H 'X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents' \
      -H 'Content-Type: application/x-amz-json-1.1' -d '{"MaxResults":5}' "$URL/")
  eq "3 read-only store: serve answers" 5 "$(echo "$r" | jq '.Events | length')"
fi
kill $SP 2>/dev/null; wait $SP 2>/dev/null
chmod 755 ro

# ---- 4 record size cap ------------------------------------------------------------------
out=$(timeout -k 2 30 "$BT" ingest --store "$T/s4.db" --summary json big.json.gz 2>"$T/e4"); code=$?
eq "4 oversized record: refused, the others loaded" 2 "$(echo "$out" | sumj new)"
eq "4 oversized record: exit 3" 3 "$code"
contains "4 oversized record: counted" "1 records larger than 1048576 bytes refused" "$(cat "$T/e4")"
out=$(timeout -k 2 30 "$BT" ingest --store "$T/s4b.db" --summary json --max-record-size 4194304 big.json.gz 2>/dev/null)
eq "4 --max-record-size raises the cap" 3 "$(echo "$out" | sumj new)"
n=$(timeout -k 2 30 "$BT" search --from big.json.gz --output json 2>/dev/null | jq '.Events | length')
eq "4 search --from: oversized refused" 2 "$n"
status "4 /dev/zero named as input: refused" 2 timeout -k 2 10 "$BT" ingest --store "$T/s4c.db" /dev/zero
status "4 bad --max-record-size" 2 "$BT" ingest --store "$T/s4c.db" --max-record-size 12x x.json.gz

# ---- 6 one bad part costs only itself ---------------------------------------------------
for f in bad utf8 nul; do
  out=$(timeout -k 2 20 "$BT" ingest --store "$T/s6$f.db" --summary json $f.ndjson 2>"$T/e6"); code=$?
  eq "6 NDJSON with one bad line ($f): the other 19 load" 19 "$(echo "$out" | sumj new)"
  eq "6 NDJSON with one bad line ($f): exit 3" 3 "$code"
done
out=$(timeout -k 2 20 "$BT" ingest --store "$T/s6g.db" --summary json garbage.json.gz 2>"$T/e6g")
eq "6 garbage after a complete gzip member: all 100 load" 100 "$(echo "$out" | sumj new)"
contains "6 garbage after gzip: reported" "trailing garbage" "$(cat "$T/e6g")"
out=$(timeout -k 2 20 "$BT" ingest --store "$T/s6t.db" --summary json trunc.json.gz 2>/dev/null)
n=$(echo "$out" | sumj new)
[ "$n" -gt 0 ] && [ "$n" -lt 100 ] && ok || bad "6 truncated gzip: the records before the cut (got $n)"

# ---- 7 empty eventID --------------------------------------------------------------------
out=$(timeout -k 2 20 "$BT" ingest --store "$T/s7.db" --summary json emptyid.ndjson 2>/dev/null)
eq "7 two records with an empty eventID: both new" 2 "$(echo "$out" | sumj new)"
eq "7 no duplicates between them" 0 "$(echo "$out" | sumj duplicate)"

# a store for the store and serve cases
"$BT" ingest --store "$T/srv.db" -q x.json.gz >/dev/null 2>&1

# ---- 9 auth-file errors never echo a value ----------------------------------------------
SECRET=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEYab
printf '%s AKIDHOSTILE\n' "$SECRET/+" >"$T/swapped"
"$BT" serve --store "$T/srv.db" --port 0 --auth "$T/swapped" 2>"$T/e9" & SP=$!
( sleep 5; kill $SP 2>/dev/null ) & wait $SP 2>/dev/null
case "$(cat "$T/e9")" in *"$SECRET"*) bad "9 auth file error echoes the secret: $(cat "$T/e9")" ;; *) ok ;; esac
printf 'AKIDHOSTILE %s\nAKIDHOSTILE %s\n' "$SECRET" "$SECRET" >"$T/twice"
"$BT" serve --store "$T/srv.db" --port 0 --auth "$T/twice" 2>"$T/e9b" & SP=$!
( sleep 5; kill $SP 2>/dev/null ) & wait $SP 2>/dev/null
case "$(cat "$T/e9b")" in *AKIDHOSTILE*|*"$SECRET"*) bad "9 duplicate key error echoes a value: $(cat "$T/e9b")" ;; *) ok ;; esac

# ---- 11 FIFO ----------------------------------------------------------------------------
mkfifo fifo
status "11 a FIFO named as input is refused at once" 2 timeout -k 2 10 "$BT" ingest --store "$T/s11.db" fifo
status "11 search --from a FIFO is refused at once" 2 timeout -k 2 10 "$BT" search --from fifo

# ---- 13 smaller ones --------------------------------------------------------------------
: >"$T/empty.db"
"$BT" search --store "$T/empty.db" >/dev/null 2>"$T/e13"; code=$?
case "$(cat "$T/e13")" in *"schema upgrade"*) bad "13 0-byte store: says schema upgrade" ;; *) ok ;; esac
contains "13 0-byte store: says empty" "empty" "$(cat "$T/e13")"
cp "$T/srv.db" "$T/corrupt.db"
"$PY" - "$T/corrupt.db" <<'PYEOF'
import sys, os
p = sys.argv[1]; n = os.path.getsize(p)
with open(p, "r+b") as f:
    # every page but the first (the schema) loses its head: its b-tree header or, for a
    # record's overflow page, the link to the next
    f.seek(16); ps = int.from_bytes(f.read(2), "big"); ps = 65536 if ps == 1 else ps
    for off in range(ps, n, ps):
        f.seek(off); f.write(os.urandom(min(2000, ps)))
PYEOF
"$BT" search --store "$T/corrupt.db" >/dev/null 2>"$T/e13c"; code=$?
eq "13 corrupt store: exit 4" 4 "$code"
contains "13 corrupt store: says corrupt" "is corrupt" "$(cat "$T/e13c")"
case "$(cat "$T/e13c")" in *"not an error"*) bad "13 corrupt store: 'not an error'" ;; *) ok ;; esac
( sleep 3 ) | { timeout 15 "$BT" ingest --store "$T/s13.db" - 2>"$T/e13i" >/dev/null; echo $? >"$T/c13i"; } &
IP=$!
for i in $(seq 1 50); do BP=$(pgrep -f "ingest --store $T/s13.db" | head -1); [ -n "$BP" ] && break; sleep 0.1; done
sleep 1; [ -n "$BP" ] && kill -INT $(pgrep -P "$BP" || echo "$BP") 2>/dev/null
wait $IP 2>/dev/null
eq "13 SIGINT: exit 130" 130 "$(cat "$T/c13i")"
contains "13 SIGINT before anything is stored: says so" "no new events were stored" "$(cat "$T/e13i")"
out=$("$BT" ingest --store "$T/s13d.db" --summary json digest.json 2>/dev/null)
eq "13 digest without digestS3Object: counted as a digest" 1 "$(echo "$out" | sumj digests)"

# ---- serve: 5, 8, 10, 12, 13 ------------------------------------------------------------
printf 'AKIDHOSTILE %s\n' "$SECRET" >"$T/keys"; chmod 600 "$T/keys"
# serve_up NAME ARGS...: serve on a free loopback port; sets URL and SP
serve_up() {
  local name=$1 i
  shift
  if [ "${1:-}" = prlimit ]; then "$@" 2>"$T/$name.err" & else "$BT" serve --store "$T/srv.db" --port 0 "$@" 2>"$T/$name.err" & fi
  SP=$!; cleanup_hooks+=("kill $SP 2>/dev/null")
  for i in $(seq 1 100); do grep -q '^listening on' "$T/$name.err" && break; kill -0 $SP 2>/dev/null || break; sleep 0.1; done
  URL=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$T/$name.err")
}
serve_up lh --listen localhost
contains "13 --listen localhost: listens on loopback" "http://127.0.0.1:" "$URL"
kill $SP 2>/dev/null; wait $SP 2>/dev/null
# 4 one response is capped: 12 records of 900 KB do not make one 11 MB page
"$PY" -c '
import json
for i in range(12):
    print(json.dumps({"eventVersion": "1.08", "eventID": "w%02d" % i, "eventTime": "2026-03-01T00:00:%02dZ" % i,
                      "eventName": "StartBuild", "eventSource": "codebuild.amazonaws.com",
                      "requestParameters": {"x": "y" * 900000}}))' >"$T/wide.ndjson"
"$BT" ingest --store "$T/wide.db" -q "$T/wide.ndjson" >/dev/null 2>&1
"$BT" serve --store "$T/wide.db" --port 0 2>"$T/wide.err" & WP=$!; cleanup_hooks+=("kill $WP 2>/dev/null")
for i in $(seq 1 100); do grep -q '^listening on' "$T/wide.err" && break; sleep 0.1; done
WURL=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$T/wide.err")
r=$(curl -s -m 20 -X POST -H 'X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents' \
    -H 'Content-Type: application/x-amz-json-1.1' -d '{}' "$WURL/")
n=$(echo "$r" | jq '.Events | length'); tok=$(echo "$r" | jq -r '.NextToken // empty')
[ "${#r}" -le $((9 << 20)) ] && [ "$n" -lt 12 ] && [ -n "$tok" ] && ok ||
  bad "4 serve response cap: ${#r} bytes, $n events, token '${tok}'"
kill $WP 2>/dev/null; wait $WP 2>/dev/null
# a descriptor limit of 256, as a small ulimit -n: 400 slow connections must not lock
# anyone out
if command -v prlimit >/dev/null; then
  serve_up srv prlimit --nofile=256 -- "$BT" serve --store "$T/srv.db" --port 0 --auth "$T/keys" --max-body 65536
else
  serve_up srv --auth "$T/keys" --max-body 65536
fi
if [ -n "$URL" ]; then
  timeout 120 "$PY" "$HERE/client.py" "$URL" AKIDHOSTILE "$SECRET" dupcl unsigned big token forged malformed slow >"$T/client.out" 2>&1
  sed 's/^/  /' "$T/client.out"
  while read -r w rest; do
    case "$w" in ok) ok ;; FAIL) bad "$rest" ;; esac
  done <"$T/client.out"
  grep -q '^ok' "$T/client.out" || bad "client.py ran no check: $(tail -3 "$T/client.out")"
  lines=$(grep -c 'buildtrail: serve:' "$T/srv.err")
  [ "$lines" -le 20 ] && ok || bad "5 aborted connections logged $lines times (rate limit)"
fi
kill $SP 2>/dev/null; wait $SP 2>/dev/null
finish
