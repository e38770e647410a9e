"""balance, balance_transaction, topup and funding_instructions on the wire.

The balance is computed from the ledger (``services.issuing_balance.balance``) and has no id;
funding instructions are stored under an id and a creation time Stripe's object does not show.
"""

from __future__ import annotations

from openissuing.wire import View, base, public


def balance(record: dict, view: View) -> dict:
    out = public(record)
    out["object"] = "balance"
    out.setdefault("livemode", False)
    return out


def balance_transaction(record: dict, view: View) -> dict:
    out = base(public(record), "balance_transaction")
    out.pop("livemode", None)  # a balance transaction has none (Stripe's object, the SDK's class)
    return out


def topup(record: dict, view: View) -> dict:
    return base(public(record), "topup")


def funding_instructions(record: dict, view: View) -> dict:
    out = {k: v for k, v in public(record).items() if k not in ("id", "created")}
    out["object"] = "funding_instructions"
    return out
