#!/usr/bin/env python3
"""moto_server.py [moto_server options] - runs the machine's moto_server (moto.server.main)
with one correction to how it checks SigV4 signatures.

moto recomputes a request's signature from werkzeug's request.url, which is an IRI:
percent-escapes such as %2F in the query and %20 in the path come back decoded, so the
canonical request moto builds differs from the one SigV4 defines (and that real S3
checks) whenever a query value holds '/' -- every ListObjectsV2 with a prefix or
delimiter. boto3 itself is refused there. The correction hands moto's unchanged
checker the raw request target (RAW_URI) instead; everything else -- the IAM users and
keys, the signature arithmetic, the policy evaluation -- is moto's own.

Set INITIAL_NO_AUTH_ACTION_COUNT as with moto_server: moto lets that many actions
through unchecked, then verifies every request."""
import sys
from urllib.parse import urlsplit, urlunsplit

import moto.core.authorization as authz

_check = authz.ActionAuthenticatorMixin._authenticate_and_authorize_action


def _check_raw_uri(self, iam_request_cls, resource="*"):
    raw = None
    try:
        from flask import request as current
        raw = current.environ.get("RAW_URI") or current.environ.get("REQUEST_URI")
    except RuntimeError:  # outside a request context
        pass
    if not raw:
        return _check(self, iam_request_cls, resource)
    seen = self.uri
    parts, target = urlsplit(seen), urlsplit(raw)
    self.uri = urlunsplit((parts.scheme, parts.netloc, target.path, target.query, ""))
    try:
        return _check(self, iam_request_cls, resource)
    finally:
        self.uri = seen


authz.ActionAuthenticatorMixin._authenticate_and_authorize_action = _check_raw_uri

from moto.server import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:])
