#!/usr/bin/env python3
"""moto_build.py URL OUTDIR - creates a CodeBuild project in moto_server and starts a
build, then writes OUTDIR/build.json (BatchGetBuilds' view of it, through boto3) and
OUTDIR/records.ndjson: CloudTrail records about that build as the trail would log
them (the StartBuild call by a user, three calls of the build's role session
AWSCodeBuild-<uuid>, one of them denied), for `buildtrail serve` to answer
LookupEvents with while moto answers BatchGetBuilds."""
import datetime
import json
import os
import sys
import uuid

import boto3

url, out = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=url, region_name="us-east-1",
          aws_access_key_id="testing", aws_secret_access_key="testing")
cb = boto3.client("codebuild", **kw)
cb.create_project(name="live-demo", source={"type": "S3", "location": "bucket/src.zip"},
                  artifacts={"type": "NO_ARTIFACTS"},
                  environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                               "computeType": "BUILD_GENERAL1_SMALL"},
                  serviceRole="arn:aws:iam::123456789012:role/live-demo-role")
build_id = cb.start_build(projectName="live-demo", sourceVersion="refs/heads/main")["build"]["id"]
build = cb.batch_get_builds(ids=[build_id])["builds"][0]
with open(os.path.join(out, "build.json"), "w") as f:
    json.dump(build, f, default=str)
u = build_id.split(":", 1)[1]
acct = "123456789012"
# the records carry the build's own times, as CloudTrail and CodeBuild agree
t0 = build["startTime"]
at = lambda minutes: (t0 + datetime.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
start = at(0)
sess = "AWSCodeBuild-" + u
role_arn = "arn:aws:sts::%s:assumed-role/live-demo-role/%s" % (acct, sess)


def rec(t, source, name, ident, req=None, resp=None, err=None, resources=None):
    r = {"eventVersion": "1.08", "userIdentity": ident, "eventTime": t, "eventSource": source,
         "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.5",
         "userAgent": "aws-cli/2", "requestParameters": req, "responseElements": resp,
         "requestID": str(uuid.uuid4()), "eventID": str(uuid.uuid4()), "readOnly": False,
         "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": acct,
         "eventCategory": "Management"}
    if err:
        r["errorCode"], r["errorMessage"] = err
    if resources:
        r["resources"] = resources
    return r


user = {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::%s:user/dana" % acct,
        "accountId": acct, "accessKeyId": "AKIADANA", "userName": "dana"}
role = {"type": "AssumedRole", "principalId": "AROAEXAMPLE:" + sess, "arn": role_arn,
        "accountId": acct, "accessKeyId": "ASIABUILD",
        "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE",
                                             "arn": "arn:aws:iam::%s:role/live-demo-role" % acct,
                                             "accountId": acct, "userName": "live-demo-role"}}}
records = [
    rec(start, "codebuild.amazonaws.com", "StartBuild", user,
        {"projectName": "live-demo", "sourceVersion": "refs/heads/main"},
        {"build": {"id": build_id, "arn": build["arn"], "buildNumber": 1,
                   "projectName": "live-demo", "buildStatus": "IN_PROGRESS"}}),
    rec(at(1), "logs.amazonaws.com", "CreateLogStream", role,
        {"logGroupName": "/aws/codebuild/live-demo"}),
    rec(at(2), "s3.amazonaws.com", "GetObject", role, {"bucketName": "bucket"}),
    rec(at(2.5), "cloudformation.amazonaws.com", "UpdateStack", role,
        {"stackName": "live-demo-stack"}, None, ("AccessDenied", "not authorized")),
]
with open(os.path.join(out, "records.ndjson"), "w") as f:
    for r in records:
        f.write(json.dumps(r) + "\n")
print(build_id)
