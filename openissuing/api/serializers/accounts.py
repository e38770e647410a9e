"""account and capability on the wire."""

from __future__ import annotations

from openissuing.api.render import RenderContext, serializer
from openissuing.domain.connect import accounts as rules


@serializer("account")
def account(record: dict, ctx: RenderContext) -> dict:
    # Records written before a field existed still show every field (null where unset).
    out = rules.public(rules.blank(record["id"], record.get("created") or 0))
    out.update(rules.public(record))
    out["object"] = "account"
    # We keep no bank accounts or cards, so the list is always empty (but present and pageable).
    out["external_accounts"] = {
        "object": "list",
        "data": [],
        "has_more": False,
        "url": f"/v1/accounts/{record['id']}/external_accounts",
    }
    return out


@serializer("capability")
def capability(record: dict, ctx: RenderContext) -> dict:
    # Capabilities are built whole by the domain; they have no created/livemode.
    out = dict(record)
    out["object"] = "capability"
    return out
