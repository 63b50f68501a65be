#!/usr/bin/env bash
# it_lookup_live.sh - `buildtrail build <id> --live` with real peers on loopback:
# LookupEvents answered by `buildtrail serve` (behind a logging proxy, to see that the
# role session is filtered by the service: Username=AWSCodeBuild-<uuid>), and CodeBuild
# BatchGetBuilds answered by moto_server, where a project is created and a build
# started. The live timeline of a generated build equals the stored one; the moto
# build's status and phases reach the output; a refused BatchGetBuilds leaves a note.
. "$(dirname "$0")/lib.sh"
: "${BT:?}"
need jq
need python3
need curl
command -v moto_server >/dev/null 2>&1 || { echo "SKIP: moto_server not on PATH"; exit 77; }
python3 -c 'import boto3, moto' 2>/dev/null || { echo "SKIP: python3 lacks boto3/moto"; exit 77; }
GEN=${BT_BIN_DIR:?}/bt-gen
[ -x "$GEN" ] || { echo "SKIP: $GEN not built"; exit 77; }
HERE=$(cd "$(dirname "$0")" && pwd)/lookup

export HOME="$T/home" TZ=UTC AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE \
      AWS_ENDPOINT_URL AWS_ENDPOINT_URL_CLOUDTRAIL AWS_ENDPOINT_URL_CODEBUILD
mkdir -p "$HOME"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- moto: a CodeBuild project and a build ---------------------------------------------------
MPORT=$(free_port)
MOTO="http://127.0.0.1:$MPORT"
moto_server -H 127.0.0.1 -p "$MPORT" >"$T/moto.log" 2>&1 &
cleanup_hooks+=("kill $! 2>/dev/null")
for i in $(seq 1 150); do
  curl -s --max-time 1 -o /dev/null "$MOTO/moto-api/" && break
  sleep 0.2
done
curl -s --max-time 1 -o /dev/null "$MOTO/moto-api/" || { bad "moto_server did not start: $(tail -3 "$T/moto.log")"; finish; }
mkdir -p "$T/mb"
MB=$(timeout 120 python3 "$HERE/moto_build.py" "$MOTO" "$T/mb" 2>"$T/mb.err") || { bad "moto setup: $(tail -3 "$T/mb.err")"; finish; }

# ---- the event history: generated events + the moto build's records, served -------------------
S="$T/store.db"
"$GEN" --out "$T/gen" --events 800 --days 1 --seed 4 --accounts 1 --regions us-east-1 >"$T/gen.log" 2>&1 ||
  { bad "bt-gen failed"; finish; }
# the project changes of every kind before the first generated build, among them the
# three that the live timeline once left out (DeleteProject, InvalidateProjectCache,
# DeleteResourcePolicy): seconds before the build starts, by a user
python3 - "$T/gen/ground-truth.json" >"$T/changes.ndjson" <<'PY' || { bad "change records"; finish; }
import datetime, json, sys, uuid
b = json.load(open(sys.argv[1]))["builds"][0]
t0 = datetime.datetime.strptime(b["start_time"], "%Y-%m-%dT%H:%M:%SZ")
acct, p = b["account"], b["project"]
arn = "arn:aws:codebuild:%s:%s:project/%s" % (b["region"], acct, p)
user = {"type": "IAMUser", "principalId": "AIDACHANGES", "arn": "arn:aws:iam::%s:user/erin" % acct,
        "accountId": acct, "accessKeyId": "AKIAERIN", "userName": "erin"}
for i, (name, req) in enumerate([("InvalidateProjectCache", {"projectName": p}),
                                 ("DeleteResourcePolicy", {"resourceArn": arn}),
                                 ("DeleteProject", {"name": p})]):
    t = (t0 - datetime.timedelta(seconds=4 - i)).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(json.dumps({"eventVersion": "1.08", "userIdentity": user, "eventTime": t,
                      "eventSource": "codebuild.amazonaws.com", "eventName": name,
                      "awsRegion": b["region"], "sourceIPAddress": "203.0.113.9",
                      "userAgent": "aws-cli/2", "requestParameters": req, "responseElements": None,
                      "requestID": str(uuid.uuid4()), "eventID": str(uuid.uuid4()),
                      "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True,
                      "recipientAccountId": acct, "eventCategory": "Management"}))
PY
"$BT" ingest --store "$S" -q "$T/gen" "$T/mb/records.ndjson" "$T/changes.ndjson" >/dev/null || { bad "ingest failed"; finish; }
"$BT" serve --store "$S" --port 0 2>"$T/serve.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
for i in $(seq 1 100); do
  SERVE=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$T/serve.err")
  [ -n "$SERVE" ] && break
  sleep 0.1
done
[ -n "$SERVE" ] || { bad "serve did not start"; finish; }
python3 "$HERE/faulty.py" --upstream "$SERVE" --port-file "$T/p.port" --log "$T/p.log" --lifetime 600 >"$T/p.out" 2>&1 &
cleanup_hooks+=("kill $! 2>/dev/null")
for i in $(seq 1 100); do [ -s "$T/p.port" ] && break; sleep 0.1; done
CT="http://127.0.0.1:$(cat "$T/p.port")"
live() { timeout 120 "$BT" build "$@" --live --endpoint-url "$CT"; }

# ---- the moto build: events from serve, status and phases from moto --------------------------
live "$MB" --codebuild-endpoint-url "$MOTO" --output json >"$T/mb.json" 2>"$T/mb.err"
eq "moto build: exit 0" 0 $?
eq "moto build: outcome from BatchGetBuilds" "$(jq -r .buildStatus "$T/mb/build.json") batchgetbuilds" \
  "$(jq -r '.Build.Outcome + " " + .Build.OutcomeSource' "$T/mb.json")"
