#!/usr/bin/env python3
"""fault_proxy.py UPSTREAM PORT_FILE LOG [--slowdown N] [--expiry FILE] [--delay-get S] - a loopback HTTP
proxy in front of moto_server that injects the faults moto does not produce, for
it_watch_faults.sh. Every request is forwarded as it came (method, path, headers
including Host, body: the SigV4 signature stays valid) except:

  --slowdown N   the first N GetObject requests (GET of /BUCKET/KEY) are answered
                 503 SlowDown (S3's XML error) without reaching moto;
  --expiry FILE  FILE holds "ACCESS_KEY_ID EXPIRY_EPOCH" lines (appended by the test's
                 credential_process each time it hands out credentials); a request
                 signed with a key whose last expiry has passed is answered 400
                 ExpiredToken (what AWS says for expired temporary credentials);
  --delay-get S  every GetObject request waits S seconds before it is forwarded (a slow
                 S3: a batch's work outlasts the SQS visibility timeout).

LOG gets one line per request: "METHOD PATH_OR_TARGET STATUS" (the SQS JSON target for
POSTs; a ListObjectsV2 with its query string). Writes the port to PORT_FILE when it listens."""
import http.client
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = sys.argv[1:]
UP, PORT_FILE, LOG = args[0], args[1], args[2]
SLOWDOWN, EXPIRY, DELAY_GET = 0, None, 0.0
rest = args[3:]
while rest:
    if rest[0] == "--slowdown":
        SLOWDOWN = int(rest[1])
    elif rest[0] == "--expiry":
        EXPIRY = rest[1]
    elif rest[0] == "--delay-get":
        DELAY_GET = float(rest[1])
    rest = rest[2:]
HOST, PORT = UP.split("//", 1)[1].split(":")
LOCK = threading.Lock()
SERVED = [0]

SLOW = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
        b'<Message>Please reduce your request rate.</Message></Error>')
EXPIRED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ExpiredToken</Code>'
           b'<Message>The provided token has expired.</Message></Error>')


def expired(auth):
    m = re.search(r"Credential=([A-Z0-9]+)/", auth or "")
    if not EXPIRY or not m:
        return False
    last = None
    try:
        for line in open(EXPIRY):
            p = line.split()
            if len(p) == 2 and p[0] == m.group(1):
                last = float(p[1])
    except OSError:
        return False
    return last is not None and time.time() > last


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def note(self, status):
        what = self.headers.get("X-Amz-Target") or self.path.split("?")[0]
        if "list-type=2" in self.path:  # ListObjectsV2: its query (prefix, start-after)
            what = self.path
        with LOCK, open(LOG, "a") as f:
            f.write("%s %s %d\n" % (self.command, what, status))

    def answer(self, status, body, ctype="application/xml"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.note(status)

    def forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        if expired(self.headers.get("Authorization")):
            return self.answer(400, EXPIRED)
        is_get = self.command == "GET" and self.path.count("/") >= 2 and "?" not in self.path
        if is_get and SLOWDOWN:
            with LOCK:
                slow = SERVED[0] < SLOWDOWN
                SERVED[0] += slow
            if slow:
                return self.answer(503, SLOW)
        if is_get and DELAY_GET:
            time.sleep(DELAY_GET)
        c = http.client.HTTPConnection(HOST, int(PORT), timeout=60)
        c.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            c.putheader(k, v)
        c.endheaders(body)
        r = c.getresponse()
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
        c.close()
        self.note(r.status)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = forward


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(PORT_FILE + ".tmp", PORT_FILE)
srv.serve_forever()
