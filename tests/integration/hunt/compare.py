#!/usr/bin/env python3
"""compare.py TRUTH ALERTS.ndjson - checks `hunt --rules builtin` alerts against bt-gen's
ground truth (pack_alerts): the same (rule, event id) pairs for single-event rules and
the same (rule, build) pairs for the correlation; every pack rule expected at least once;
prints what differs and exits 1 on a difference."""
import json
import sys

truth = json.load(open(sys.argv[1]))
alerts = [json.loads(line) for line in open(sys.argv[2]) if line.strip()]
exp, expc = set(), set()
for a in truth["pack_alerts"]:
    if a["event_id"]:
        exp.add((a["rule"], a["event_id"], a["build"]))
    else:
        expc.add((a["rule"], a["build"]))
got, gotc = set(), set()
for a in alerts:
    if "event_ids" in a:
        gotc.add((a["rule_id"], a["build_id"]))
    else:
        got.add((a["rule_id"], a["event_id"]))
exp2 = {(r, e) for r, e, _ in exp}
ok = True
if got != exp2:
    ok = False
    print("single-event alerts differ: missing", sorted(exp2 - got)[:10], "unexpected",
          sorted(got - exp2)[:10])
if gotc != expc:
    ok = False
    print("correlation alerts differ: missing", sorted(expc - gotc), "unexpected",
          sorted(gotc - expc))
# alerts about a build's own calls name the build
byid = {(a["rule_id"], a.get("event_id")): a for a in alerts}
for r, e, b in exp:
    if b and (r, e) in byid and byid[(r, e)]["build_id"] != b:
        ok = False
        print("build_id of", r, e, "is", byid[(r, e)]["build_id"], "expected", b)
numbers = {a["rule_number"] for a in truth["pack_alerts"]}
if numbers != set(range(1, 9)):
    ok = False
    print("the truth lacks rules", sorted(set(range(1, 9)) - numbers))
print("%d single-event alerts, %d correlation alerts" % (len(got), len(gotc)))
sys.exit(0 if ok else 1)
