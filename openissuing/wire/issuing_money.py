"""issuing.authorization and issuing.transaction on the wire.

Relations of an authorization: ``card`` (the rendered card, cardholder embedded; absent
when the card cannot be found) and ``transactions`` (its rendered transactions, oldest first).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

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
    out = base(public(record), "issuing.transaction")
    receipt = (out.get("purchase_details") or {}).get("receipt")
    if receipt:
        lines = [{**line, "quantity": json_number(line.get("quantity"))} for line in receipt]
        out["purchase_details"] = {**out["purchase_details"], "receipt": lines}
    return out


def json_number(value: Any) -> Any:
    """A quantity kept as an exact decimal string, as the JSON number the SDK declares: an
    integer when whole (``"2.000"`` → ``2``), else the nearest float; not money."""
    if not isinstance(value, str):
        return value
    number = Decimal(value)
    return int(number) if number == number.to_integral_value() else float(number)
