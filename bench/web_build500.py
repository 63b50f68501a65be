#!/usr/bin/env python3
"""web_build500.py - writes a CloudTrail log file (stdout) with one CodeBuild build
whose role session made N calls (default 500) over 12 services, every 13th failing
with AccessDenied, plus its StartBuild, two UpdateProject changes before it and a
StopBuild: the page bench/web.sh times.

usage: web_build500.py UUID [N]"""
import json
import sys

uuid = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 500
acct, project = "111122223333", "bench-500"
role = "arn:aws:sts::%s:assumed-role/codebuild-bench-service-role/AWSCodeBuild-%s" % (acct, uuid)
bid = "%s:%s" % (project, uuid)
services = ["s3", "ecr", "ecs", "logs", "ssm", "sts", "kms", "lambda", "secretsmanager",
            "dynamodb", "cloudformation", "sns"]
names = ["Get", "Put", "Describe", "List", "Update"]
user = {"type": "IAMUser", "principalId": "AIDABENCH", "accountId": acct,
        "arn": "arn:aws:iam::%s:user/ci" % acct, "userName": "ci"}
session = {"type": "AssumedRole", "principalId": "AROABENCH:AWSCodeBuild-" + uuid, "arn": role,
           "accountId": acct}


def t(s):
    return "2026-10-02T%02d:%02d:%02dZ" % (10 + s // 3600, s // 60 % 60, s % 60)


def rec(i, sec, src, name, ident, **kw):
    r = {"eventVersion": "1.09", "userIdentity": ident, "eventTime": t(sec), "eventSource": src,
         "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7",
         "userAgent": "aws-cli/2.17", "requestID": "r%d" % i,
         "eventID": "00000000-0000-4000-9000-%012d" % i, "readOnly": False,
         "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": acct}
    r.update(kw)
    return r


recs = [rec(1, 0, "codebuild.amazonaws.com", "UpdateProject", user,
            requestParameters={"name": project, "environment": {"image": "aws/codebuild/standard:7.0",
                               "environmentVariables": [{"name": "STAGE", "value": "prod"}]}}),
        rec(2, 60, "codebuild.amazonaws.com", "StartBuild", user,
            requestParameters={"projectName": project},
            responseElements={"build": {"id": bid, "arn": "arn:aws:codebuild:us-east-1:%s:build/%s" % (acct, bid),
                                        "buildNumber": 9, "projectName": project}})]
for i in range(n):
    svc = services[(i * 7) % len(services)]
    kw = {"requestParameters": {"name": "%s-resource-%d" % (svc, i % 17)}}
    if i % 13 == 5:
        kw.update(errorCode="AccessDenied", errorMessage="User: %s is not authorized to perform: %s:%s" % (role, svc, names[i % 5]))
    recs.append(rec(100 + i, 70 + i * 1800 // n, svc + ".amazonaws.com", names[i % 5] + "Thing", session, **kw))
recs.append(rec(99, 70 + 1800, "codebuild.amazonaws.com", "StopBuild", user, requestParameters={"id": bid}))
json.dump({"Records": recs}, sys.stdout)
