#!/usr/bin/env bash
# it_aws_moto.sh - the AWS client layer against real peers on loopback: moto_server
# (IAM SigV4 verification on, STS, CodeBuild) and small python3 http.server peers
# (container credentials, IMDSv2, a scripted JSON service for retries). Drives
# bt-awsdriver; checks right keys are accepted, wrong ones rejected with the
# service's error, every credential source, retries, and that no secret reaches the
# debug log or any error output. Prints "N passed, M failed".
set -u

D="${BT_BIN_DIR:?}/bt-awsdriver"
HERE="${BT_SOURCE_DIR:?}/tests/integration/aws"
[ -x "$D" ] || { echo "SKIP: $D not built"; exit 77; }
command -v moto_server >/dev/null 2>&1 || { echo "SKIP: moto_server not on PATH"; exit 77; }
python3 -c 'import boto3, moto' 2>/dev/null || { echo "SKIP: python3 lacks boto3/moto"; exit 77; }

TMP=$(mktemp -d)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/     | /' "$2" | head -20; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_peer NAME MODE ARGS...: starts peer_server.py, sets PORT_<NAME>
start_peer() {
    local name=$1 mode=$2 i
    shift 2
    python3 "$HERE/peer_server.py" "$mode" --port-file "$TMP/$name.port" --lifetime 600 "$@" \
        >"$TMP/$name.log" 2>&1 &
    PIDS+=($!)
    for i in $(seq 1 100); do
        [ -s "$TMP/$name.port" ] && break
        sleep 0.1
    done
    [ -s "$TMP/$name.port" ] || { echo "cannot start peer $name"; cat "$TMP/$name.log"; exit 1; }
    printf -v "PORT_$name" '%s' "$(cat "$TMP/$name.port")"
}

# ---- moto ----
MPORT=$(free_port)
URL="http://127.0.0.1:$MPORT"
moto_server -H 127.0.0.1 -p "$MPORT" >"$TMP/moto.log" 2>&1 &
PIDS+=($!)
for i in $(seq 1 150); do
    curl -s --max-time 1 -o /dev/null "$URL/moto-api/" && break
    sleep 0.2
done
curl -s --max-time 1 -o /dev/null "$URL/moto-api/" || { echo "moto_server did not start"; cat "$TMP/moto.log"; exit 1; }
timeout 120 python3 "$HERE/moto_setup.py" "$URL" "$TMP/keys" >"$TMP/setup.log" 2>&1 ||
    { echo "moto setup failed"; cat "$TMP/setup.log"; exit 1; }
# shellcheck disable=SC1091
. "$TMP/keys"

# moto checks SigV4 (against its IAM keys) once this many actions have run unchecked
auth_after() {
    curl -s --max-time 5 -X POST -H 'Content-Type: text/plain' --data-binary "$1" \
        "$URL/moto-api/reset-auth" >/dev/null
}
auth_after 0

mkdir -p "$TMP/home"
# drv [VAR=value ...] -- driver args: a clean environment (no host credentials, no
# proxies), moto as the endpoint for every service, the debug log collected.
drv() {
    local envs=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
        envs+=("$1")
        shift
    done
    shift
    env -i PATH="$PATH" HOME="$TMP/home" AWS_CONFIG_FILE="$TMP/none" \
        AWS_SHARED_CREDENTIALS_FILE="$TMP/none" AWS_EC2_METADATA_DISABLED=true \
        AWS_ENDPOINT_URL="$URL" AWS_REGION=us-east-1 "${envs[@]}" \
        timeout 60 "$D" --log "$TMP/debug.log" "$@"
}

# expect NAME WANT_STATUS PATTERN [VAR=.. --] ARGS: runs drv, checks exit status and
# that stdout+stderr matches the extended regex PATTERN.
expect() {
    local name=$1 want=$2 pat=$3 st
    shift 3
    drv "$@" >"$TMP/out" 2>&1
    st=$?
    cat "$TMP/out" >>"$TMP/all_output"
    if [ "$st" -eq "$want" ] && grep -Eq -- "$pat" "$TMP/out"; then
        ok "$name"
    else
        echo "     exit $st (wanted $want), pattern /$pat/" >>"$TMP/out"
        bad "$name" "$TMP/out"
    fi
}

ENVK=("AWS_ACCESS_KEY_ID=$AK" "AWS_SECRET_ACCESS_KEY=$SK")

# ---- static keys from the environment ----
expect "env keys: GetCallerIdentity accepted" 0 "arn=arn:aws:iam::123456789012:user/alice" \
    "${ENVK[@]}" -- whoami
