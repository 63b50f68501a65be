#!/usr/bin/env python3
"""sign_old.py - sends one LookupEvents request SigV4-signed as of AGE seconds ago, to
check the server's clock-skew limit (SDKs always sign with the current time). Prints
the HTTP status and the error __type.
usage: sign_old.py ENDPOINT ACCESS_KEY_ID SECRET AGE_SECONDS"""
import datetime
import hashlib
import hmac
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

url, akid, secret, age = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
host = urllib.parse.urlsplit(url).netloc
body = b"{}"
t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=age)
amz, day = t.strftime("%Y%m%dT%H%M%SZ"), t.strftime("%Y%m%d")
target = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
headers = {"content-type": "application/x-amz-json-1.1", "host": host, "x-amz-date": amz,
           "x-amz-target": target}
signed = ";".join(sorted(headers))
creq = "\n".join(["POST", "/", "", "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)), signed,
                  hashlib.sha256(body).hexdigest()])
scope = f"{day}/us-east-1/cloudtrail/aws4_request"
sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(creq.encode()).hexdigest()])
key = ("AWS4" + secret).encode()
for part in (day, "us-east-1", "cloudtrail", "aws4_request"):
    key = hmac.new(key, part.encode(), hashlib.sha256).digest()
sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
headers["authorization"] = f"AWS4-HMAC-SHA256 Credential={akid}/{scope}, SignedHeaders={signed}, Signature={sig}"
del headers["host"]
req = urllib.request.Request(url + "/", data=body, headers=headers, method="POST")
try:
    with urllib.request.urlopen(req, timeout=20) as r:
        print(r.status, "OK")
except urllib.error.HTTPError as e:
    print(e.code, json.loads(e.read()).get("__type"))
