"""issuing.dispute and treasury.debit_reversal on the wire.

Every field is present, null when unset: ``evidence`` carries all eight reasons' objects (null
unless evidence was given for that reason; the chosen reason's always present, its unset fields
null). Private bookkeeping (``_deadline``, ``_submitted_at``) never leaves the server.
"""

from __future__ import annotations

from openissuing.domain.issuing import disputes as rules
from openissuing.wire import View, base, public


def dispute(record: dict, view: View) -> dict:
    out = base(public(record), "issuing.dispute")
    evidence = dict(record["evidence"])
    for reason in rules.REASONS:
        given = evidence.get(reason)
        evidence[reason] = None if given is None else {**rules.blank(reason), **given}
    out["evidence"] = evidence
    return out


def debit_reversal(record: dict, view: View) -> dict:
    return base(public(record), "treasury.debit_reversal")
