#!/usr/bin/env bash
# tests/integration/it_gen.sh - end-to-end checks of the synthetic archive generator
# (bt-gen): determinism, gzip validity, and that the ground truth matches what is
# actually in the archive (unique events, per-build call counts, triggers, late and
# duplicate delivery, digests, EventBridge, corrupt files, layout, option errors).
# Env: BT_BIN_DIR = build dir holding bt-gen. Prints "N passed, M failed".
set -u

GEN="${BT_BIN_DIR:-build}/bt-gen"
if [ ! -x "$GEN" ]; then
    echo "skip: $GEN not built"
    exit 77
fi
if ! command -v python3 >/dev/null; then
    echo "skip: python3 not found"
    exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/it_gen.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok - $1"; }
ko() { FAIL=$((FAIL + 1)); echo "not ok - $1"; }
check() {
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else ko "$desc"; fi
}

# sha256 of every file (path + content), in path order
tree_sum() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum); }

ARGS=(--events 30000 --days 2 --eventbridge --corrupt)
"$GEN" --out "$TMP/a" --seed 7 "${ARGS[@]}" 2>"$TMP/a.err" || ko "bt-gen run a"
"$GEN" --out "$TMP/b" --seed 7 "${ARGS[@]}" 2>/dev/null || ko "bt-gen run b"
"$GEN" --out "$TMP/c" --seed 8 "${ARGS[@]}" 2>/dev/null || ko "bt-gen run c"
"$GEN" --out "$TMP/d" --seed 7 --events 30000 --days 2 --jobs 1 2>/dev/null || ko "bt-gen run d"

check "same seed gives a byte-identical tree" [ "$(tree_sum "$TMP/a")" = "$(tree_sum "$TMP/b")" ]
check "different seed gives a different tree" [ "$(tree_sum "$TMP/a")" != "$(tree_sum "$TMP/c")" ]
check "summary line on stderr" grep -q "^bt-gen: .* log files" "$TMP/a.err"

# gzip -t over every .json.gz except the listed corrupt ones
python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["corrupt_files"]))' \
    "$TMP/a/ground-truth.json" >"$TMP/corrupt.txt"
(cd "$TMP/a" && find AWSLogs -name '*.json.gz' | LC_ALL=C sort | grep -vxF -f "$TMP/corrupt.txt") >"$TMP/gz.txt"
check "gzip -t on all $(wc -l <"$TMP/gz.txt") log and digest files" \
    bash -c "cd '$TMP/a' && xargs gzip -t <'$TMP/gz.txt'"
check "truncated corrupt file fails gzip -t" \
    bash -c "cd '$TMP/a' && ! gzip -t \"\$(head -1 '$TMP/corrupt.txt')\" 2>/dev/null"

# Deep checks of truth against content (python prints ok/not ok lines).
cat >"$TMP/check.py" <<'EOF'
import collections, gzip, hashlib, json, os, re, sys, zlib

d, d_noeb = sys.argv[1], sys.argv[2]
T = json.load(open(os.path.join(d, "ground-truth.json")))
results = []
def check(desc, cond):
    results.append((bool(cond), desc))

corrupt = set(T["corrupt_files"])
LOG_RE = re.compile(r"^AWSLogs/(?:o-[a-z0-9]+/)?(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d\d)/(\d\d)/"
                    r"\1_CloudTrail_\2_\3\4\5T(\d\d)(\d\d)Z_[A-Za-z0-9]{16}\.json\.gz$")