eq "moto build: BatchGetBuilds status" "$(jq -r .buildStatus "$T/mb/build.json")" "$(jq -r .Live.BuildStatus "$T/mb.json")"
eq "moto build: current phase" "$(jq -r .currentPhase "$T/mb/build.json")" "$(jq -r .Live.CurrentPhase "$T/mb.json")"
# moto adds phases on every BatchGetBuilds; the kinds must all be there, in order
eq "moto build: phases" "$(jq -r '[.phases[].phaseType] | unique | join(",")' "$T/mb/build.json")" \
  "$(jq -r '[.Live.Phases[].Phase] | unique | join(",")' "$T/mb.json")"
eq "moto build: first phase" SUBMITTED "$(jq -r '.Live.Phases[0].Phase' "$T/mb.json")"
eq "moto build: calls and errors of its role session" "3 1" "$(jq -r '"\(.Build.Calls) \(.Build.Errors)"' "$T/mb.json")"
eq "moto build: trigger" "arn:aws:iam::123456789012:user/dana" "$(jq -r .Build.Trigger.Principal "$T/mb.json")"
eq "moto build: the denied call" AccessDenied "$(jq -r '.Errors[0].ErrorCode' "$T/mb.json")"
# the role session was filtered by the service
jq -r .body "$T/p.log" >"$T/bodies"
grep -q "\"AttributeKey\":\"Username\",\"AttributeValue\":\"AWSCodeBuild-${MB#*:}\"" "$T/bodies" && ok ||
  bad "no LookupEvents with Username=AWSCodeBuild-<uuid> was sent"
grep -q '"AttributeKey":"EventName","AttributeValue":"StartBuild"' "$T/bodies" && ok ||
  bad "no LookupEvents for the StartBuild records was sent"
# for people
live "$MB" --codebuild-endpoint-url "$MOTO" >"$T/mb.txt" 2>&1
contains "people: BatchGetBuilds status" "BatchGetBuilds: $(jq -r .buildStatus "$T/mb/build.json")" "$(cat "$T/mb.txt")"
contains "people: phases" "UPLOAD_ARTIFACTS" "$(cat "$T/mb.txt")"
contains "people: outcome" "Outcome   $(jq -r .buildStatus "$T/mb/build.json") (from batchgetbuilds)" "$(cat "$T/mb.txt")"
# --query works on the live document
eq "--query on the live document" "$(jq -r .buildStatus "$T/mb/build.json")" \
  "$(live "$MB" --codebuild-endpoint-url "$MOTO" --query Live.BuildStatus --output text)"

# ---- generated builds: the live timeline is the stored one ------------------------------------
# (events of the same second have no defined order: both sides sorted by time, then id)
norm='del(.Live) | .Events |= sort_by(.Time, .EventId) | .Errors |= sort_by(.Time, .EventId)'
for b in $(jq -r '.builds[:3][].build_id' "$T/gen/ground-truth.json"); do
  "$BT" build --store "$S" "$b" --output json | jq -S "$norm" >"$T/stored.json"
  live "$b" --codebuild-endpoint-url "$SERVE" --output json 2>/dev/null | jq -S "$norm" >"$T/live.json"
  if cmp -s "$T/stored.json" "$T/live.json" && [ -s "$T/live.json" ]; then ok; else
    bad "live timeline of $b differs from the stored one: $(diff "$T/stored.json" "$T/live.json" | head -5)"
  fi
done
# the three change events are in both, the same
b=$(jq -r '.builds[0].build_id' "$T/gen/ground-truth.json")
want="DeleteProject DeleteResourcePolicy InvalidateProjectCache"
eq "stored timeline: the three project changes" "$want" \
  "$("$BT" build --store "$S" "$b" --output json | jq -r '[.ProjectChanges[] | select(.By | endswith("user/erin")) | .EventName] | sort | join(" ")')"
eq "live timeline: the three project changes" "$want" \
  "$(live "$b" --codebuild-endpoint-url "$SERVE" --output json 2>/dev/null | jq -r '[.ProjectChanges[] | select(.By | endswith("user/erin")) | .EventName] | sort | join(" ")')"
# BatchGetBuilds refused (serve does not answer CodeBuild): a note, facts from events only
b=$(jq -r '.builds[0].build_id' "$T/gen/ground-truth.json")
live "$b" --codebuild-endpoint-url "$SERVE" --output json >"$T/r.json" 2>/dev/null
eq "refused BatchGetBuilds: still exit 0" 0 $?
eq "refused BatchGetBuilds: no phases" "false 0" "$(jq -r '"\(.Live.BatchGetBuilds) \(.Live.Phases | length)"' "$T/r.json")"
contains "refused BatchGetBuilds: a note says why" "UnknownOperationException" "$(jq -r .Live.Note "$T/r.json")"
# a uuid alone: the project is found through the StartBuild record
live "${MB#*:}" --codebuild-endpoint-url "$MOTO" --output json >"$T/u.json" 2>/dev/null
eq "uuid alone: the project found, BatchGetBuilds asked" "live-demo true" "$(jq -r '"\(.Build.Project) \(.Live.BatchGetBuilds)"' "$T/u.json")"
status "unknown build: exit 5" 5 "$BT" build 00000000-1111-4222-8333-444444444444 --live --endpoint-url "$SERVE" \
  --codebuild-endpoint-url "$MOTO" --start-time 2026-10-01 --end-time 2026-10-02
finish
