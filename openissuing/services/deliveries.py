"""The webhook outbox after the event: fan-out, claiming, results, and reading events back.

Design (why it is correct with several dispatchers on one PostgreSQL):

1. **Fan-out happens in the event's own transaction.** ``events.record`` calls
   ``fan_out``, which inserts one ``webhook_deliveries`` row per matching,
   enabled endpoint. The event and its deliveries commit or vanish together, so
   there is no cursor to keep and nothing for dispatchers to race over; the
   unique ``(event_id, endpoint_id)`` index makes a repeated fan-out a no-op. An
   endpoint hears the events recorded after it exists, as on Stripe.
2. **Claiming is a short transaction.** ``claim`` selects due pending rows
   ``FOR UPDATE SKIP LOCKED`` (SQLite: the ``BEGIN IMMEDIATE`` write lock
   serialises claimers instead) and *leases* them: ``next_attempt_at`` moves past
   the HTTP timeouts of the whole batch and a fresh ``lease`` token is stored. The
   transaction commits before any network I/O. A concurrent claimer either
   skips the locked rows or, re-reading them after the commit, finds them no
   longer due; so each attempt is made by one dispatcher.
3. **Sending holds no transaction** (the dispatcher does it).
4. **Recording is a short transaction**: the attempt row is written, and the
   delivery advances only if it still carries our lease (a delivery whose
   endpoint was disabled meanwhile stays canceled). Success ends it; a failure
   schedules the next attempt after the schedule's next gap, or ends it as
   ``failed`` when the schedule is exhausted.
5. **At-least-once**: a dispatcher that dies between claim and record leaves a
   lease that simply expires; the delivery becomes due again and another
   dispatcher (or the restarted one) sends it. Nothing lives only in memory.

Reading events back lives here too because what ``/v1/events`` reports
(``pending_webhooks``, the ``delivery_success`` filter) is delivery state.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.engine import Connection

from openissuing import ids, webhooks
from openissuing.domain.errors import InvalidRequest, ResourceMissing
from openissuing.services.scope import Scope
from openissuing.storage.documents import CreatedRange, Page
from openissuing.storage.tables import object_keys, objects, webhook_attempts, webhook_deliveries
from openissuing.storage.uow import UnitOfWork
from openissuing.webhooks import matching

ENDPOINT_TYPE = "webhook_endpoint"
EVENT_TYPE = "event"
# /v1/events shows the last 30 days, as Stripe does.
EVENT_RETENTION_SECONDS = 30 * 24 * 3600
MAX_TYPES = 20
EXCERPT_BYTES = 1024
UNFINISHED = ("pending", "failed")


# ------------------------------------------------------------------ fan-out


def wall_ms() -> int:
    """Delivery timing is real time: the API's clock may be advanced by tests, networks are not."""
    return time.time_ns() // 1_000_000


def fan_out(uow: UnitOfWork, platform: str, event: dict[str, Any], owner: str) -> int:
    """Queue ``event`` for every endpoint that should hear it; runs inside the event's transaction."""
    if event["type"] in matching.SYNCHRONOUS_EVENT_TYPES:
        return 0  # answered during the request itself, never queued
    owners = matching.candidate_owners(owner, platform)
    # One indexed read per event (this runs inside every state change, hot paths included).
    rows = uow.docs.raw.all(
        "SELECT o.owner, o.data FROM objects o JOIN object_keys k ON k.object_id = o.id "
        f"WHERE o.type = ? AND o.owner IN ({', '.join('?' * len(owners))}) "
        "AND k.name = 'status' AND k.value = 'enabled'",
        (ENDPOINT_TYPE, *owners),
    )
    targets = []
    for endpoint_owner, data in rows:
        endpoint = json.loads(data)
        if matching.receives(endpoint, endpoint_owner, event, owner, platform):
            targets.append(endpoint["id"])
    if not targets:
        return 0
    now_ms = wall_ms()
    rows = [
        {
            "id": ids.new_id("wdl"),
            "event_id": event["id"],
            "endpoint_id": endpoint_id,
            "status": "pending",
            "attempt_count": 0,
            "next_attempt_at": now_ms,
            "created": now_ms,
        }
        for endpoint_id in targets
    ]
    uow.conn.execute(insert(webhook_deliveries), rows)
    # Local dispatchers need not wait for their next poll; others will find the rows by polling.
    uow.after_commit.append(webhooks.ring)
    return len(rows)


def cancel_pending(uow: UnitOfWork, endpoint_id: str) -> int:
    """A disabled endpoint receives nothing more, not even retries already queued."""
    result = uow.conn.execute(
        update(webhook_deliveries)
        .where(
            webhook_deliveries.c.endpoint_id == endpoint_id,
            webhook_deliveries.c.status == "pending",
        )
        .values(status="canceled", next_attempt_at=None, lease=None)
    )
    return result.rowcount


