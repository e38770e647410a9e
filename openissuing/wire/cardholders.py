"""issuing.cardholder on the wire."""

from __future__ import annotations

from openissuing.wire import View, base


def cardholder(record: dict, view: View) -> dict:
    return base(record, "issuing.cardholder")
