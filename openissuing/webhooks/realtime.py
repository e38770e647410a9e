"""The synchronous call to the platform's ``issuing_authorization.request`` endpoint.

Runs with no database transaction open: the request is signed like every
webhook, bounded by the deadline, and whatever happens becomes a ``Reply``.
"""

from __future__ import annotations

import time

import httpx

from openissuing.domain.issuing.realtime import Reply
from openissuing.webhooks import signer

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
MAX_REPLY_BYTES = 64 * 1024

_client = httpx.Client(follow_redirects=False)


def ask(url: str, body: str, secret: str, deadline_seconds: float) -> Reply:
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Stripe-Signature": signer.header(body, secret, int(time.time())),
    }
    try:
        response = _client.post(url, content=body.encode("utf-8"), headers=headers,
                                timeout=httpx.Timeout(deadline_seconds))
    except httpx.TimeoutException:
        return Reply(timed_out=True)
    except httpx.HTTPError as exc:
        return Reply(error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    return Reply(
        status=response.status_code,
        headers={k.lower(): v for k, v in response.headers.items()},
        body=response.content[:MAX_REPLY_BYTES],
    )