def pending_count(uow: UnitOfWork, event_id: str) -> int:
    return uow.conn.execute(
        select(func.count())
        .select_from(webhook_deliveries)
        .where(webhook_deliveries.c.event_id == event_id, webhook_deliveries.c.status == "pending")
    ).scalar_one()


# ------------------------------------------------------------------ claiming and results


@dataclass(frozen=True)
class Claim:
    delivery_id: str
    event_id: str
    endpoint_id: str
    attempt_count: int
    lease: str


@dataclass(frozen=True)
class Outcome:
    """One HTTP attempt: a status when the endpoint answered, otherwise an error."""

    started_at_ms: int
    duration_ms: int
    http_status: int | None = None
    error: str | None = None
    response_excerpt: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300


def claim(uow: UnitOfWork, now_ms: int, limit: int, lease_ms: int) -> list[Claim]:
    table = webhook_deliveries
    query = (
        select(table.c.id, table.c.event_id, table.c.endpoint_id, table.c.attempt_count)
        .where(table.c.status == "pending", table.c.next_attempt_at <= now_ms)
        .order_by(table.c.next_attempt_at, table.c.id)
        .limit(limit)
    )
    if uow.conn.dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    rows = uow.conn.execute(query).all()
    if not rows:
        return []
    lease = secrets.token_hex(16)
    uow.conn.execute(
        update(table)
        .where(table.c.id.in_([row.id for row in rows]))
        .values(next_attempt_at=now_ms + lease_ms, lease=lease)
    )
    return [Claim(row.id, row.event_id, row.endpoint_id, row.attempt_count, lease) for row in rows]


def next_gap_seconds(schedule: Sequence[float], attempts_made: int) -> float | None:
    """The wait after the ``attempts_made``-th attempt failed; None: give up."""
    return schedule[attempts_made - 1] if attempts_made <= len(schedule) else None


def record(
    uow: UnitOfWork, claimed: Claim, outcome: Outcome, now_ms: int, schedule: Sequence[float]
) -> str | None:
    """Store an attempt and advance the delivery; returns its new status (None if it is gone)."""
    current = _locked(uow.conn, claimed.delivery_id)
    if current is None:
        return None  # the endpoint was deleted meanwhile, and its deliveries with it
    number = claimed.attempt_count + 1
    uow.conn.execute(
        insert(webhook_attempts).values(
            id=ids.new_id("wda"),
            delivery_id=claimed.delivery_id,
            number=number,
            started_at=outcome.started_at_ms,
            duration_ms=outcome.duration_ms,
            http_status=outcome.http_status,
            error=outcome.error[:255] if outcome.error else None,
            response_excerpt=outcome.response_excerpt,
        )
    )
    if current.status != "pending" or current.lease != claimed.lease:
        return current.status  # canceled, or our lease expired and someone else owns it now
    gap = None if outcome.succeeded else next_gap_seconds(schedule, number)
    status = "succeeded" if outcome.succeeded else ("pending" if gap is not None else "failed")
    uow.conn.execute(
        update(webhook_deliveries)
        .where(webhook_deliveries.c.id == claimed.delivery_id)
        .values(
            status=status,
            attempt_count=number,
            lease=None,
            last_status_code=outcome.http_status,
            next_attempt_at=None if gap is None else now_ms + int(gap * 1000),
        )
    )
    return status


def cancel(uow: UnitOfWork, claimed: Claim) -> None:
    """The endpoint went away or was disabled before we could send."""
    uow.conn.execute(
        update(webhook_deliveries)
        .where(
            webhook_deliveries.c.id == claimed.delivery_id,
            webhook_deliveries.c.lease == claimed.lease,
        )
        .values(status="canceled", next_attempt_at=None, lease=None)
    )


def release(uow: UnitOfWork, claimed: Claim, now_ms: int) -> None:
    """Hand back a claim we will not send (shutting down): due again at once, for anyone."""
    uow.conn.execute(
        update(webhook_deliveries)
        .where(
            webhook_deliveries.c.id == claimed.delivery_id,
            webhook_deliveries.c.lease == claimed.lease,
            webhook_deliveries.c.status == "pending",
        )
        .values(next_attempt_at=now_ms, lease=None)
    )


def _locked(conn: Connection, delivery_id: str):
    query = select(webhook_deliveries.c.status, webhook_deliveries.c.lease).where(
        webhook_deliveries.c.id == delivery_id
    )
    if conn.dialect.name != "sqlite":
        query = query.with_for_update()
    return conn.execute(query).first()


# ------------------------------------------------------------------ reading it back (CLI, tests)


