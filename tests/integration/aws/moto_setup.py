#!/usr/bin/env python3
"""moto_setup.py URL OUTFILE - prepares a moto_server for the AWS integration tests
(before IAM authentication is switched on): an IAM user "alice" allowed everything
with an access key, roles r1 (trusted by alice) and r2 (trusted by anyone), and a
CodeBuild project "demo" with one build, an S3 bucket with one object, and temporary credentials of role r1
(served by the container and IMDS peers). Writes shell assignments AK=, SK=, BUILD=,
TAK=, TSK=, TTOK= to OUTFILE."""
import json
import sys

import boto3

url, out = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=url, region_name="us-east-1",
          aws_access_key_id="setup", aws_secret_access_key="setup")
iam = boto3.client("iam", **kw)
allow = json.dumps({"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
iam.create_user(UserName="alice")
iam.put_user_policy(UserName="alice", PolicyName="all", PolicyDocument=allow)
key = iam.create_access_key(UserName="alice")["AccessKey"]
for name, principal in (("r1", "arn:aws:iam::123456789012:user/alice"), ("r2", "*")):
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]})
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
    iam.put_role_policy(RoleName=name, PolicyName="all", PolicyDocument=allow)
cb = boto3.client("codebuild", **kw)
cb.create_project(name="demo", source={"type": "S3", "location": "bucket/src.zip"},
                  artifacts={"type": "NO_ARTIFACTS"},
                  environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                               "computeType": "BUILD_GENERAL1_SMALL"},
                  serviceRole="arn:aws:iam::123456789012:role/r1")
build = cb.start_build(projectName="demo")["build"]["id"]
s3 = boto3.client("s3", **kw)
s3.create_bucket(Bucket="trail-bucket")
# moto's own S3 signature check mishandles %2F in queries and %20/%2B in paths
# (boto3 fails there too), so the keys reached through it are plain
s3.put_object(Bucket="trail-bucket", Key="AWSLogs/123456789012/CloudTrail/us-east-1/log1.json.gz",
              Body=b"log file body")
tmp = boto3.client("sts", **kw).assume_role(
    RoleArn="arn:aws:iam::123456789012:role/r1", RoleSessionName="served")["Credentials"]
with open(out, "w") as f:
    f.write("AK=%s\nSK=%s\nBUILD=%s\n" % (key["AccessKeyId"], key["SecretAccessKey"], build))
    f.write("TAK=%s\nTSK=%s\nTTOK=%s\n" % (tmp["AccessKeyId"], tmp["SecretAccessKey"],
                                           tmp["SessionToken"]))
