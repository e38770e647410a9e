"""issuing.card on the wire.

The cardholder is always embedded in full (never an id). ``number`` and
``cvc`` stay null except on a retrieve that explicitly expands them, and
only for virtual cards: physical card credentials are printed, never shown.
"""

from __future__ import annotations

from openissuing.api.render import RenderContext, base, render, serializer
from openissuing.services import cards

SECRET_FIELDS = ("number", "cvc")


@serializer("issuing.card")
def card(record: dict, ctx: RenderContext) -> dict:
    out = base(record, "issuing.card")
    out["cardholder"] = _cardholder(record["cardholder"], ctx)
    out["number"] = None
    out["cvc"] = None
    wanted = [field for field in SECRET_FIELDS if field in ctx.expand]
    if wanted and ctx.reveal_secrets and record["type"] == "virtual":
        revealed = cards.reveal(ctx.uow, ctx.scope.box, record["id"])
        if revealed is not None:
            values = dict(zip(SECRET_FIELDS, revealed))
            for field in wanted:
                out[field] = values[field]
    return out


def _cardholder(cardholder_id: str, ctx: RenderContext) -> dict | str:
    # A card and its cardholder always live in the same account, so the
    # cardholder is found through its own owner; this also works when the
    # card is rendered outside its account's request (webhook events).
    found = ctx.uow.docs.owner_of(cardholder_id)
    record = ctx.uow.docs.get("issuing.cardholder", cardholder_id, found[1]) if found else None
    if record is None:
        return cardholder_id
    # The embedded cardholder gets none of the card's expand paths or secrets.
    return render("issuing.cardholder", record, RenderContext(ctx.uow, ctx.scope))