expect "env keys: CodeBuild BatchGetBuilds accepted" 0 "\"id\":\"$BUILD\"" \
    "${ENVK[@]}" -- builds "$BUILD"
expect "wrong secret: STS says SignatureDoesNotMatch" 1 \
    "GetCallerIdentity: SignatureDoesNotMatch \(HTTP 403\).*aws_code=SignatureDoesNotMatch" \
    "AWS_ACCESS_KEY_ID=$AK" "AWS_SECRET_ACCESS_KEY=not-the-secret-0123456789" -- whoami
expect "wrong secret: CodeBuild says SignatureDoesNotMatch" 1 \
    "BatchGetBuilds: SignatureDoesNotMatch \(HTTP 403\)" \
    "AWS_ACCESS_KEY_ID=$AK" "AWS_SECRET_ACCESS_KEY=not-the-secret-0123456789" -- builds "$BUILD"
expect "unknown key id: InvalidClientTokenId" 1 "InvalidClientTokenId" \
    "AWS_ACCESS_KEY_ID=AKIAUNKNOWNUNKNOWN00" "AWS_SECRET_ACCESS_KEY=x" -- whoami
expect "key without secret: partial credentials" 1 "partial credentials.*AWS_SECRET_ACCESS_KEY" \
    "AWS_ACCESS_KEY_ID=$AK" -- whoami
expect "no credentials: names the sources tried" 1 \
    "unable to locate credentials.*environment variables.*shared credentials file.*credential_process.*container credentials.*EC2 instance metadata" \
    -- creds
expect "named profile missing: configuration error" 1 "config profile 'nope' could not be found" \
    -- --profile nope creds

# ---- S3 (REST, S3 signing rules: unnormalised path, x-amz-content-sha256) ----
expect "S3 ListObjectsV2 with a prefix" 0 "<Key>AWSLogs/123456789012/CloudTrail/us-east-1/log1.json.gz</Key>" \
    "${ENVK[@]}" -- s3 GET /trail-bucket "prefix=AWSLogs&list-type=2&max-keys=10"
expect "S3 GetObject" 0 "^log file body" \
    "${ENVK[@]}" -- s3 GET "/trail-bucket/AWSLogs/123456789012/CloudTrail/us-east-1/log1.json.gz"
expect "S3 missing key is NoSuchKey" 1 "NoSuchKey \(HTTP 404\)" \
    "${ENVK[@]}" -- s3 GET /trail-bucket/nope
expect "S3 wrong secret is SignatureDoesNotMatch" 1 "SignatureDoesNotMatch \(HTTP 403\)" \
    "AWS_ACCESS_KEY_ID=$AK" "AWS_SECRET_ACCESS_KEY=not-the-secret-0123456789" -- s3 GET /trail-bucket "list-type=2"

# ---- shared files ----
cat >"$TMP/credentials" <<EOF
[alice]
aws_access_key_id = $AK
aws_secret_access_key = $SK
EOF
cat >"$TMP/config" <<EOF
# comment
[default]
region = us-east-1

[profile cfgkeys]
aws_access_key_id = $AK
aws_secret_access_key = $SK

[profile r1]
role_arn = arn:aws:iam::123456789012:role/r1
source_profile = alice

[profile r2]
role_arn = arn:aws:iam::123456789012:role/r2
source_profile = r1
role_session_name = chained-session

[profile fromenv]
role_arn = arn:aws:iam::123456789012:role/r1
credential_source = Environment

[profile self]
role_arn = arn:aws:iam::123456789012:role/r1
source_profile = self
aws_access_key_id = $AK
aws_secret_access_key = $SK

[profile loop1]
role_arn = arn:aws:iam::123456789012:role/r2
source_profile = loop2

[profile loop2]
role_arn = arn:aws:iam::123456789012:role/r2
source_profile = loop1

[profile both]
role_arn = arn:aws:iam::123456789012:role/r2
source_profile = alice
credential_source = Environment

[profile dangling]
role_arn = arn:aws:iam::123456789012:role/r2
source_profile = nowhere

[profile proc]
credential_process = "$TMP/cred proc.sh" ok

[profile procfail]
credential_process = "$TMP/cred proc.sh" fail

[profile procver]
credential_process = "$TMP/cred proc.sh" version2

[profile sso]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = ReadOnly

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1

[profile svc]
aws_access_key_id = $AK
aws_secret_access_key = $SK
services = local-moto

[services local-moto]
sts =
  endpoint_url = $URL
EOF
cat >"$TMP/badcreds" <<EOF
[alice]
aws_access_key_id = $AK
aws_secret_access_key = not-the-secret-0123456789
EOF
FILES=("AWS_CONFIG_FILE=$TMP/config" "AWS_SHARED_CREDENTIALS_FILE=$TMP/credentials")

