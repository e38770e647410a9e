"""Two-phase requests in flight: the rows that let a restarted server conclude them.

A request that needs the network between two transactions (``api.routing.Continuation``)
writes one row here in its first transaction and deletes it in its second. A row that
outlives ``conclude_after_ms`` belongs to a process that died (or hung) in between:
``api.resume`` concludes it. Deleting the row is the claim — whichever transaction
deletes it (the request's own second half, or a recovery) is the one that concludes,
so an object is never concluded twice. Times are wall-clock milliseconds: deadlines
are real network time, not the API's injectable clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, Index, String, Table, Text, delete, insert, select
from sqlalchemy.engine import Connection

from openissuing.storage.tables import ident, metadata

continuations = Table(
    "continuations",
    metadata,
    Column("object_id", ident(), primary_key=True),
    Column("kind", String(64), nullable=False),
    # The acting account of the request that started it.
    Column("owner", ident(), nullable=False),
    Column("conclude_after_ms", BigInteger, nullable=False),
    Column("idempotency_scope", ident(), nullable=True),
    Column("idempotency_key", String(255), nullable=True),
    # The request's expand[] (JSON), so the stored answer renders as the client asked.
    Column("expand", Text, nullable=False),
    Index("ix_continuations_due", "conclude_after_ms"),
    Index("ix_continuations_key", "idempotency_scope", "idempotency_key"),
)


@dataclass(frozen=True)
class InFlight:
    object_id: str
    kind: str
    owner: str
    conclude_after_ms: int
    idempotency_scope: str | None
    idempotency_key: str | None
    expand: str


_COLUMNS = (
    continuations.c.object_id,
    continuations.c.kind,
    continuations.c.owner,
    continuations.c.conclude_after_ms,
    continuations.c.idempotency_scope,
    continuations.c.idempotency_key,
    continuations.c.expand,
)


def remember(conn: Connection, row: InFlight) -> None:
    conn.execute(insert(continuations).values(**row.__dict__))


def claim(conn: Connection, object_id: str) -> bool:
    """Delete the row; True for the one transaction that deleted it."""
    result = conn.execute(delete(continuations).where(continuations.c.object_id == object_id))
    return result.rowcount == 1


def for_key(conn: Connection, scope: str, key: str) -> InFlight | None:
    row = conn.execute(
        select(*_COLUMNS).where(
            continuations.c.idempotency_scope == scope, continuations.c.idempotency_key == key
        )
    ).first()
    return None if row is None else InFlight(*row)


def due(conn: Connection, now_ms: int, limit: int) -> list[InFlight]:
    rows = conn.execute(
        select(*_COLUMNS)
        .where(continuations.c.conclude_after_ms <= now_ms)
        .order_by(continuations.c.conclude_after_ms)
        .limit(limit)
    )
    return [InFlight(*row) for row in rows]