DIG_RE = re.compile(r"^AWSLogs/(?:o-[a-z0-9]+/)?(\d{12})/CloudTrail-Digest/([a-z0-9-]+)/(\d{4})/(\d\d)/(\d\d)/"
                    r"\1_CloudTrail-Digest_\2_[A-Za-z0-9-]+_[a-z0-9-]+_\3\4\5T\d{6}Z\.json\.gz$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

def iso_min(s):  # minutes since epoch-ish (monotonic) for "YYYY-MM-DDTHH:MM:SSZ"
    import calendar, time
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ")) / 60.0

logs, digests, bad_names = [], [], []
for root, _, files in os.walk(os.path.join(d, "AWSLogs")):
    for f in files:
        rel = os.path.relpath(os.path.join(root, f), d)
        if rel in corrupt:
            continue
        if "/CloudTrail-Digest/" in rel:
            digests.append(rel)
            if not DIG_RE.match(rel): bad_names.append(rel)
        else:
            logs.append(rel)
            if not LOG_RE.match(rel): bad_names.append(rel)
logs.sort(); digests.sort()
check("log file count matches truth (%d)" % len(logs), len(logs) == T["files"])
check("digest file count matches truth (%d)" % len(digests), len(digests) == T["digest_files"])
check("file names follow the CloudTrail key layout", not bad_names)

raw = {}
seen = {}
n_records = 0
canon_mismatch = 0
by_name = collections.Counter()
arn_calls = collections.Counter()
arn_errors = collections.defaultdict(collections.Counter)
bad_time = bad_id = ro_str = 0
late_total = 0
late_next_day = 0
records = []  # unique records
for rel in logs:
    data = gzip.open(os.path.join(d, rel)).read()
    raw[rel] = data
    m = LOG_RE.match(rel)
    key_min = iso_min("%s-%s-%sT%s:%s:00Z" % (m.group(3), m.group(4), m.group(5), m.group(6), m.group(7)))
    for r in json.loads(data)["Records"]:
        n_records += 1
        eid = r["eventID"]
        c = json.dumps(r, sort_keys=True)
        lateness = key_min - iso_min(r["eventTime"])
        if eid in seen:
            if seen[eid] != c: canon_mismatch += 1
            if lateness > 55: late_total += 1
            continue
        seen[eid] = c
        records.append(r)
        if lateness > 55:
            late_total += 1
            r["_late"] = True
            if r["eventTime"][:10] != "%s-%s-%s" % (m.group(3), m.group(4), m.group(5)):
                late_next_day += 1
        by_name[r["eventName"]] += 1
        if not TIME_RE.match(r["eventTime"]): bad_time += 1
        if not UUID_RE.match(eid): bad_id += 1
        if isinstance(r.get("readOnly"), str): ro_str += 1
        arn = (r.get("userIdentity") or {}).get("arn", "")
        if "/AWSCodeBuild-" in arn:
            u = arn.rsplit("AWSCodeBuild-", 1)[1]
            arn_calls[u] += 1
            if "errorCode" in r:
                arn_errors[u][r["errorCode"]] += 1

check("records_written matches (%d)" % n_records, n_records == T["records_written"])
check("unique_events equals distinct eventIDs (%d)" % len(seen), len(seen) == T["unique_events"])
check("duplicates = records - unique", T["duplicates"] == n_records - len(seen) and T["duplicates"] > 0)
check("duplicated records are identical", canon_mismatch == 0)
check("by_event_name matches", dict(by_name) == T["by_event_name"])
check("eventTime is whole-second ISO Z everywhere", bad_time == 0)
check("eventID is a v4 UUID everywhere", bad_id == 0)
check("about 1%% readOnly strings (%d)" % ro_str, 0.003 * len(seen) < ro_str < 0.03 * len(seen))
check("unique events within 10% of --events", abs(len(seen) - T["generator"]["events"]) < 0.1 * T["generator"]["events"])
check("late records (>55 min after eventTime) match truth (%d)" % late_total,
      late_total == T["late_records"] and late_total > 0)
check("some late records land in the next day's prefix (%d)" % late_next_day, late_next_day > 0)

B = T["builds"]
bad_calls = [b["build_id"] for b in B if arn_calls[b["uuid"]] != b["calls"]]
check("per-build calls == records with arn ending AWSCodeBuild-<uuid> (%d builds)" % len(B), not bad_calls)
bad_err = [b["build_id"] for b in B if sum(arn_errors[b["uuid"]].values()) != b["errors"]
           or dict(arn_errors[b["uuid"]]) != b["error_codes"]]
check("per-build errors and error_codes match", not bad_err)
check("batch calls match", all(arn_calls[x["uuid"]] == x["calls"] for x in T["batches"]))
types = collections.Counter(b["trigger"]["type"] for b in B)
check("all trigger types present %s" % dict(types), all(types[t] for t in ("user", "pipeline", "webhook", "retry", "batch")))

# trigger records
starts = {}
stops = {}
owner_late = collections.Counter()
for r in records:
    n = r["eventName"]
    uid = None
    if n in ("StartBuild", "RetryBuild") and r.get("responseElements"):
        bid = r["responseElements"]["build"]["id"]
        starts[bid] = r
        uid = bid.split(":")[1]
    elif n == "StopBuild":
        stops[r["requestParameters"]["id"]] = r
        uid = r["requestParameters"]["id"].split(":")[1]
    elif n == "BatchGetBuilds":
        uid = r["requestParameters"]["ids"][0].split(":")[1]
    elif n == "StartBuildBatch":
        uid = r["responseElements"]["buildBatch"]["id"].split(":")[1]
    elif n == "AssumeRole" and (r["userIdentity"].get("invokedBy") == "codebuild.amazonaws.com"):
        uid = r["requestParameters"]["roleSessionName"].split("AWSCodeBuild-")[1]
    else:
        arn = (r.get("userIdentity") or {}).get("arn", "")
        if "/AWSCodeBuild-" in arn:
            uid = arn.rsplit("AWSCodeBuild-", 1)[1]
    if uid and r.get("_late"):
        owner_late[uid] += 1
bad_trig = []
for b in B:
    tr = b["trigger"]
    if b["start_record"] is None:
        if b["build_id"] in starts: bad_trig.append(b["build_id"])
        continue
    r = starts.get(b["build_id"])
    if (r is None or r["eventName"] != b["start_record"] or r["userIdentity"].get("arn") != tr["principal_arn"]
            or r["responseElements"]["build"]["initiator"] != tr["initiator"]
            or r["responseElements"]["build"]["buildNumber"] != b["build_number"]
            or r["eventTime"] != b["start_time"]):
        bad_trig.append(b["build_id"])
    if tr["type"] == "retry" and r is not None and r["requestParameters"]["id"] != tr["retry_of"]:
        bad_trig.append(b["build_id"])
    if tr["type"] == "pipeline" and (r is None or r["userIdentity"].get("invokedBy") != "codepipeline.amazonaws.com"
                                     or not re.search(r"/\d{13}$", tr["principal_arn"])):
        bad_trig.append(b["build_id"])
check("StartBuild/RetryBuild records match trigger truth; webhook builds have none", not bad_trig)
bad_stop = [b["build_id"] for b in B if b["stopped_by"] and
            (b["build_id"] not in stops or stops[b["build_id"]]["userIdentity"]["arn"] != b["stopped_by"])]
check("StopBuild records match stopped_by", not bad_stop and any(b["stopped_by"] for b in B))
check("late_records per build and batch match",
      all(owner_late[b["uuid"]] == b["late_records"] for b in B) and
      all(owner_late[x["uuid"]] == x["late_records"] for x in T["batches"]))

changes = collections.defaultdict(list)
for r in records:
    if r["eventName"] in ("UpdateProject", "CreateProject", "UpdateProjectVisibility", "CreateWebhook", "ImportSourceCredentials"):
        changes[(r["eventName"], r["eventTime"], r["userIdentity"].get("arn"))].append(r)
bad_ch = [b["build_id"] for b in B for c in b["project_changes"]
          if not changes.get((c["event_name"], c["time"], c["by"])) or c["time"] >= b["start_time"]]
check("project_changes have matching records before the build (%d)" % sum(len(b["project_changes"]) for b in B),
      not bad_ch and any(b["project_changes"] for b in B))

cb = sum(v for k, v in by_name.items() if k in ("StartBuild", "RetryBuild", "StopBuild", "BatchGetBuilds", "StartBuildBatch",
         "CreateProject", "UpdateProject", "UpdateProjectVisibility", "CreateWebhook", "ImportSourceCredentials"))
share = (cb + sum(arn_calls.values())) / len(seen)
check("CodeBuild-related share is a minority (%.1f%%)" % (100 * share), 0.05 < share < 0.30)

# digests: every log file listed once with the SHA-256 of its uncompressed content; chain intact
listed = collections.Counter()
bad_hash = bad_chain = 0
prev_by_stream = {}
for rel in digests:
    content = gzip.open(os.path.join(d, rel)).read()
    g = json.loads(content)
    if g["digestS3Object"] != rel: bad_chain += 1
    key = rel.split("/CloudTrail-Digest/")[0] + "/" + rel.split("/")[-5]
    prev = prev_by_stream.get(key)
    if prev is None:
        if g["previousDigestHashValue"] is not None: bad_chain += 1
    elif g["previousDigestHashValue"] != hashlib.sha256(prev[1]).hexdigest() or g["previousDigestS3Object"] != prev[0]:
        bad_chain += 1
    prev_by_stream[key] = (rel, content)
    for lf in g["logFiles"]:
        listed[lf["s3Object"]] += 1
        if hashlib.sha256(raw[lf["s3Object"]]).hexdigest() != lf["hashValue"]: bad_hash += 1
check("each log file is in exactly one digest", all(listed[x] == 1 for x in logs) and len(listed) == len(logs))
check("digest hashValue = SHA-256 of uncompressed log file", bad_hash == 0)
check("digest chain (previousDigest*, digestS3Object) intact", bad_chain == 0)

# EventBridge
ebdir = os.path.join(d, "eventbridge")
n_eb = 0
ordered = True
state = collections.defaultdict(list)
ct_ids = set()
names_ok = True
for f in sorted(os.listdir(ebdir)):
    if not re.match(r"^\d{12}-[a-z0-9-]+-\d{8}\.ndjson$", f): names_ok = False
    prev = ""
    for line in open(os.path.join(ebdir, f)):
        e = json.loads(line)
        n_eb += 1
        if e["time"] < prev: ordered = False
        prev = e["time"]
        if e["detail-type"] == "CodeBuild Build State Change":
            state[e["detail"]["build-id"]].append(e["detail"]["build-status"])
        elif e["detail-type"] == "AWS API Call via CloudTrail":
            ct_ids.add(e["detail"]["eventID"])
check("eventbridge_events matches (%d)" % n_eb, n_eb == T["eventbridge_events"] and n_eb > 0)
check("EventBridge files named <acct>-<region>-YYYYMMDD.ndjson, lines in time order", names_ok and ordered)
check("EventBridge state changes match outcomes",
      all(state[b["arn"]] == ["IN_PROGRESS", b["outcome"]] for b in B if b["outcome_source"] == "eventbridge")
      and all(not state[b["arn"]] for b in B if not b["eventbridge"]))
check("'AWS API Call via CloudTrail' details are trail records", ct_ids and ct_ids <= set(seen))
check("outcome is null unless known", all((b["outcome"] is None) == (b["outcome_source"] is None) for b in B)
      and all(b["outcome"] == "STOPPED" for b in B if b["outcome_source"] == "stopbuild"))

# corrupt files
cf = T["corrupt_files"]
ok1 = len(cf) == 2 and all(os.path.exists(os.path.join(d, x)) for x in cf)
if ok1:
    try:
        zlib.decompress(open(os.path.join(d, cf[0]), "rb").read(), 31); ok1 = False
    except zlib.error:
        pass
    try:
        json.loads(gzip.open(os.path.join(d, cf[1])).read()); ok1 = False
    except ValueError:
        pass
check("corrupt files: one truncated gzip, one non-JSON", ok1)

# the same seed without --eventbridge/--corrupt yields the same trail files
same = True
for rel in logs + digests:
    p = os.path.join(d_noeb, rel)
    if not os.path.exists(p) or open(p, "rb").read() != open(os.path.join(d, rel), "rb").read():
        same = False
        break
check("--eventbridge/--corrupt/--jobs do not change the trail files", same)

for good, desc in results:
    print(("ok - " if good else "not ok - ") + desc)
EOF
python3 "$TMP/check.py" "$TMP/a" "$TMP/d" >"$TMP/py.out" 2>&1
cat "$TMP/py.out"
PASS=$((PASS + $(grep -c '^ok - ' "$TMP/py.out")))
FAIL=$((FAIL + $(grep -c '^not ok - ' "$TMP/py.out")))
grep -q '^Traceback' "$TMP/py.out" && ko "python checker crashed"

# organization-trail layout
"$GEN" --out "$TMP/org" --org o-abc123def4 --accounts 1 --regions us-west-2 --events 3000 --days 1 2>/dev/null ||
    ko "bt-gen --org run"
check "--org puts files under AWSLogs/<o-id>/<acct>/CloudTrail/<region>/" \
    bash -c "find '$TMP/org/AWSLogs' -name '*.json.gz' | grep -q '/AWSLogs/o-abc123def4/[0-9]\{12\}/CloudTrail/us-west-2/2026/10/0[12]/'"
check "--org digests under CloudTrail-Digest" \
    bash -c "find '$TMP/org/AWSLogs' -name '*CloudTrail-Digest_us-west-2_org-trail_us-west-2_*' | grep -q '/AWSLogs/o-abc123def4/'"

# option errors: non-zero exit and a one-line message naming the option
opt_err() {
    local opt=$1
    shift
    local out rc
    out=$("$GEN" "$@" 2>&1 >/dev/null)
    rc=$?
    [ $rc -ne 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && printf '%s' "$out" | grep -q -- "$opt"
}
check "missing --out is an error" opt_err --out --seed 1
check "bad --days" opt_err --days --out "$TMP/x" --days 0
check "bad --events" opt_err --events --out "$TMP/x" --events abc
check "bad --regions" opt_err --regions --out "$TMP/x" --regions "us-east-1,,Bad"
check "bad --start" opt_err --start --out "$TMP/x" --start 2026-02-30
check "bad --org" opt_err --org --out "$TMP/x" --org org-1
check "unknown option" opt_err --frobnicate --out "$TMP/x" --frobnicate 1
check "--help exits 0" bash -c "\"$GEN\" --help >/dev/null"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