expect "credentials file profile" 0 "user/alice" "${FILES[@]}" -- --profile alice whoami
expect "credentials file profile via AWS_PROFILE" 0 "source=shared-credentials-file" \
    "${FILES[@]}" AWS_PROFILE=alice -- creds
expect "config file static keys" 0 "source=config-file" "${FILES[@]}" -- --profile cfgkeys creds
expect "--profile skips environment keys" 0 "source=config-file" \
    "${FILES[@]}" AWS_ACCESS_KEY_ID=AKIAFROMENVIRONMENT0 AWS_SECRET_ACCESS_KEY=x -- --profile cfgkeys creds
expect "AWS_PROFILE does not skip environment keys" 0 "source=env" \
    "${FILES[@]}" "${ENVK[@]}" AWS_PROFILE=cfgkeys -- creds
expect "assume role via source_profile" 0 "arn=arn:aws:sts::123456789012:assumed-role/r1/" \
    "${FILES[@]}" -- --profile r1 whoami
expect "assume role chain r2 <- r1 <- alice (signed with session tokens)" 0 \
    "assumed-role/r2/chained-session" "${FILES[@]}" -- --profile r2 whoami
expect "assumed-role credentials call CodeBuild" 0 "\"id\":\"$BUILD\"" \
    "${FILES[@]}" -- --profile r2 builds "$BUILD"
expect "credential_source = Environment" 0 "assumed-role/r1/" \
    "${FILES[@]}" "${ENVK[@]}" -- --profile fromenv whoami
expect "profile sourcing itself uses its own keys" 0 "assumed-role/r1/" \
    "${FILES[@]}" -- --profile self whoami
expect "source_profile loop detected" 1 "infinite loop in source_profile chain" \
    "${FILES[@]}" -- --profile loop1 creds
expect "source_profile and credential_source both set" 1 "both source_profile and credential_source" \
    "${FILES[@]}" -- --profile both creds
expect "dangling source_profile" 1 "source_profile 'nowhere' referenced in profile 'dangling' does not exist" \
    "${FILES[@]}" -- --profile dangling creds
expect "SSO profile without a cached token: asks to log in" 1 "run 'aws sso login --profile sso'" \
    "${FILES[@]}" -- --profile sso creds
expect "[services] endpoint_url from the profile" 0 "user/alice" \
    "${FILES[@]}" AWS_ENDPOINT_URL= -- --profile svc whoami
expect "assume role refused by the service is a credentials error" 1 \
    "assume role 'arn:aws:iam::123456789012:role/r1' for profile 'r1'.*SignatureDoesNotMatch" \
    "AWS_CONFIG_FILE=$TMP/config" "AWS_SHARED_CREDENTIALS_FILE=$TMP/badcreds" -- --profile r1 whoami

# ---- credential_process (a path with a space, run without a shell) ----
cat >"$TMP/cred proc.sh" <<EOF
#!/bin/sh
case "\$1" in
ok) printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s", "Expiration": "2099-01-01T00:00:00Z"}' "$AK" "$SK" ;;
fail) echo "process failed on purpose" >&2; exit 3 ;;
version2) printf '{"Version": 2, "AccessKeyId": "%s", "SecretAccessKey": "%s"}' "$AK" "$SK" ;;
esac
EOF
chmod +x "$TMP/cred proc.sh"
expect "credential_process" 0 "user/alice" "${FILES[@]}" -- --profile proc whoami
expect "credential_process expiration parsed" 0 "source=credential-process .*expiration=4070908800" \
    "${FILES[@]}" -- --profile proc creds
expect "credential_process nonzero exit" 1 "credential_process .* exited with status 3" \
    "${FILES[@]}" -- --profile procfail creds
expect "credential_process unsupported version" 1 "unsupported credential document version" \
    "${FILES[@]}" -- --profile procver creds

# ---- web identity (moto cannot check an unsigned call: let exactly one through) ----
printf 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ3ZWItaWRlbnRpdHktc2VjcmV0In0.WEBIDENTITYSECRET' >"$TMP/webtoken"
auth_after 1
expect "web identity (env), then a signed call with its credentials" 0 \
    "assumed-role/r2/web-session" "AWS_WEB_IDENTITY_TOKEN_FILE=$TMP/webtoken" \
    "AWS_ROLE_ARN=arn:aws:iam::123456789012:role/r2" "AWS_ROLE_SESSION_NAME=web-session" -- whoami
auth_after 0
expect "web identity without a role ARN" 1 "no role ARN" \
    "AWS_WEB_IDENTITY_TOKEN_FILE=$TMP/webtoken" -- creds

