#!/usr/bin/env python3
"""faulty.py - a loopback proxy in front of `buildtrail serve` that injects faults
into LookupEvents calls, for tests/integration/it_lookup.sh and bench/lookup.sh.

Binds 127.0.0.1 on a free port, writes the port to --port-file, forwards each POST
to --upstream, and serves until SIGTERM or --lifetime seconds.

--plan: comma-separated steps, one per request, cycling:
  ok         forward and return the upstream reply
  throttle   HTTP 400 {"__type":"ThrottlingException","message":"Rate exceeded"}
  500 | 503  HTTP 500 / 503 (InternalFailure / ServiceUnavailable)
  reset      close the connection without a reply (TCP RST)
  truncate   forward, then send the headers and only half of the body, then close
  cutjson    forward, then send a complete HTTP reply whose JSON body is cut short
  slow       wait --slow seconds, then forward (longer than the client's read
             timeout: the client gives up and retries)
--rate R: also answer ThrottlingException when requests come faster than R per
  second (a token bucket of capacity 1, as the service's documented limit).
--log FILE: one JSON line per request: step, body, status.
"""
import argparse
import json
import signal
import socket
import struct
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
LOCK = threading.Lock()
STATE = {"n": 0, "tokens": 1.0, "last": time.monotonic()}


def next_step():
    with LOCK:
        plan = ARGS.plan.split(",")
        step = plan[STATE["n"] % len(plan)]
        STATE["n"] += 1
        return step


def rate_ok():
    if ARGS.rate <= 0:
        return True
    with LOCK:
        now = time.monotonic()
        STATE["tokens"] = min(1.0, STATE["tokens"] + (now - STATE["last"]) * ARGS.rate)
        STATE["last"] = now
        # some slack for scheduling jitter on a busy machine (the service's own limit
        # is not exact either)
        if STATE["tokens"] >= 0.75:
            STATE["tokens"] -= 1.0
            return True
        return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _log(self, step, body, status):
        if ARGS.log:
            with LOCK, open(ARGS.log, "a") as f:
                f.write(json.dumps({"step": step, "body": body.decode("utf-8", "replace"),
                                    "status": status}) + "\n")

    def _send(self, status, body, ctype="application/x-amz-json-1.1", cut=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("x-amzn-RequestId", "faulty-%d" % STATE["n"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body if cut is None else body[:cut])
        self.wfile.flush()

    def _error(self, status, typ, msg):
        self._send(status, json.dumps({"__type": typ, "message": msg}).encode())

    def _forward(self, body):
        req = urllib.request.Request(ARGS.upstream + "/", data=body, method="POST")
        for k in ("Content-Type", "X-Amz-Target", "Authorization", "X-Amz-Date",
                  "X-Amz-Security-Token"):
            if self.headers.get(k):
                req.add_header(k, self.headers.get(k))
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        if not rate_ok():
            self._log("rate", body, 400)
            self._error(400, "ThrottlingException", "Rate exceeded")
            return
        step = next_step()
        if step == "throttle":
            self._log(step, body, 400)
            self._error(400, "ThrottlingException", "Rate exceeded")
        elif step in ("500", "503"):
            self._log(step, body, int(step))
            self._error(int(step), "InternalFailure" if step == "500" else "ServiceUnavailable",
                        "injected fault")
        elif step == "reset":
            self._log(step, body, 0)
            s = self.connection
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            self.close_connection = True
        else:
            if step == "slow":
                time.sleep(ARGS.slow)
            status, reply = self._forward(body)
            self._log(step, body, status)
            if step == "truncate" and status == 200:
                self._send(status, reply, cut=len(reply) // 2)
                self.close_connection = True
                self.connection.close()
            elif step == "cutjson" and status == 200:
                self._send(status, reply[: len(reply) // 2])
            else:
                self._send(status, reply)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--plan", default="ok")
    p.add_argument("--rate", type=float, default=0)
    p.add_argument("--slow", type=float, default=3)
    p.add_argument("--lifetime", type=float, default=600)
    p.add_argument("--log")
    ARGS = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(ARGS.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    threading.Timer(ARGS.lifetime, lambda: os._exit(0)).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
