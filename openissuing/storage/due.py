"""What time-driven work an account has: one indexed statement before every request.

Authorizations keep their expiry in ``authorization_expiries``, so the question there is
"has one passed?". A dispute's deadline lives in its document, so the account's unsubmitted
disputes come back whole and the dispute rules compare deadlines. An account with neither
pays this one read and gets nothing back.
"""

from __future__ import annotations

from typing import Any

import orjson

from openissuing.storage.raw import Raw

_DUE_SQL = (
    "SELECT 'authorization', NULL FROM (SELECT 1 AS due FROM authorization_expiries "
    "WHERE owner = ? AND expires_at <= ? LIMIT 1) AS expired "
    "UNION ALL "
    "SELECT 'dispute', o.data FROM objects o WHERE o.type = 'issuing.dispute' AND o.owner = ? "
    "AND EXISTS (SELECT 1 FROM object_keys k WHERE k.object_id = o.id AND k.name = 'status' "
    "AND k.value = 'unsubmitted')"
)


def pending(raw: Raw, owner: str, now: int) -> tuple[bool, list[dict[str, Any]]]:
    """(an authorization's expiry has passed, the unsubmitted disputes) of ``owner``."""
    authorization_due, disputes = False, []
    for kind, data in raw.all(_DUE_SQL, (owner, now, owner)):
        if kind == "authorization":
            authorization_due = True
        else:
            disputes.append(orjson.loads(data))
    return authorization_due, disputes
