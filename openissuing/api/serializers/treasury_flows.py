"""Received credits/debits, Treasury transactions and entries on the wire."""

from __future__ import annotations

from openissuing.api.render import RenderContext, base, load_visible, render, serializer

FLOW_TYPES = {
    "received_credit": "treasury.received_credit",
    "received_debit": "treasury.received_debit",
    "issuing_authorization": "issuing.authorization",
    "debit_reversal": "treasury.debit_reversal",
    "credit_reversal": "treasury.credit_reversal",
}


@serializer("treasury.received_credit")
def received_credit(record: dict, ctx: RenderContext) -> dict:
    return base(record, "treasury.received_credit")


@serializer("treasury.received_debit")
def received_debit(record: dict, ctx: RenderContext) -> dict:
    return base(record, "treasury.received_debit")


def _flow_details(record: dict, ctx: RenderContext) -> dict | None:
    """``flow_details`` is includable: the full flow object, only when asked for."""
    if "flow_details" not in ctx.expand or not record.get("flow"):
        return None
    loaded = load_visible(record["flow"], ctx)
    flow_type = record["flow_type"]
    details = {"type": flow_type}
    if loaded is not None:
        details[flow_type] = render(loaded[0], loaded[1], ctx.with_expand(set()))
    return details


@serializer("treasury.transaction")
def transaction(record: dict, ctx: RenderContext) -> dict:
    out = base(record, "treasury.transaction")
    out["flow_details"] = _flow_details(record, ctx)
    if "entries" in ctx.expand:
        entries = ctx.uow.docs.list(
            "treasury.transaction_entry",
            ctx.scope.account,
            filters={"transaction": record["id"]},
            limit=None,
        )
        url = f"/v1/treasury/transaction_entries?financial_account={record['financial_account']}&transaction={record['id']}"
        out["entries"] = {
            "object": "list",
            "data": [
                render("treasury.transaction_entry", e, ctx.with_expand(set()))
                for e in entries.records
            ],
            "has_more": False,
            "url": url,
        }
    return out


@serializer("treasury.transaction_entry")
def transaction_entry(record: dict, ctx: RenderContext) -> dict:
    out = base(record, "treasury.transaction_entry")
    out["flow_details"] = _flow_details(record, ctx)
    return out
