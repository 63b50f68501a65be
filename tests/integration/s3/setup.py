#!/usr/bin/env python3
"""setup.py - prepares the moto_server of it_s3.sh and bench/s3.sh (boto3 only).

  setup.py --url URL --keys FILE [--deny BUCKET/PREFIX] [--bucket NAME[@REGION]]...
           [--upload BUCKET:KEYPREFIX:DIR]...

The first three calls are the IAM bootstrap that moto lets through unauthenticated
(INITIAL_NO_AUTH_ACTION_COUNT=3): user "alice", allowed everything, and her access
key. Everything after is signed with alice's key and checked by moto. With --deny,
user "bob" is allowed everything except s3:GetObject under BUCKET/PREFIX. Buckets are
created in their region (default us-east-1); --upload puts every file under DIR into
BUCKET at KEYPREFIX + its relative path. Writes AK=, SK=, BAK=, BSK= to FILE."""
import argparse
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

p = argparse.ArgumentParser()
p.add_argument("--url", required=True)
p.add_argument("--keys", required=True)
p.add_argument("--deny")
p.add_argument("--bucket", action="append", default=[])
p.add_argument("--upload", action="append", default=[])
p.add_argument("--threads", type=int, default=8)
a = p.parse_args()

boot = dict(endpoint_url=a.url, region_name="us-east-1",
            aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
allow_all = {"Effect": "Allow", "Action": "*", "Resource": "*"}
iam = boto3.client("iam", **boot)
iam.create_user(UserName="alice")
iam.put_user_policy(UserName="alice", PolicyName="all",
                    PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [allow_all]}))
key = iam.create_access_key(UserName="alice")["AccessKey"]
# from here on moto checks every signature
kw = dict(endpoint_url=a.url, aws_access_key_id=key["AccessKeyId"],
          aws_secret_access_key=key["SecretAccessKey"],
          config=Config(max_pool_connections=a.threads * 2, retries={"max_attempts": 5}))
out = {"AK": key["AccessKeyId"], "SK": key["SecretAccessKey"], "BAK": "", "BSK": ""}
if a.deny:
    iam = boto3.client("iam", region_name="us-east-1", **kw)
    iam.create_user(UserName="bob")
    deny = {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s*" % a.deny}
    iam.put_user_policy(UserName="bob", PolicyName="all-but",
                        PolicyDocument=json.dumps({"Version": "2012-10-17",
                                                   "Statement": [allow_all, deny]}))
    bk = iam.create_access_key(UserName="bob")["AccessKey"]
    out["BAK"], out["BSK"] = bk["AccessKeyId"], bk["SecretAccessKey"]

regions = {}
for b in a.bucket:
    name, _, region = b.partition("@")
    region = region or "us-east-1"
    regions[name] = region
    s3 = boto3.client("s3", region_name=region, **kw)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})

jobs = []
for u in a.upload:
    bucket, prefix, top = u.split(":", 2)
    for root, _, files in os.walk(top):
        for f in files:
            path = os.path.join(root, f)
            jobs.append((bucket, prefix + os.path.relpath(path, top), path))
clients = {}


def put(job):
    bucket, k, path = job
    region = regions.get(bucket, "us-east-1")
    if region not in clients:
        clients[region] = boto3.client("s3", region_name=region, **kw)
    with open(path, "rb") as f:
        clients[region].put_object(Bucket=bucket, Key=k, Body=f.read())


for r in set(regions.values()) | {"us-east-1"}:
    clients[r] = boto3.client("s3", region_name=r, **kw)
with ThreadPoolExecutor(a.threads) as ex:
    list(ex.map(put, jobs))
with open(a.keys, "w") as f:
    for k, v in out.items():
        f.write("%s=%s\n" % (k, v))
print("setup: %d objects uploaded" % len(jobs), file=sys.stderr)
