"""issuing.authorization and issuing.transaction on the wire."""

from __future__ import annotations

from openissuing.api.render import RenderContext, base, render, serializer


def public(record: dict) -> dict:
    """Drop private bookkeeping (keys starting with ``_``)."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


@serializer("issuing.authorization")
def authorization(record: dict, ctx: RenderContext) -> dict:
    out = base(public(record), "issuing.authorization")
    # The card is always embedded in full (and so is its cardholder, by the card serializer).
    card = ctx.uow.docs.get("issuing.card", record["card"], ctx.scope.account)
    if card is not None:
        out["card"] = render("issuing.card", card, ctx.with_expand(set()))
    # The authorization keeps its transactions' ids (oldest first), so no search is needed.
    transactions = [
        ctx.uow.docs.get("issuing.transaction", t, ctx.scope.account)
        for t in record.get("_transactions", [])
    ]
    out["transactions"] = [
        render("issuing.transaction", t, ctx.with_expand(set())) for t in transactions if t
    ]
    return out


@serializer("issuing.transaction")
def transaction(record: dict, ctx: RenderContext) -> dict:
    return base(public(record), "issuing.transaction")
