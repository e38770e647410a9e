"""issuing.authorization and issuing.transaction on the wire.

Relations of an authorization: ``card`` (the rendered card, cardholder embedded; absent
when the card cannot be found) and ``transactions`` (its rendered transactions, oldest first).
"""

from __future__ import annotations

from openissuing.wire import View, base, public


def authorization(record: dict, view: View) -> dict:
    out = base(public(record), "issuing.authorization")
    # The card is always embedded in full (and so is its cardholder, by the card serializer).
    card = view.related.get("card")
    if card is not None:
        out["card"] = card
    out["transactions"] = list(view.related.get("transactions", []))
    return out


def transaction(record: dict, view: View) -> dict:
    return base(public(record), "issuing.transaction")
