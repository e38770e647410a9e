"""Idempotency keys: claim before executing, store the response with the effect.

1. ``claim`` (its own short transaction) inserts the key with no response, or
   finds it: same parameters and a stored response → replay; different
   parameters → ``IdempotencyMismatch``; still executing → ``Conflict`` (409).
2. The request's own transaction writes its response into the claimed row
   (``store``), so the effect and the stored answer commit or vanish together.
3. A request that failed before producing an answer ``release``s the key, so a
   retry runs afresh (Stripe does not store validation failures either).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from openissuing.domain.errors import Conflict, IdempotencyMismatch
from openissuing.storage.tables import idempotency_keys
from openissuing.storage.uow import transaction

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Replay:
    status: int
    body: str


def request_hash(method: str, path: str, params: dict) -> str:
    canonical = json.dumps([method, path, params], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(engine: Engine, scope: str, key: str, digest: str, now: int, retention_seconds: int) -> Replay | None:
    def work(uow) -> Replay | None:
        table = idempotency_keys
        row = uow.conn.execute(
            select(table.c.request_hash, table.c.created, table.c.response_status, table.c.response_body)
            .where(table.c.scope == scope, table.c.key == key)
        ).first()
        if row is not None and row.created < now - retention_seconds:
            uow.conn.execute(delete(table).where(table.c.scope == scope, table.c.key == key))
            row = None
        if row is None:
            uow.conn.execute(insert(table).values(scope=scope, key=key, request_hash=digest, created=now))
            return None
        if row.request_hash != digest:
            raise IdempotencyMismatch(
                "Keys for idempotent requests can only be used with the same parameters they were "
                f"first used with. Try using a key other than '{key}' if you meant to execute a "
                "different request."
            )
        if row.response_status is None:
            raise Conflict(
                "There is currently another in-progress request using this Stripe token "
                "(probably the same Idempotency-Key); please try again later."
            )
        return Replay(row.response_status, row.response_body)

    try:
        return transaction(engine, work)
    except IntegrityError:
        # Another request inserted the same key between our read and our insert.
        raise Conflict(
            "There is currently another in-progress request using this Idempotency-Key; "
            "please try again later."
        ) from None


def store(conn: Connection, scope: str, key: str, status: int, body: str) -> None:
    conn.execute(
        update(idempotency_keys)
        .where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
        .values(response_status=status, response_body=body)
    )


def release(engine: Engine, scope: str, key: str) -> None:
    def work(uow) -> None:
        uow.conn.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.scope == scope,
                idempotency_keys.c.key == key,
                idempotency_keys.c.response_status.is_(None),
            )
        )

    transaction(engine, work)


def prune(conn: Connection, older_than: int) -> None:
    conn.execute(delete(idempotency_keys).where(idempotency_keys.c.created < older_than))
