"""issuing.cardholder on the wire."""

from __future__ import annotations

from openissuing.api.render import RenderContext, base, serializer


@serializer("issuing.cardholder")
def cardholder(record: dict, ctx: RenderContext) -> dict:
    return base(record, "issuing.cardholder")
