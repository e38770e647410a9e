"""Whether an account has time-driven work due: one indexed statement before every request.

Authorizations keep their expiry in ``authorization_expiries``; a dispute's deadline lives in
its document, so this only says whether the account has an unsubmitted dispute at all (the
dispute rules then compare deadlines). An account with neither pays this one read.
"""

from __future__ import annotations

from openissuing.storage.raw import Raw

_DUE_SQL = (
    "SELECT EXISTS (SELECT 1 FROM authorization_expiries WHERE owner = ? AND expires_at <= ?), "
    "EXISTS (SELECT 1 FROM objects o WHERE o.type = 'issuing.dispute' AND o.owner = ? "
    "AND EXISTS (SELECT 1 FROM object_keys k WHERE k.object_id = o.id AND k.name = 'status' "
    "AND k.value = 'unsubmitted'))"
)


def pending_kinds(raw: Raw, owner: str, now: int) -> tuple[bool, bool]:
    """(an authorization's expiry has passed, an unsubmitted dispute exists) for ``owner``."""
    row = raw.one(_DUE_SQL, (owner, now, owner))
    return (bool(row[0]), bool(row[1])) if row is not None else (False, False)
