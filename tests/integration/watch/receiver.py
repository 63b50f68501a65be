#!/usr/bin/env python3
"""receiver.py LOG PORTFILE [--port N] [--delay S] - a webhook receiver on loopback for
it_watch.sh: records every POST as one JSON line in LOG ({"key": Idempotency-Key header,
"ctype": Content-Type, "body": the parsed JSON body, "t": arrival, epoch seconds}) and
answers 200 after --delay
seconds. Binds 127.0.0.1 (port N, else a free one) and writes the port to PORTFILE when
ready. Stopped with SIGTERM or SIGKILL; restarted on the same port with --port."""
import argparse
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("log")
ap.add_argument("portfile")
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--delay", type=float, default=0.0)
args = ap.parse_args()
lock = threading.Lock()


class H(BaseHTTPRequestHandler):
    def do_POST(self):
        t = time.time()
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if args.delay:
            time.sleep(args.delay)
        rec = {"key": self.headers.get("Idempotency-Key"),
               "ctype": self.headers.get("Content-Type"), "body": body, "t": t}
        with lock, open(args.log, "a") as f:
            f.write(json.dumps(rec) + "\n")
        try:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        except OSError:
            pass  # the client was killed (kill -9 mid-delivery)

    def log_message(self, *a):
        pass


ThreadingHTTPServer.allow_reuse_address = True
# a listen backlog like a real server's (socketserver's default of 5 drops the SYNs of a
# client that opens 8 connections at once, which then wait for the retransmission)
ThreadingHTTPServer.request_queue_size = 128
srv = ThreadingHTTPServer(("127.0.0.1", args.port), H)
signal.signal(signal.SIGTERM, lambda *a: (srv.server_close(), sys.exit(0)))
with open(args.portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.replace(args.portfile + ".tmp", args.portfile)
srv.serve_forever()
