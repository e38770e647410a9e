"""Inbound transfers and credit reversals on the wire (pure; no relations to load)."""

from __future__ import annotations

from openissuing.wire import View, base, public

INBOUND_TRANSFER = "treasury.inbound_transfer"
CREDIT_REVERSAL = "treasury.credit_reversal"


def inbound_transfer(record: dict, view: View) -> dict:
    return base(public(record), INBOUND_TRANSFER)


def credit_reversal(record: dict, view: View) -> dict:
    return base(public(record), CREDIT_REVERSAL)
