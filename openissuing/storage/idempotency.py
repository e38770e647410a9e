"""Idempotency keys: the stored answer commits in the same transaction as the effect.

Inside the request's own transaction, ``find`` looks the key up first: a
stored answer with the same parameters is replayed, different parameters are
an ``IdempotencyMismatch``; a row without an answer (a request that is still
running elsewhere) is a ``Conflict`` (409). After the handler ran, ``record``
inserts the key with the answer — so the effect and the stored answer commit
or vanish together. Two truly concurrent requests with one key both miss in
``find``; the primary key lets only one insert win, the other's whole
transaction rolls back and it answers 409, which the SDKs retry (and then
replay). Validation failures never reach this point, so they are not stored,
as on Stripe.

An answer that reveals a secret (a webhook endpoint's signing secret, shown only in its
create response) is stored sealed with the server's SecretBox, like every other secret;
``find`` opens it to replay. A placeholder left by a server killed between the two
halves of a two-phase request is concluded through ``recover`` (``api.resume``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
from sqlalchemy import delete, update
from sqlalchemy.engine import Connection

from openissuing.domain.errors import Conflict, IdempotencyMismatch
from openissuing.secrets_box import SecretBox
from openissuing.storage.raw import Raw
from openissuing.storage.sealed import SEALED_BODY_PREFIX
from openissuing.storage.tables import idempotency_keys as table

MAX_KEY_LENGTH = 255

# Plain SQL on the transaction's cursor (storage/raw.py): both run on every idempotent POST.
# The record is deferred to the unit of work's flush, just before the commit (a concurrent
# request with the same key makes that flush fail on the primary key, as the insert did).
_FIND = (
    "SELECT request_hash, created, response_status, response_body FROM idempotency_keys "
    'WHERE scope = ? AND "key" = ?'
)
_INSERT = (
    'INSERT INTO idempotency_keys (scope, "key", request_hash, created, response_status, '
    "response_body) VALUES (?, ?, ?, ?, ?, ?)"
)


class _Row(NamedTuple):
    request_hash: str
    created: int
    response_status: int | None
    response_body: str | None


@dataclass(frozen=True)
class Replay:
    status: int
    body: str


# What ``recover`` answers when it dropped a dead request's placeholder: run the retry afresh.
RUN_AFRESH = Replay(0, "")


def request_hash(method: str, path: str, params: dict[str, Any]) -> str:
    canonical = orjson.dumps([method, path, params], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def conflict() -> Conflict:
    return Conflict(
        "There is currently another in-progress request using this Idempotency-Key (or Stripe "
        "token); please try again later."
    )


def find(
    conn: Connection,
    scope: str,
    key: str,
    digest: str,
    now: int,
    retention_seconds: int,
    recover: Callable[[int], Replay | None] | None = None,
    box: SecretBox | None = None,
) -> Replay | None:
    """The stored answer to replay, None to run afresh, or the key's named error.

    ``recover`` is asked about a placeholder without an answer, given when it was made (its
    request may have died between its two transactions, ``api.resume``): an answer it
    returns is replayed; ``RUN_AFRESH`` means it dropped the placeholder."""
    found = Raw(conn).one(_FIND, (scope, key))
    if found is None:
        return None
    row = _Row(*found)
    if row.created < now - retention_seconds:
        # Keys are kept at least the retention period; an older one runs afresh.
        conn.execute(delete(table).where(table.c.scope == scope, table.c.key == key))
        return None
    if row.request_hash != digest:
        raise IdempotencyMismatch(
            "Keys for idempotent requests can only be used with the same parameters they were "
            f"first used with. Try using a key other than '{key}' if you meant to execute a "
            "different request."
        )
    if row.response_status is None:
        recovered = recover(row.created) if recover is not None else None
        if recovered is None:
            raise conflict()
        return None if recovered is RUN_AFRESH else recovered
    return Replay(row.response_status, _opened(row.response_body or "", box))


def _sealed(body: str, box: SecretBox | None) -> str:
    """An answer that reveals a secret (a webhook endpoint's signing secret) is stored sealed
    like every other secret; ``box`` is given only for those."""
    return body if box is None else SEALED_BODY_PREFIX + box.seal(body).decode()


def _opened(body: str, box: SecretBox | None) -> str:
    """The answer to replay. Callers that replay pass the box; without one (a caller that
    only asks whether an answer exists) a sealed body stays sealed."""
    if box is None or not body.startswith(SEALED_BODY_PREFIX):
        return body
    return box.open(body[len(SEALED_BODY_PREFIX) :].encode())


def record(
    conn: Connection,
    scope: str,
    key: str,
    digest: str,
    now: int,
    status: int,
    body: str,
    box: SecretBox | None = None,
) -> None:
    Raw(conn).defer(_INSERT, (scope, key, digest, now, status, _sealed(body, box)))


def placeholder(conn: Connection, scope: str, key: str, digest: str, now: int) -> None:
    """Claim the key before a request leaves its first transaction (real-time authorizations):
    a duplicate arriving meanwhile finds a row without an answer and gets 409."""
    Raw(conn).defer(_INSERT, (scope, key, digest, now, None, None))


def complete(
    conn: Connection, scope: str, key: str, status: int, body: str, box: SecretBox | None = None
) -> bool:
    """Fill in a placeholder's answer; False when there was no placeholder."""
    result = conn.execute(
        update(table)
        .where(table.c.scope == scope, table.c.key == key, table.c.response_status.is_(None))
        .values(response_status=status, response_body=_sealed(body, box))
    )
    return result.rowcount == 1


def release(conn: Connection, scope: str, key: str) -> None:
    """Drop an unanswered placeholder so a retry runs afresh."""
    conn.execute(
        delete(table).where(
            table.c.scope == scope, table.c.key == key, table.c.response_status.is_(None)
        )
    )


def prune(conn: Connection, older_than: int) -> int:
    return conn.execute(delete(table).where(table.c.created < older_than)).rowcount
