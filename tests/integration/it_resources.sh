#!/usr/bin/env bash
# it_resources.sh - issue #15 case 5: events that name a user, instance, access key,
# trail, security group, snapshot, function, bucket or role in their request or
# response, with no `resources` array, are found by ResourceName and ResourceType
# lookups: records written here, ingested, queried through `serve` with the real AWS
# CLI v2 (/usr/bin/aws cloudtrail lookup-events) and with `search` (store and --from).
. "$(dirname "$0")/lib.sh"
: "${BT:?}"
[ -x /usr/bin/aws ] || { echo "SKIP: /usr/bin/aws (AWS CLI v2, Debian package awscli) is not installed"; exit 77; }
need jq
cd "$T" || exit 1
export HOME="$T/home" TZ=UTC AWS_EC2_METADATA_DISABLED=true AWS_PAGER=
export AWS_ACCESS_KEY_ID=AKIDRESOURCESTEST AWS_SECRET_ACCESS_KEY=not-checked-without-auth
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_MAX_ATTEMPTS=1
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE \
      AWS_ENDPOINT_URL AWS_ENDPOINT_URL_CLOUDTRAIL AWS_CA_BUNDLE
mkdir -p "$HOME"
export BUILDTRAIL_STORE="$T/s.db"
A=111122223333

n=0
rec() { # rec NAME SOURCE REQUEST RESPONSE [EXTRA-MEMBERS]
  n=$((n + 1))
  printf '{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::%s:user/admin","accountId":"%s","userName":"admin"},"eventTime":"2026-10-01T00:00:%02dZ","eventSource":"%s","eventName":"%s","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","userAgent":"aws-cli/2","requestParameters":%s,"responseElements":%s,"requestID":"req-%d","eventID":"00000000-0000-4000-8000-%012d","readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"%s"%s}\n' \
    "$A" "$A" "$n" "$2" "$1" "$3" "$4" "$n" "$n" "$A" "${5:-}"
}
id() { printf '00000000-0000-4000-8000-%012d\n' "$1"; }
{
  rec CreateUser iam.amazonaws.com '{"userName":"x"}' '{"user":{"userName":"x","userId":"AIDAX","arn":"arn:aws:iam::111122223333:user/x"}}'
  rec RunInstances ec2.amazonaws.com '{"instancesSet":{"items":[{"imageId":"ami-0abc","minCount":1,"maxCount":1,"keyName":"deploy-key"}]},"instanceType":"t3.micro"}' \
    '{"reservationId":"r-1","instancesSet":{"items":[{"instanceId":"i-0abc123","imageId":"ami-0abc","subnetId":"subnet-0abc","vpcId":"vpc-0abc","groupSet":{"items":[{"groupId":"sg-0abc","groupName":"web"}]}}]}}'
  rec CreateAccessKey iam.amazonaws.com '{"userName":"x"}' '{"accessKey":{"accessKeyId":"AKIAEXAMPLEKEY00001","status":"Active","userName":"x"}}'
  rec CreateTrail cloudtrail.amazonaws.com '{"name":"main","s3BucketName":"trail-logs"}' '{"name":"main","s3BucketName":"trail-logs","trailARN":"arn:aws:cloudtrail:us-east-1:111122223333:trail/main"}'
  rec AuthorizeSecurityGroupIngress ec2.amazonaws.com '{"groupId":"sg-0abc","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22}]}}' '{"_return":true}'
  rec CreateSnapshot ec2.amazonaws.com '{"volumeId":"vol-0abc"}' '{"snapshotId":"snap-0abc","volumeId":"vol-0abc","status":"pending"}'
  rec CreateFunction20150331 lambda.amazonaws.com '{"functionName":"resize","role":"arn:aws:iam::111122223333:role/lambda-exec","runtime":"python3.12"}' '{"functionName":"resize","functionArn":"arn:aws:lambda:us-east-1:111122223333:function:resize"}'
  rec PutObject s3.amazonaws.com '{"bucketName":"assets","key":"img/a.png"}' 'null'
  rec AssumeRole sts.amazonaws.com '{"roleArn":"arn:aws:iam::111122223333:role/deploy","roleSessionName":"ci"}' \
    '{"credentials":{"accessKeyId":"ASIAEXAMPLEKEY00002","expiration":"Oct 1, 2026, 1:00:00 AM"},"assumedRoleUser":{"assumedRoleId":"AROAEXAMPLE:ci","arn":"arn:aws:sts::111122223333:assumed-role/deploy/ci"}}' \
    ',"resources":[{"accountId":"111122223333","type":"AWS::IAM::Role","ARN":"arn:aws:iam::111122223333:role/deploy"}]'
  rec CreateSecret secretsmanager.amazonaws.com '{"name":"db-password"}' '{"arn":"arn:aws:secretsmanager:us-east-1:111122223333:secret:db-password-AbCdEf","name":"db-password"}'
} > records.ndjson
"$BT" ingest -q records.ndjson >/dev/null 2>&1
eq "ingested" 10 "$("$BT" search -o json | jq '.Events | length')"

