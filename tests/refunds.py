"""Refunding a capture through the test helper, as Stripe answers it.

``POST /v1/test_helpers/issuing/transactions/{transaction}/refund`` returns the capture named in
the URL, not the refund it creates; the refund is found as Stripe's reference says: the newest
``refund`` transaction of the card (the authorization's ``transactions`` lists it too).
"""

from __future__ import annotations


def refund(client, capture_id: str, params: dict | None = None, options: dict | None = None):
    """Refund ``capture_id``; returns the refund transaction the call created."""
    answered = client.v1.test_helpers.issuing.transactions.refund(
        capture_id, params=params or {}, options=options or {}
    )
    assert (answered.id, answered.type) == (capture_id, "capture")
    newest = client.v1.issuing.transactions.list(
        params={"card": answered.card, "type": "refund", "limit": 1}, options=options or {}
    ).data
    assert newest and newest[0].authorization == answered.authorization
    return newest[0]
