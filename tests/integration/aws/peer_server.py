#!/usr/bin/env python3
"""peer_server.py - small loopback HTTP peers for the AWS integration tests.

Binds 127.0.0.1 on a free port, writes the port to --port-file, serves until
SIGTERM or --lifetime seconds. Every request is appended (method, path, headers,
body) as one JSON line to --requests if given, so the test can inspect what the
client sent.

Modes:
  container  GET <path>: needs "Authorization: <--auth-token>" when that is set;
             answers the credential document {AccessKeyId, SecretAccessKey, Token,
             Expiration} from --akid/--secret/--token.
  imds       IMDS v2 (--imds-v1 makes PUT /latest/api/token answer 404 so the
             client falls back to v1): token, role name, role credentials.
  sso        GET /federation/credentials?account_id=..&role_name=..: needs header
             "x-amz-sso_bearer_token: <--auth-token>"; answers roleCredentials.
  plan       POST /: answers the next step of --plan, a comma-separated list of
             500 | 503 | throttle | truncate | ok | events | badsig; the last step
             repeats. ok/events answer a LookupEvents-shaped JSON document.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
STEP = [0]
LOCK = threading.Lock()
IMDS_TOKEN = "imds-session-token-0123456789"

EVENTS = {
    "Events": [
        {
            "EventId": "11111111-2222-3333-4444-555555555555",
            "EventName": "StartBuild",
            "ReadOnly": "false",
            "AccessKeyId": "ASIAEXAMPLE",
            "EventTime": 1714557600.5,
            "EventSource": "codebuild.amazonaws.com",
            "Username": "alice",
            "Resources": [{"ResourceType": None, "ResourceName": "demo"}],
            "CloudTrailEvent": json.dumps({"eventName": "StartBuild", "eventID": "1111"}),
        }
    ],
    "NextToken": "page-2",
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep the test output quiet
        pass

    def _record(self, body):
        if not ARGS.requests:
            return
        with LOCK, open(ARGS.requests, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "headers": dict(self.headers.items()),
                                "body": body.decode("utf-8", "replace")}) + "\n")

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status, body, ctype="application/json", extra=None, length=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data) if length is None else length))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _creds_doc(self, imds=False):
        doc = {"AccessKeyId": ARGS.akid, "SecretAccessKey": ARGS.secret,
               "Token": ARGS.token,
               "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))}
        if imds:
            doc.update({"Code": "Success", "Type": "AWS-HMAC",
                        "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        return json.dumps(doc)

    def do_GET(self):
        self._record(b"")
        if ARGS.mode == "container":
            if ARGS.auth_token and self.headers.get("Authorization") != ARGS.auth_token:
                return self._send(401, '{"message":"bad token"}')
            return self._send(200, self._creds_doc())
        if ARGS.mode == "sso":
            if self.headers.get("x-amz-sso_bearer_token") != ARGS.auth_token:
                return self._send(401, '{"message":"Session token not found or invalid"}',
                                  extra={"x-amzn-ErrorType": "UnauthorizedException"})
            if not self.path.startswith("/federation/credentials?account_id=123456789012&role_name="):
                return self._send(403, '{"__type":"ForbiddenException","message":"No access"}')
            return self._send(200, json.dumps({"roleCredentials": {
                "accessKeyId": ARGS.akid, "secretAccessKey": ARGS.secret,
                "sessionToken": ARGS.token, "expiration": int(time.time() + 3600) * 1000}}))
        if ARGS.mode == "imds":
            if not ARGS.imds_v1 and self.headers.get("x-aws-ec2-metadata-token") != IMDS_TOKEN:
                return self._send(401, "", ctype="text/plain")
            base = "/latest/meta-data/iam/security-credentials/"
            if self.path == base:
                return self._send(200, "testrole\n", ctype="text/plain")
            if self.path == base + "testrole":
                return self._send(200, self._creds_doc(imds=True), ctype="text/plain")
            return self._send(404, "", ctype="text/plain")
        self._send(404, "{}")

    def do_PUT(self):
        self._read_body()
        self._record(b"")
        if ARGS.mode == "imds" and self.path == "/latest/api/token":
            if ARGS.imds_v1:
                return self._send(404, "", ctype="text/plain")
            if self.headers.get("x-aws-ec2-metadata-token-ttl-seconds") != "21600":
                return self._send(400, "", ctype="text/plain")
            return self._send(200, IMDS_TOKEN, ctype="text/plain")
        self._send(404, "{}")

    def do_POST(self):
        body = self._read_body()
        self._record(body)
        if ARGS.mode != "plan":
            return self._send(404, "{}")
        plan = ARGS.plan.split(",")
        with LOCK:
            step = plan[min(STEP[0], len(plan) - 1)]
            STEP[0] += 1
        rid = {"x-amzn-RequestId": "req-%d" % STEP[0]}
        if step in ("500", "503"):
            return self._send(int(step), '{"__type":"InternalFailure","message":"try again"}',
                              extra=rid)
        if step == "throttle":
            return self._send(400, '{"__type":"com.amazonaws.cloudtrail.v20131101#'
                                   'ThrottlingException:http://internal","message":"Rate exceeded"}',
                              ctype="application/x-amz-json-1.1", extra=rid)
        if step == "badsig":
            return self._send(400, '{"__type":"InvalidSignatureException","Message":"Signature expired"}',
                              ctype="application/x-amz-json-1.1", extra=rid)
        if step == "truncate":
            # announce more bytes than we send, then close: a truncated body
            self._send(200, '{"Events":[', extra=rid, length=500)
            self.close_connection = True
            return
        if step == "events":
            return self._send(200, json.dumps(EVENTS), ctype="application/x-amz-json-1.1", extra=rid)
        return self._send(200, '{"Events":[]}', ctype="application/x-amz-json-1.1", extra=rid)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["container", "imds", "sso", "plan"])
    p.add_argument("--port-file", required=True)
    p.add_argument("--requests")
    p.add_argument("--auth-token", default="")
    p.add_argument("--akid", default="")
    p.add_argument("--secret", default="")
    p.add_argument("--token", default="")
    p.add_argument("--imds-v1", action="store_true")
    p.add_argument("--plan", default="ok")
    p.add_argument("--lifetime", type=float, default=600)
    ARGS = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, ARGS.port_file)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    timer = threading.Timer(ARGS.lifetime, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