"$BT" serve --store "$T/s.db" --port 0 2>"$T/serve.err" &
SPID=$!
cleanup_hooks+=("kill $SPID 2>/dev/null")
URL=
for _ in $(seq 1 150); do
  URL=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$T/serve.err"); [ -n "$URL" ] && break; sleep 0.1
done
[ -n "$URL" ] && ok || { bad "serve did not start: $(cat "$T/serve.err")"; finish; }

# cli KEY VALUE: the event ids the AWS CLI finds, oldest first, space-separated
cli() {
  timeout 120 /usr/bin/aws cloudtrail lookup-events --endpoint-url "$URL" --region us-east-1 \
    --start-time 2026-10-01T00:00:00Z --end-time 2026-10-02T00:00:00Z \
    --lookup-attributes "AttributeKey=$1,AttributeValue=$2" --query 'Events[].EventId' --output json |
    jq -r 'reverse | join(" ")'
}
# srch ARGS...: the same through search (store, then --from), oldest first
srch() { "$BT" search "$@" -o json | jq -r '[.Events[].EventId] | reverse | join(" ")'; }
# check KEY VALUE IDS...: aws CLI via serve, search on the store and search --from agree
check() {
  local key=$1 value=$2 want opt
  shift 2
  want=$(for i in "$@"; do id "$i"; done | paste -sd' ')
  eq "aws CLI $key=$value" "$want" "$(cli "$key" "$value")"
  case $key in ResourceName) opt=--resource-name ;; ResourceType) opt=--resource-type ;; esac
  eq "search $opt $value" "$want" "$(srch $opt "$value")"
  eq "search --from $opt $value" "$want" "$(srch --from records.ndjson $opt "$value")"
}

check ResourceName x 1 3
check ResourceType AWS::IAM::User 1 3
check ResourceName i-0abc123 2
check ResourceType AWS::EC2::Instance 2
check ResourceName ami-0abc 2
check ResourceType AWS::EC2::Ami 2
check ResourceName deploy-key 2
check ResourceType AWS::EC2::KeyPair 2
check ResourceName subnet-0abc 2
check ResourceName vpc-0abc 2
check ResourceName sg-0abc 2 5
check ResourceType AWS::EC2::SecurityGroup 2 5
check ResourceName AKIAEXAMPLEKEY00001 3
check ResourceType AWS::IAM::AccessKey 3 9
check ResourceName main 4
check ResourceName arn:aws:cloudtrail:us-east-1:111122223333:trail/main 4
check ResourceType AWS::CloudTrail::Trail 4
check ResourceName trail-logs 4
check ResourceType AWS::S3::Bucket 4 8
check ResourceName snap-0abc 6
check ResourceType AWS::EC2::Snapshot 6
check ResourceName vol-0abc 6
check ResourceType AWS::EC2::Volume 6
check ResourceName resize 7
check ResourceType AWS::Lambda::Function 7
check ResourceName arn:aws:iam::111122223333:role/lambda-exec 7
check ResourceType AWS::IAM::Role 7 9
check ResourceName assets 8
check ResourceName img/a.png 8
check ResourceType AWS::S3::Object 8
check ResourceName ci 9
check ResourceType AWS::STS::AssumedRole 9
check ResourceName arn:aws:iam::111122223333:role/deploy 9
check ResourceName db-password 10
check ResourceType AWS::SecretsManager::Secret 10
# a name no call gives
check ResourceName admin

# what the CLI shows: the Resources of CreateUser and of AssumeRole (its own first)
eq "aws CLI: CreateUser's Resources" '[{"ResourceType":"AWS::IAM::User","ResourceName":"x"}]' \
  "$(timeout 120 /usr/bin/aws cloudtrail lookup-events --endpoint-url "$URL" --start-time 2026-10-01T00:00:00Z \
      --end-time 2026-10-02T00:00:00Z --lookup-attributes AttributeKey=EventName,AttributeValue=CreateUser \
      --query 'Events[0].Resources' --output json | jq -c .)"
eq "aws CLI: AssumeRole's Resources" \
  "AWS::IAM::Role=arn:aws:iam::111122223333:role/deploy AWS::IAM::AccessKey=ASIAEXAMPLEKEY00002 AWS::STS::AssumedRole=ci AWS::STS::AssumedRole=AROAEXAMPLE:ci AWS::STS::AssumedRole=arn:aws:sts::111122223333:assumed-role/deploy/ci" \
  "$(timeout 120 /usr/bin/aws cloudtrail lookup-events --endpoint-url "$URL" --start-time 2026-10-01T00:00:00Z \
      --end-time 2026-10-02T00:00:00Z --lookup-attributes AttributeKey=EventName,AttributeValue=AssumeRole \
      --query 'Events[0].Resources' --output json | jq -r 'map("\(.ResourceType)=\(.ResourceName)") | join(" ")')"
kill $SPID 2>/dev/null
finish
