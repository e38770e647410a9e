"""treasury.outbound_payment and treasury.outbound_transfer on the wire.

The stored record already carries every field the SDK declares (``domain.treasury.outbound``
builds it whole, nulls included); ``transaction`` and ``returned_details.transaction`` are
ids that ``expand[]`` replaces with the Treasury transaction.
"""

from __future__ import annotations

from openissuing.wire import View, base, public


def outbound_payment(record: dict, view: View) -> dict:
    return base(public(record), "treasury.outbound_payment")


def outbound_transfer(record: dict, view: View) -> dict:
    return base(public(record), "treasury.outbound_transfer")
