"""bank_account and card (a connected account's external accounts) on the wire."""

from __future__ import annotations

from openissuing.wire import View, base, public


def bank_account(record: dict, view: View) -> dict:
    # No created or livemode on Stripe's external bank accounts; the record keeps created for
    # list order only.
    out = public(base(record, "bank_account"))
    out.pop("created", None)
    out.pop("livemode", None)
    return out


def card(record: dict, view: View) -> dict:
    out = public(base(record, "card"))
    out.pop("created", None)
    out.pop("livemode", None)
    return out
