"""The ``Stripe-Signature`` header: ``t=<unix seconds>,v1=<hex HMAC-SHA256>``.

The MAC is keyed with the endpoint secret (the whole ``whsec_…`` string, as
Stripe and its SDKs use it) over ``"{t}.{body}"``, the exact bytes sent. A new
timestamp is taken for every attempt, so receivers' replay tolerance (300 s in
the SDK) applies to each attempt rather than to the event's age.
"""

from __future__ import annotations

import hashlib
import hmac

SCHEME = "v1"


def signature(body: str | bytes, secret: str, timestamp: int) -> str:
    payload = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else body
    signed = f"{timestamp}.{payload}".encode()
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def header(body: str | bytes, secret: str, timestamp: int) -> str:
    return f"t={timestamp},{SCHEME}={signature(body, secret, timestamp)}"
