"""What time-driven work an account has: one indexed statement before every request.

Authorizations keep their expiry in ``authorization_expiries``, so the question there is
"has one passed?". A dispute's deadline lives in its document, so the account's unsubmitted
disputes come back whole and the dispute rules compare deadlines; so do pending top-ups
(they settle at their ``expected_availability_date``). An account with none of these pays
this one read and gets nothing back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from openissuing.storage.raw import Raw

_DUE_SQL = (
    "SELECT 'authorization', NULL FROM (SELECT 1 AS due FROM authorization_expiries "
    "WHERE owner = ? AND expires_at <= ? LIMIT 1) AS expired "
    "UNION ALL "
    "SELECT 'dispute', o.data FROM objects o WHERE o.type = 'issuing.dispute' AND o.owner = ? "
    "AND EXISTS (SELECT 1 FROM object_keys k WHERE k.object_id = o.id AND k.name = 'status' "
    "AND k.value = 'unsubmitted') "
    "UNION ALL "
    "SELECT 'topup', o.data FROM objects o WHERE o.type = 'topup' AND o.owner = ? "
    "AND EXISTS (SELECT 1 FROM object_keys k WHERE k.object_id = o.id AND k.name = 'status' "
    "AND k.value = 'pending')"
)


@dataclass
class Due:
    authorization: bool = False  # an authorization's expiry has passed
    disputes: list[dict[str, Any]] = field(default_factory=list)  # the unsubmitted ones
    topups: list[dict[str, Any]] = field(default_factory=list)  # the pending ones


def pending(raw: Raw, owner: str, now: int) -> Due:
    """What ``owner`` may have due: the rules of each resource decide what actually is."""
    due = Due()
    for kind, data in raw.all(_DUE_SQL, (owner, now, owner, owner)):
        if kind == "authorization":
            due.authorization = True
        elif kind == "dispute":
            due.disputes.append(orjson.loads(data))
        else:
            due.topups.append(orjson.loads(data))
    return due