# ---- container credentials ----
CTOKEN="container-auth-token-SECRET-4242"
printf '%s' "$CTOKEN" >"$TMP/ctoken"
start_peer ctr container --auth-token "$CTOKEN" --akid "$TAK" --secret "$TSK" \
    --token "$TTOK" --requests "$TMP/ctr.req"
expect "container credentials (full URI, token file)" 0 "assumed-role/r1/served" \
    "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$PORT_ctr/v2/creds" \
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$TMP/ctoken" -- whoami
expect "container credentials (token from env)" 0 "source=container-role .*session_token=yes" \
    "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://localhost:$PORT_ctr/v2/creds" \
    "AWS_CONTAINER_AUTHORIZATION_TOKEN=$CTOKEN" -- creds
expect "container credentials: wrong token refused after 3 attempts" 1 \
    "container credentials: HTTP 401" \
    "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$PORT_ctr/v2/creds" \
    "AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong-token" -- creds
expect "container credentials: non-loopback http host refused" 1 "unsupported host" \
    "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://192.0.2.10/creds" -- creds
expect "container credentials: token with a line break refused" 1 "line break" \
    "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$PORT_ctr/v2/creds" \
    "AWS_CONTAINER_AUTHORIZATION_TOKEN=$(printf 'a\nb')" -- creds
if grep -q '"Accept": "application/json"' "$TMP/ctr.req" && grep -q "\"Authorization\": \"$CTOKEN\"" "$TMP/ctr.req"; then
    ok "container request carries Accept and Authorization"
else
    bad "container request carries Accept and Authorization" "$TMP/ctr.req"
fi

# ---- IAM Identity Center: token cache + portal peer, then moto with the role credentials ----
SSOTOKEN="sso-bearer-token-SECRET-9999"
mkdir -p "$TMP/home/.aws/sso/cache"
printf '{"startUrl": "https://corp.awsapps.com/start", "region": "eu-west-1", "accessToken": "%s", "expiresAt": "2099-01-01T00:00:00Z"}' \
    "$SSOTOKEN" >"$TMP/home/.aws/sso/cache/$(printf corp | sha1sum | cut -d' ' -f1).json"
start_peer sso sso --auth-token "$SSOTOKEN" --akid "$TAK" --secret "$TSK" --token "$TTOK"
expect "SSO: cached token exchanged at the portal, role credentials used" 0 "assumed-role/r1/served" \
    "${FILES[@]}" "AWS_ENDPOINT_URL_SSO=http://127.0.0.1:$PORT_sso" -- --profile sso whoami
printf '{"accessToken": "stale-token", "expiresAt": "2099-01-01T00:00:00Z"}' \
    >"$TMP/home/.aws/sso/cache/$(printf corp | sha1sum | cut -d' ' -f1).json"
expect "SSO: a token the portal refuses" 1 "SSO credentials for profile 'sso'.*UnauthorizedException" \
    "${FILES[@]}" "AWS_ENDPOINT_URL_SSO=http://127.0.0.1:$PORT_sso" -- --profile sso creds
rm -f "$TMP/home/.aws/sso/cache/"*.json

# ---- EC2 instance metadata ----
start_peer imds imds --akid "$TAK" --secret "$TSK" --token "$TTOK" --requests "$TMP/imds.req"
start_peer imds1 imds --imds-v1 --akid "$TAK" --secret "$TSK" --token "$TTOK"
expect "IMDSv2 credentials" 0 "assumed-role/r1/served" AWS_EC2_METADATA_DISABLED=false \
    "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$PORT_imds/" -- whoami
expect "IMDSv2 credentials source" 0 "source=iam-role .*session_token=yes" AWS_EC2_METADATA_DISABLED=false \
    "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$PORT_imds" -- creds
expect "IMDSv1 fallback when the token PUT is 404" 0 "source=iam-role" AWS_EC2_METADATA_DISABLED=false \
    "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$PORT_imds1" -- creds
expect "IMDSv1 fallback refused when v1 is disabled" 1 "unable to locate credentials" \
    AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_V1_DISABLED=true \
    "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$PORT_imds1" -- creds
expect "AWS_EC2_METADATA_DISABLED skips IMDS" 1 "unable to locate credentials" \
    AWS_EC2_METADATA_DISABLED=true "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$PORT_imds" -- creds
if grep -q '"method": "PUT", "path": "/latest/api/token"' "$TMP/imds.req" &&
    grep -q '"x-aws-ec2-metadata-token": "imds-session-token' "$TMP/imds.req"; then
    ok "IMDS token PUT then GETs with the token"
