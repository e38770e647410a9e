"""issuing.dispute and treasury.debit_reversal on the wire.

Every field is present, null when unset: ``evidence`` carries all eight reasons' objects (null
unless evidence was given for that reason; the chosen reason's always present, its unset fields
null). Private bookkeeping (``_deadline``, ``_submitted_at``) never leaves the server.
"""

from __future__ import annotations

from openissuing.api.render import RenderContext, base, serializer
from openissuing.domain.issuing import disputes as rules


def _public(record: dict) -> dict:
    return {k: v for k, v in record.items() if not k.startswith("_")}


@serializer("issuing.dispute")
def dispute(record: dict, ctx: RenderContext) -> dict:
    out = base(_public(record), "issuing.dispute")
    evidence = dict(record["evidence"])
    for reason in rules.REASONS:
        given = evidence.get(reason)
        evidence[reason] = None if given is None else {**rules.blank(reason), **given}
    out["evidence"] = evidence
    return out


@serializer("treasury.debit_reversal")
def debit_reversal(record: dict, ctx: RenderContext) -> dict:
    return base(_public(record), "treasury.debit_reversal")
