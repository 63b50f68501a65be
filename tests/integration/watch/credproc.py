#!/usr/bin/env python3
"""credproc.py PAIRS EXPIRY LIFE - a credential_process for it_watch_faults.sh: hands out
the key pairs of file PAIRS ("AKID SECRET" lines) in turn, each valid for LIFE seconds
(its Expiration is LIFE + 300 s ahead, as the client refreshes 300 s before expiry: so
it refreshes after LIFE s), and appends "AKID EXPIRY" to file EXPIRY, where
fault_proxy.py refuses the key (ExpiredToken) once that time has passed."""
import json
import os
import sys
import time

pairs = [l.split() for l in open(sys.argv[1]) if l.strip()]
life = float(sys.argv[3])
with open(sys.argv[2], "a+") as f:
    f.seek(0)
    n = sum(1 for _ in f)
    ak, sk = pairs[n % len(pairs)]
    now = time.time()
    f.write("%s %.3f\n" % (ak, now + life + 2))  # 2 s for a request signed just before
    f.flush()
    os.fsync(f.fileno())
print(json.dumps({"Version": 1, "AccessKeyId": ak, "SecretAccessKey": sk,
                  "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                              time.gmtime(now + life + 300))}))