else
    bad "IMDS token PUT then GETs with the token" "$TMP/imds.req"
fi

# ---- retries against a scripted JSON peer ----
CT=com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101
start_peer plan1 plan --plan 500,throttle,events --requests "$TMP/plan1.req"
expect "retries 500 and ThrottlingException, then succeeds (3 attempts)" 0 "attempts=3 request_id=req-3" \
    "${ENVK[@]}" -- --endpoint-url "http://127.0.0.1:$PORT_plan1" json "$CT" LookupEvents '{}'
start_peer plan2 plan --plan throttle
expect "gives up after AWS_MAX_ATTEMPTS=2" 1 \
    "LookupEvents: ThrottlingException \(HTTP 400\): Rate exceeded \[request id req-2\] \(reached max retries: 1\)" \
    "${ENVK[@]}" AWS_MAX_ATTEMPTS=2 -- --endpoint-url "http://127.0.0.1:$PORT_plan2" json "$CT" LookupEvents
start_peer plan3 plan --plan truncate,events
expect "truncated body is retried" 0 "event 11111111-2222-3333-4444-555555555555 StartBuild alice 1714557600.500" \
    "${ENVK[@]}" -- --endpoint-url "http://127.0.0.1:$PORT_plan3" lookup EventSource=codebuild.amazonaws.com
start_peer plan4 plan --plan badsig,ok
expect "non-retryable error is not retried" 1 "InvalidSignatureException \(HTTP 400\): Signature expired" \
    "${ENVK[@]}" -- --endpoint-url "http://127.0.0.1:$PORT_plan4" json "$CT" LookupEvents
expect "connection refused is a transport error after retries" 1 "reached max retries: 2.*transport error" \
    "${ENVK[@]}" -- --endpoint-url "http://127.0.0.1:1" json "$CT" LookupEvents
if python3 - "$TMP/plan1.req" <<'EOF'; then ok "LookupEvents request shape (target, content type, signed)"; else bad "LookupEvents request shape" "$TMP/plan1.req"; fi
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
h = {k.lower(): v for k, v in reqs[0]["headers"].items()}
assert len(reqs) == 3
assert h["x-amz-target"] == "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
assert h["content-type"] == "application/x-amz-json-1.1"
assert h["authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
assert "/us-east-1/cloudtrail/aws4_request" in h["authorization"]
assert "SignedHeaders=content-type;host;x-amz-date;x-amz-target" in h["authorization"]
assert "expect" not in h
EOF

# ---- endpoints ----
expect "endpoint: regional" 0 "^https://cloudtrail.eu-west-3.amazonaws.com eu-west-3 cloudtrail" \
    AWS_ENDPOINT_URL= -- --region eu-west-3 endpoint cloudtrail
expect "endpoint: FIPS from the environment" 0 "^https://codebuild-fips.us-gov-west-1.amazonaws.com" \
    AWS_ENDPOINT_URL= AWS_USE_FIPS_ENDPOINT=true -- --region us-gov-west-1 endpoint codebuild
expect "endpoint: AWS_ENDPOINT_URL_CLOUDTRAIL wins over AWS_ENDPOINT_URL" 0 "^http://127.0.0.1:7/x us-east-1" \
    AWS_ENDPOINT_URL_CLOUDTRAIL=http://127.0.0.1:7/x/ -- endpoint cloudtrail
expect "endpoint: no region" 1 "Missing Region" AWS_ENDPOINT_URL= AWS_REGION= -- endpoint cloudtrail

# ---- secrets never leave the process ----
LEAK=0
for secret in "$SK" "$TSK" "$TTOK" "$CTOKEN" "$SSOTOKEN" "WEBIDENTITYSECRET" \
    "imds-session-token-0123456789" "FQoGZXIvYXdzEBYaD"; do
    if grep -qF -- "$secret" "$TMP/debug.log" "$TMP/all_output"; then
        echo "     leaked: ${secret:0:6}..." >>"$TMP/leak"
        LEAK=1
    fi
done
if grep -E "Signature=[0-9a-f]{64}" "$TMP/debug.log" >/dev/null; then
    echo "     a signature appears in the debug log" >>"$TMP/leak"
    LEAK=1
fi
if [ "$LEAK" -eq 0 ] && grep -q "Signature=<redacted>" "$TMP/debug.log" &&
    grep -q "X-Amz-Security-Token: <redacted>" "$TMP/debug.log" &&
    grep -q "(credentials, not logged)" "$TMP/debug.log"; then
    ok "no secret, token or signature in the debug log or error output"
else
    touch "$TMP/leak"
    bad "no secret, token or signature in the debug log or error output" "$TMP/leak"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