def deliveries(
    uow: UnitOfWork, *, event_id: str | None = None, endpoint_id: str | None = None
) -> list[dict[str, Any]]:
    table = webhook_deliveries
    query = select(table).order_by(table.c.id)
    if event_id is not None:
        query = query.where(table.c.event_id == event_id)
    if endpoint_id is not None:
        query = query.where(table.c.endpoint_id == endpoint_id)
    return [dict(row._mapping) for row in uow.conn.execute(query)]


def attempt_log(
    uow: UnitOfWork,
    *,
    event_id: str | None = None,
    endpoint_id: str | None = None,
    limit: int | None = 50,
) -> list[dict[str, Any]]:
    """Attempts, newest first, with their delivery's event, endpoint, event type and status."""
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
    return [dict(row._mapping) for row in uow.conn.execute(query)]


# ------------------------------------------------------------------ /v1/events


def load_event(uow: UnitOfWork, scope: Scope, event_id: str) -> dict[str, Any]:
    record = uow.docs.get(EVENT_TYPE, event_id, scope.account)
    if record is None or record["created"] < scope.now() - EVENT_RETENTION_SECONDS:
        raise ResourceMissing("event", event_id, param="id")
    return record


def list_events(
    uow: UnitOfWork,
    scope: Scope,
    params: dict[str, Any],
    *,
    limit: int,
    starting_after: str | None,
    ending_before: str | None,
    created: CreatedRange | None,
) -> Page:
    """The acting account's events of the last 30 days, newest first, filtered as Stripe filters."""
    conditions = [
        objects.c.type == EVENT_TYPE,
        objects.c.owner == scope.account,
        objects.c.created >= scope.now() - EVENT_RETENTION_SECONDS,
        *_type_conditions(params),
        *_delivery_conditions(params.get("delivery_success")),
        *_created_conditions(created),
    ]
    return _page(uow.conn, conditions, limit, starting_after, ending_before)


def _type_conditions(params: dict[str, Any]) -> list:
    one, many = params.get("type") or None, params.get("types") or None
    if one and many:
        raise InvalidRequest(
            "You may only specify one of these parameters: type, types.",
            code="parameters_exclusive",
            param="types",
        )
    if many and len(many) > MAX_TYPES:
        raise InvalidRequest(f"You may pass at most {MAX_TYPES} types.", param="types")
    if not one and not many:
        return []
    if many:
        match = object_keys.c.value.in_([str(t) for t in many])
    elif "*" in one:
        match = object_keys.c.value.like(_like_pattern(one), escape="\\")
    else:
        match = object_keys.c.value == one
    keyed = select(object_keys.c.object_id).where(object_keys.c.name == "type", match)
    return [objects.c.id.in_(keyed)]


def _like_pattern(wildcard: str) -> str:
    """``issuing_card.*`` → ``issuing\\_card.%``: only ``*`` is a wildcard, ``_`` and ``%`` are literal."""
    escaped = wildcard.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def _delivery_conditions(delivery_success: Any) -> list:
    if delivery_success is None or delivery_success == "":
        return []
    unfinished = exists().where(
        webhook_deliveries.c.event_id == objects.c.id, webhook_deliveries.c.status.in_(UNFINISHED)
    )
    # Stripe: false lists events still pending or failed for some endpoint; true, the rest.
    return [~unfinished if delivery_success else unfinished]


def _created_conditions(created: CreatedRange | None) -> Iterable:
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


def _page(
    conn: Connection,
    conditions: list,
    limit: int,
    starting_after: str | None,
    ending_before: str | None,
) -> Page:
    # Same cursor rules as Documents.list: ids sort by creation, newest first.
    if starting_after is not None:
        conditions.append(objects.c.id < starting_after)
    if ending_before is not None:
        conditions.append(objects.c.id > ending_before)
    order = objects.c.id.asc() if ending_before is not None else objects.c.id.desc()
    query = select(objects.c.data).where(and_(*conditions)).order_by(order).limit(limit + 1)
    rows = [json.loads(data) for data in conn.execute(query).scalars()]
    has_more = len(rows) > limit
    rows = rows[:limit]
    if ending_before is not None:
        rows.reverse()
    return Page(rows, has_more)


# ------------------------------------------------------------------ resending (dashboard)


def resend(uow: UnitOfWork, delivery_id: str, now_ms: int) -> None:
    """Queue a delivery again, due now: one more attempt whatever its status was.

    A finished delivery (succeeded, failed, canceled) becomes pending; its attempt count
    is kept, so a failing resend ends as ``failed`` after that one attempt.
    """
    uow.conn.execute(
        update(webhook_deliveries)
        .where(webhook_deliveries.c.id == delivery_id)
        .values(status="pending", next_attempt_at=now_ms, lease=None)
    )
    uow.after_commit.append(webhooks.ring)
