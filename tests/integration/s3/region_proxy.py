#!/usr/bin/env python3
"""region_proxy.py - a loopback HTTP proxy in front of moto_server that answers the way
real S3 does in the two situations moto does not reproduce:

* a request for a bucket that lives in another region than the one it was signed for:
  --bucket-region NAME=REGION:MODE with MODE
    301   301 PermanentRedirect with an x-amz-bucket-region header (wrong endpoint)
    400   400 AuthorizationHeaderMalformed naming the region in <Region>, no header
    head  400 AuthorizationHeaderMalformed without the region; only HeadBucket tells it
          (x-amz-bucket-region on a 301), as botocore's redirector falls back to
* throttling: --slowdown N answers every Nth GetObject with 503 SlowDown.

Everything else is forwarded to --upstream unchanged (same Host header, so moto checks
the client's signature as sent). Logs one line per synthesised reply to --log. Exits
after --lifetime seconds."""
import argparse
import http.client
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

p = argparse.ArgumentParser()
p.add_argument("--upstream", required=True)
p.add_argument("--port-file", required=True)
p.add_argument("--bucket-region", action="append", default=[])
p.add_argument("--slowdown", type=int, default=0)
p.add_argument("--log", default="/dev/null")
p.add_argument("--lifetime", type=int, default=600)
a = p.parse_args()

up = re.match(r"http://([^/:]+):(\d+)", a.upstream)
UP_HOST, UP_PORT = up.group(1), int(up.group(2))
BUCKETS = {}
for spec in a.bucket_region:
    name, rest = spec.split("=", 1)
    region, mode = rest.split(":", 1)
    BUCKETS[name] = (region, mode)
lock = threading.Lock()
state = {"gets": 0}
log = open(a.log, "a", buffering=1)


def error_xml(code, message, extra=""):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s"
            "</Message>%s<RequestId>PROXY0000000001</RequestId></Error>" %
            (code, message, extra)).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        path = self.path.split("?", 1)[0]
        parts = [x for x in path.split("/") if x]
        host = (self.headers.get("Host") or "").split(":")[0]
        bucket = parts[0] if parts else ""
        is_key = len(parts) > 1
        if host.count(".") and host.split(".")[0] in BUCKETS:  # virtual-hosted
            bucket, is_key = host.split(".")[0], bool(parts)
        m = re.search(r"Credential=[^/]+/\d+/([^/]+)/", self.headers.get("Authorization") or "")
        signed = m.group(1) if m else ""
        if bucket in BUCKETS and signed != BUCKETS[bucket][0]:
            region, mode = BUCKETS[bucket]
            log.write("%s %s %s %s signed-for %s\n" % (mode, self.command, bucket, region, signed))
            if mode == "301" or (mode == "head" and self.command == "HEAD"):
                return self.reply(301, error_xml(
                    "PermanentRedirect", "The bucket you are attempting to access must be "
                    "addressed using the specified endpoint.",
                    "<Endpoint>%s.s3.%s.amazonaws.com</Endpoint><Bucket>%s</Bucket>" %
                    (bucket, region, bucket)), [("x-amz-bucket-region", region)])
            extra = "<Region>%s</Region>" % region if mode == "400" else ""
            return self.reply(400, error_xml(
                "AuthorizationHeaderMalformed", "The authorization header is malformed; the "
                "region '%s' is wrong; expecting '%s'" % (signed, region), extra))
        if a.slowdown and self.command == "GET" and is_key:
            with lock:
                state["gets"] += 1
                slow = state["gets"] % a.slowdown == 0
            if slow:
                log.write("slowdown GET %s\n" % self.path.split("?", 1)[0])
                return self.reply(503, error_xml("SlowDown", "Please reduce your request rate."))
        conn = http.client.HTTPConnection(UP_HOST, UP_PORT, timeout=60)
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            if k.lower() not in ("connection", "keep-alive", "proxy-connection"):
                conn.putheader(k, v)
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length", "server",
                                 "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = handle_any


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
with open(a.port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os  # noqa: E402
os.rename(a.port_file + ".tmp", a.port_file)
threading.Timer(a.lifetime, srv.shutdown).start()
srv.serve_forever()
sys.exit(0)
