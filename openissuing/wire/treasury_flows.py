"""Received credits/debits, Treasury transactions and entries on the wire.

Relations: a received credit's ``now`` (its reversal details depend on the time);
``flow_details`` (includable: ``{"type": …, <type>: the rendered flow}``, loaded
only when ``flow_details`` is expanded) and, for a transaction, ``entries`` (its rendered
entries, loaded only when ``entries`` is expanded).
"""

from __future__ import annotations

from openissuing.domain.treasury import inbound
from openissuing.wire import View, base

# Every flow a Treasury transaction can come from: flow_details names each, null but its own.
FLOW_TYPES = (
    "credit_reversal",
    "debit_reversal",
    "inbound_transfer",
    "issuing_authorization",
    "outbound_payment",
    "outbound_transfer",
    "received_credit",
    "received_debit",
)


def received_credit(record: dict, view: View) -> dict:
    """``reversal_details`` is derived when shown (``view.related["now"]``, the acting clock):
    a deadline passes, and a credit reversal restricts it, without the credit being written."""
    out = base(record, "treasury.received_credit")
    now = view.related.get("now")
    if now is not None:
        out["reversal_details"] = inbound.reversal_details(record, now)
    return out


def received_debit(record: dict, view: View) -> dict:
    return base(record, "treasury.received_debit")


def flow_details(view: View) -> dict | None:
    """The includable ``flow_details`` the presenter loaded (``{"type", <type>: flow}``), with
    every other flow type present and null; null when it was not asked for."""
    loaded = view.related.get("flow_details")
    if loaded is None:
        return None
    return {"type": loaded["type"], **{name: loaded.get(name) for name in FLOW_TYPES}}


def wants_flow_details(record: dict, view: View) -> bool:
    return "flow_details" in view.expand and bool(record.get("flow"))


def entries_url(record: dict) -> str:
    return (
        f"/v1/treasury/transaction_entries?financial_account={record['financial_account']}"
        f"&transaction={record['id']}"
    )


def transaction(record: dict, view: View) -> dict:
    out = base(record, "treasury.transaction")
    out["flow_details"] = flow_details(view)
    if "entries" in view.expand:
        out["entries"] = {
            "object": "list",
            "data": list(view.related.get("entries", [])),
            "has_more": False,
            "url": entries_url(record),
        }
    return out


def transaction_entry(record: dict, view: View) -> dict:
    out = base(record, "treasury.transaction_entry")
    out["flow_details"] = flow_details(view)
    return out
