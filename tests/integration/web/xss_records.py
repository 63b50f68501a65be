#!/usr/bin/env python3
"""xss_records.py - writes a CloudTrail log file (stdout) about one build whose records
carry script payloads everywhere a record value reaches the web view: the project
name, user agents, request parameters (overrides, source version), an UpdateProject's
environment (a project change), the event source and name of a role-session call, its
error code and message, and a resource ARN. Every payload, if it ever ran, would set
the attribute data-pwned on <html>; the test checks that it never does.

usage: xss_records.py UUID"""
import json
import sys

uuid = sys.argv[1]
acct = "111122223333"
mark = "document.documentElement.setAttribute('data-pwned','%s')"
P_SCRIPT = "<script>" + mark % "script" + "</script>"
P_SVG = '"><svg onload="' + mark % "svg" + '">'
P_JS = "javascript:" + mark % "js"
P_IMG = "<img src=x onerror=\"" + mark % "img" + "\">"
project = "xss-" + P_SVG.replace(" ", "")[:40]
role = "arn:aws:sts::%s:assumed-role/codebuild-xss-service-role/AWSCodeBuild-%s" % (acct, uuid)
bid = "%s:%s" % (project, uuid)
barn = "arn:aws:codebuild:us-east-1:%s:build/%s" % (acct, bid)


def user(name):
    return {"type": "IAMUser", "principalId": "AIDAXSS", "accountId": acct,
            "arn": "arn:aws:iam::%s:user/%s" % (acct, name), "userName": name,
            "accessKeyId": "AKIAXSSXSSXSSXSSXSSX"}


def rec(i, t, src, name, ident, **kw):
    r = {"eventVersion": "1.09", "userIdentity": ident, "eventTime": t, "eventSource": src,
         "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.9",
         "userAgent": P_SCRIPT, "requestID": "req-%d" % i,
         "eventID": "00000000-0000-4000-8000-%012d" % i, "readOnly": False,
         "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": acct}
    r.update(kw)
    return r


session = {"type": "AssumedRole", "principalId": "AROAXSS:AWSCodeBuild-" + uuid, "arn": role,
           "accountId": acct, "accessKeyId": "ASIAXSSXSSXSSXSSXSSX"}
records = [
    rec(1, "2026-10-02T09:00:00Z", "codebuild.amazonaws.com", "UpdateProject", user("mallory"),
        requestParameters={"name": project, "environment": {
            "type": "LINUX_CONTAINER", "image": P_JS, "computeType": "BUILD_GENERAL1_SMALL",
            "environmentVariables": [{"name": "X", "value": P_SVG, "type": "PLAINTEXT"}]}},
        responseElements={"project": {"name": project, "arn": "arn:aws:codebuild:us-east-1:%s:project/%s" % (acct, project),
                                      "serviceRole": "arn:aws:iam::%s:role/codebuild-xss-service-role" % acct}}),
    rec(2, "2026-10-02T10:00:00Z", "codebuild.amazonaws.com", "StartBuild", user("mallory"),
        requestParameters={"projectName": project, "sourceVersion": P_JS,
                           "environmentVariablesOverride": [{"name": "Y", "value": P_SVG, "type": "PLAINTEXT"}],
                           "buildspecOverride": P_SCRIPT},
        responseElements={"build": {"id": bid, "arn": barn, "buildNumber": 1, "projectName": project,
                                    "sourceVersion": P_JS, "initiator": "mallory",
                                    "buildStatus": "IN_PROGRESS"}}),
    rec(3, "2026-10-02T10:01:00Z", P_SVG + ".amazonaws.com", "Get" + P_SVG, session,
        errorCode="AccessDenied" + P_IMG, errorMessage=P_SCRIPT + P_IMG,
        requestParameters={"url": P_JS, "x": P_SVG},
        resources=[{"type": "AWS::S3::Object", "ARN": P_JS}]),
    rec(4, "2026-10-02T10:02:00Z", "s3.amazonaws.com", "GetObject", session,
        errorCode="AccessDenied", errorMessage="Access Denied",
        requestParameters={"bucketName": P_JS, "key": P_SCRIPT}),
    rec(5, "2026-10-02T10:03:00Z", "logs.amazonaws.com", "PutLogEvents", session,
        requestParameters={"logGroupName": P_IMG}),
    rec(6, "2026-10-02T10:04:00Z", "codebuild.amazonaws.com", "StopBuild", user("mallory"),
        requestParameters={"id": bid}, responseElements={"build": {"id": bid, "arn": barn,
                                                                   "buildStatus": "STOPPED"}}),
]
json.dump({"Records": records}, sys.stdout)
