"""issuing.card on the wire.

The cardholder is always embedded in full (never an id). ``number`` and
``cvc`` stay null except on a retrieve that explicitly expands them, and
only for virtual cards: physical card credentials are printed, never shown.

Relations: ``cardholder`` (the rendered cardholder, or its id when it cannot be
found) and ``secrets`` (``(number, cvc)``, loaded only when ``wants_secrets``).
"""

from __future__ import annotations

from openissuing.wire import View, base, public

SECRET_FIELDS = ("number", "cvc")


def wants_secrets(record: dict, view: View) -> bool:
    """Whether this rendering shows a secret, so the presenter must decrypt them."""
    wanted = any(field in view.expand for field in SECRET_FIELDS)
    return wanted and view.reveal_secrets and record["type"] == "virtual"


def card(record: dict, view: View) -> dict:
    out = base(public(record), "issuing.card")
    out["cardholder"] = view.related.get("cardholder", record["cardholder"])
    out["number"] = None
    out["cvc"] = None
    revealed = view.related.get("secrets")
    if revealed is not None and wants_secrets(record, view):
        values = dict(zip(SECRET_FIELDS, revealed, strict=True))
        for field in SECRET_FIELDS:
            if field in view.expand:
                out[field] = values[field]
    return out
