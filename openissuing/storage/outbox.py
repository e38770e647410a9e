"""The SQL of the webhook outbox (``webhook_deliveries``, ``webhook_attempts``) and of event lists.

The rules — who hears an event, when to retry, what ``/v1/events`` filters mean — live in
``services.deliveries``; this module only reads and writes rows.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from openissuing.storage.documents import CreatedRange, Documents, Page, require_cursors
from openissuing.storage.raw import Raw, placeholders
from openissuing.storage.tables import object_keys, objects, webhook_attempts, webhook_deliveries

UNFINISHED = ("pending", "failed")


@dataclass(frozen=True)
class Claim:
    delivery_id: str
    event_id: str
    endpoint_id: str
    attempt_count: int
    lease: str


def enabled_endpoints(docs: Documents, endpoint_type: str, owners: Sequence[str]) -> list[Any]:
    """(owner, JSON) of the enabled endpoints of these owners, by id: one indexed read per
    transaction (until an endpoint is written in it), shared by every event it records."""
    return docs.read_of_type(
        endpoint_type,
        "SELECT o.owner, o.data FROM objects o JOIN object_keys k ON k.object_id = o.id "
        f"WHERE o.type = ? AND o.owner IN ({placeholders(len(owners))}) "
        "AND k.name = 'status' AND k.value = 'enabled' ORDER BY o.id",
        (endpoint_type, *owners),
    )


def insert_deliveries(conn: Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(insert(webhook_deliveries), rows)


def cancel_pending(conn: Connection, endpoint_id: str) -> int:
    result = conn.execute(
        update(webhook_deliveries)
        .where(
            webhook_deliveries.c.endpoint_id == endpoint_id,
            webhook_deliveries.c.status == "pending",
        )
        .values(status="canceled", next_attempt_at=None, lease=None)
    )
    return int(result.rowcount)


def pending_count(conn: Connection, event_id: str) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(webhook_deliveries)
            .where(
                webhook_deliveries.c.event_id == event_id,
                webhook_deliveries.c.status == "pending",
            )
        ).scalar_one()
    )


def claim(conn: Connection, now_ms: int, limit: int, lease_ms: int) -> list[Claim]:
    """Lease the due rows (SKIP LOCKED on PostgreSQL; SQLite's write lock serialises claimers)."""
    table = webhook_deliveries
    query = (
        select(table.c.id, table.c.event_id, table.c.endpoint_id, table.c.attempt_count)
        .where(table.c.status == "pending", table.c.next_attempt_at <= now_ms)
        .order_by(table.c.next_attempt_at, table.c.id)
        .limit(limit)
    )
    if conn.dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    rows = conn.execute(query).all()
    if not rows:
        return []
    lease = secrets.token_hex(16)
    conn.execute(
        update(table)
        .where(table.c.id.in_([row.id for row in rows]))
        .values(next_attempt_at=now_ms + lease_ms, lease=lease)
    )
    return [Claim(row.id, row.event_id, row.endpoint_id, row.attempt_count, lease) for row in rows]


def locked(conn: Connection, delivery_id: str) -> Any:
    """(status, lease, copies_left) of a delivery, row-locked where the engine can."""
    query = select(
        webhook_deliveries.c.status, webhook_deliveries.c.lease, webhook_deliveries.c.copies_left
    ).where(webhook_deliveries.c.id == delivery_id)
    if conn.dialect.name != "sqlite":
        query = query.with_for_update()
    return conn.execute(query).first()


def insert_attempt(conn: Connection, values: Mapping[str, Any]) -> None:
    conn.execute(insert(webhook_attempts).values(**values))


def advance(conn: Connection, delivery_id: str, values: Mapping[str, Any]) -> None:
    conn.execute(
        update(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id).values(**values)
    )


def cancel(conn: Connection, delivery_id: str, lease: str) -> None:
    conn.execute(
        update(webhook_deliveries)
        .where(webhook_deliveries.c.id == delivery_id, webhook_deliveries.c.lease == lease)
        .values(status="canceled", next_attempt_at=None, lease=None)
    )


def release(conn: Connection, delivery_id: str, lease: str, now_ms: int) -> None:
    conn.execute(
        update(webhook_deliveries)
        .where(
            webhook_deliveries.c.id == delivery_id,
            webhook_deliveries.c.lease == lease,
            webhook_deliveries.c.status == "pending",
        )
        .values(next_attempt_at=now_ms, lease=None)
    )


def pull_forward(raw: Raw, owners: Sequence[str], delta_ms: int, now_ms: int) -> None:
    """Bring the unleased pending deliveries of these owners' events ``delta_ms`` closer (never
    before now): a sandbox clock moved forward makes its retries due as real time would."""
    for start in range(0, len(owners), 200):
        chunk = tuple(owners[start : start + 200])
        raw.execute(
            "UPDATE webhook_deliveries SET next_attempt_at = CASE WHEN next_attempt_at - ? < ? "
            "THEN ? ELSE next_attempt_at - ? END WHERE status = 'pending' AND lease IS NULL "
            "AND event_id IN (SELECT id FROM objects WHERE type = 'event' "
            f"AND owner IN ({placeholders(len(chunk))}))",
            (delta_ms, now_ms, now_ms, delta_ms, *chunk),
        ).close()


def deliveries(
    conn: Connection, *, event_id: str | None = None, endpoint_id: str | None = None
) -> list[dict[str, Any]]:
    table = webhook_deliveries
    query = select(table).order_by(table.c.id)
    if event_id is not None:
        query = query.where(table.c.event_id == event_id)
    if endpoint_id is not None:
        query = query.where(table.c.endpoint_id == endpoint_id)
    return [dict(row._mapping) for row in conn.execute(query)]


def attempt_log(
    conn: Connection,
    *,
    event_id: str | None = None,
    endpoint_id: str | None = None,
    limit: int | None = 50,
) -> list[dict[str, Any]]:
    d, a = webhook_deliveries, webhook_attempts
    event_type = (
        select(object_keys.c.value)
        .where(object_keys.c.object_id == d.c.event_id, object_keys.c.name == "type")
        .scalar_subquery()
    )
    query = (
        select(
            a,
            d.c.event_id,
            d.c.endpoint_id,
            d.c.status.label("delivery_status"),
            event_type.label("event_type"),
        )
        .join(d, d.c.id == a.c.delivery_id)
        .order_by(a.c.started_at.desc(), a.c.id.desc())
    )
    if event_id is not None:
        query = query.where(d.c.event_id == event_id)
    if endpoint_id is not None:
        query = query.where(d.c.endpoint_id == endpoint_id)
    if limit is not None:
        query = query.limit(limit)
    return [dict(row._mapping) for row in conn.execute(query)]


@dataclass(frozen=True)
class EventFilter:
    """What a list of events asks for; the rules that build it live in services.deliveries."""

    owner: str
    since: int
    types: Sequence[str] = ()
    # A ``*`` pattern on ``type`` (e.g. ``issuing_card.*``), when one was given.
    pattern: str | None = None
    delivery_success: bool | None = None
    created: CreatedRange | None = None


def events_page(
    conn: Connection,
    wanted: EventFilter,
    *,
    event_type: str,
    limit: int,
    starting_after: str | None,
    ending_before: str | None,
) -> Page:
    conditions: list[ColumnElement[bool]] = [
        objects.c.type == event_type,
        objects.c.owner == wanted.owner,
        objects.c.created >= wanted.since,
        *_type_conditions(wanted),
        *_delivery_conditions(wanted.delivery_success),
        *_created_conditions(wanted.created),
    ]
    # Same cursor rules as Documents.list: ids sort by creation, newest first; a cursor
    # must be one of the owner's events (it may be older than the 30 days listed).
    require_cursors(conn, event_type, wanted.owner, starting_after, ending_before)
    if starting_after is not None:
        conditions.append(objects.c.id < starting_after)
    if ending_before is not None:
        conditions.append(objects.c.id > ending_before)
    order = objects.c.id.asc() if ending_before is not None else objects.c.id.desc()
    query = select(objects.c.data).where(and_(*conditions)).order_by(order).limit(limit + 1)
    rows = [orjson.loads(data) for data in conn.execute(query).scalars()]
    has_more = len(rows) > limit
    rows = rows[:limit]
    if ending_before is not None:
        rows.reverse()
    return Page(rows, has_more)


def _type_conditions(wanted: EventFilter) -> list[ColumnElement[bool]]:
    if wanted.pattern is not None:
        match = object_keys.c.value.like(_like_pattern(wanted.pattern), escape="\\")
    elif wanted.types:
        match = object_keys.c.value.in_([str(t) for t in wanted.types])
    else:
        return []
    keyed = select(object_keys.c.object_id).where(object_keys.c.name == "type", match)
    return [objects.c.id.in_(keyed)]


def _like_pattern(wildcard: str) -> str:
    """``issuing_card.*`` → ``issuing\\_card.%``: ``*`` is the wildcard, ``_``/``%`` literal."""
    escaped = wildcard.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def _delivery_conditions(delivery_success: bool | None) -> list[ColumnElement[bool]]:
    if delivery_success is None:
        return []
    unfinished = exists().where(
        webhook_deliveries.c.event_id == objects.c.id, webhook_deliveries.c.status.in_(UNFINISHED)
    )
    # Stripe: false lists events still pending or failed for some endpoint; true, the rest.
    return [~unfinished if delivery_success else unfinished]


def _created_conditions(created: CreatedRange | None) -> Iterable[ColumnElement[bool]]:
    if created is None:
        return []
    column = objects.c.created
    bounds = [
        (created.gt, column.__gt__),
        (created.gte, column.__ge__),
        (created.lt, column.__lt__),
        (created.lte, column.__le__),
    ]
    return [op(value) for value, op in bounds if value is not None]
