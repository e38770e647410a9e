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

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from openissuing import ids
from openissuing.domain import webhook_matching as matching
from openissuing.domain.errors import InvalidRequest, ResourceMissing
from openissuing.domain.faults import Fault
from openissuing.services import doorbell
from openissuing.services.scope import Scope
from openissuing.storage import outbox
from openissuing.storage.documents import CreatedRange, Page
from openissuing.storage.outbox import Claim
from openissuing.storage.sandboxes import FaultStore
from openissuing.storage.uow import UnitOfWork

ENDPOINT_TYPE = "webhook_endpoint"
EVENT_TYPE = "event"
# /v1/events shows the last 30 days, as Stripe does.
EVENT_RETENTION_SECONDS = 30 * 24 * 3600
MAX_TYPES = 20
EXCERPT_BYTES = 1024
UNFINISHED = outbox.UNFINISHED
__all__ = ["Claim", "Outcome"]


# ------------------------------------------------------------------ fan-out


def wall_ms() -> int:
    """Delivery timing is real time: the API's clock may be advanced by tests, networks are not."""
    return time.time_ns() // 1_000_000


def fan_out(
    uow: UnitOfWork,
    platform: str,
    event: dict[str, Any],
    owner: str,
    faults: Sequence[Fault] = (),
) -> int:
    """Queue ``event`` for every endpoint that should hear it, inside the event's transaction.

    ``faults`` are the sandbox's webhook faults, if any: a late or shuffled delivery is
    queued later, a duplicated one carries an extra copy to send after its success.
    """
    if event["type"] in matching.SYNCHRONOUS_EVENT_TYPES:
        return 0  # answered during the request itself, never queued
    owners = matching.candidate_owners(owner, platform)
    targets = []
    for endpoint_owner, data in outbox.enabled_endpoints(uow.docs, ENDPOINT_TYPE, owners):
        endpoint = _loads(data)
        if matching.receives(endpoint, endpoint_owner, event, owner, platform):
            targets.append(endpoint["id"])
    if not targets:
        return 0
    now_ms = wall_ms()
    delay_ms, copies = _faulted(uow, event["type"], faults)
    rows = [
        {
            "id": ids.new_id("wdl"),
            "event_id": event["id"],
            "endpoint_id": endpoint_id,
            "status": "pending",
            "attempt_count": 0,
            "next_attempt_at": now_ms + delay_ms(),
            "created": now_ms,
            "copies_left": copies,
        }
        for endpoint_id in targets
    ]
    outbox.insert_deliveries(uow.conn, rows)
    # Local dispatchers need not wait for their next poll; others will find the rows by polling.
    uow.after_commit.append(doorbell.ring)
    return len(rows)


def _loads(data: str) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(data)
    return loaded


def _faulted(uow: UnitOfWork, event_type: str, faults: Sequence[Fault]) -> tuple[Any, int]:
    """(a function giving each delivery's delay in ms, extra copies) under the webhook faults."""
    delays: list[Any] = []
    copies = 0
    for fault in faults:
        if not fault.hears(event_type) or not _still_there(uow, fault):
            continue
        if fault.kind == "webhook_delay":
            delays.append(lambda seconds=fault.seconds: seconds * 1000)
        elif fault.kind == "webhook_out_of_order":
            delays.append(lambda seconds=fault.seconds: random.randint(0, seconds * 1000))
        elif fault.kind == "webhook_duplicate":
            copies += 1
    return (lambda: sum(delay() for delay in delays)), copies


def _still_there(uow: UnitOfWork, fault: Fault) -> bool:
    """Counted faults are used up one event at a time (the snapshot in the scope may be stale)."""
    return FaultStore(uow.conn).use_once(fault)


def cancel_pending(uow: UnitOfWork, endpoint_id: str) -> int:
    """A disabled endpoint receives nothing more, not even retries already queued."""
    return outbox.cancel_pending(uow.conn, endpoint_id)


def pending_count(uow: UnitOfWork, event_id: str) -> int:
    return outbox.pending_count(uow.conn, event_id)


def pull_forward(uow: UnitOfWork, owners: Sequence[str], seconds: int) -> None:
    """A sandbox's clock moved ``seconds`` ahead: its pending retries come that much closer."""
    outbox.pull_forward(uow.docs.raw, owners, seconds * 1000, wall_ms())
    uow.after_commit.append(doorbell.ring)


# ------------------------------------------------------------------ claiming and results


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
    return outbox.claim(uow.conn, now_ms, limit, lease_ms)


def next_gap_seconds(schedule: Sequence[float], attempts_made: int) -> float | None:
    """The wait after the ``attempts_made``-th attempt failed; None: give up."""
    return schedule[attempts_made - 1] if attempts_made <= len(schedule) else None


def record(
    uow: UnitOfWork, claimed: Claim, outcome: Outcome, now_ms: int, schedule: Sequence[float]
) -> str | None:
    """Store an attempt and advance the delivery; returns its new status (None if it is gone)."""
    current = outbox.locked(uow.conn, claimed.delivery_id)
    if current is None:
        return None  # the endpoint was deleted meanwhile, and its deliveries with it
    number = claimed.attempt_count + 1
    outbox.insert_attempt(
        uow.conn,
        {
            "id": ids.new_id("wda"),
            "delivery_id": claimed.delivery_id,
            "number": number,
            "started_at": outcome.started_at_ms,
            "duration_ms": outcome.duration_ms,
            "http_status": outcome.http_status,
            "error": outcome.error[:255] if outcome.error else None,
            "response_excerpt": outcome.response_excerpt,
        },
    )
    if current.status != "pending" or current.lease != claimed.lease:
        return current.status  # canceled, or our lease expired and someone else owns it now
    if outcome.succeeded and current.copies_left > 0:
        # A duplicated delivery (webhook_duplicate fault): the same event goes out once more.
        outbox.advance(
            uow.conn,
            claimed.delivery_id,
            {
                "attempt_count": number,
                "lease": None,
                "last_status_code": outcome.http_status,
                "next_attempt_at": now_ms,
                "copies_left": current.copies_left - 1,
            },
        )
        return "pending"
    gap = None if outcome.succeeded else next_gap_seconds(schedule, number)
    status = "succeeded" if outcome.succeeded else ("pending" if gap is not None else "failed")
    outbox.advance(
        uow.conn,
        claimed.delivery_id,
        {
            "status": status,
            "attempt_count": number,
            "lease": None,
            "last_status_code": outcome.http_status,
            "next_attempt_at": None if gap is None else now_ms + int(gap * 1000),
        },
    )
    return status


def cancel(uow: UnitOfWork, claimed: Claim) -> None:
    """The endpoint went away or was disabled before we could send."""
    outbox.cancel(uow.conn, claimed.delivery_id, claimed.lease)


def release(uow: UnitOfWork, claimed: Claim, now_ms: int) -> None:
    """Hand back a claim we will not send (shutting down): due again at once, for anyone."""
    outbox.release(uow.conn, claimed.delivery_id, claimed.lease, now_ms)


# ------------------------------------------------------------------ reading it back (CLI, tests)


def deliveries(
    uow: UnitOfWork, *, event_id: str | None = None, endpoint_id: str | None = None
) -> list[dict[str, Any]]:
    return outbox.deliveries(uow.conn, event_id=event_id, endpoint_id=endpoint_id)


def attempt_log(
    uow: UnitOfWork,
    *,
    event_id: str | None = None,
    endpoint_id: str | None = None,
    limit: int | None = 50,
) -> list[dict[str, Any]]:
    """Attempts, newest first, with their delivery's event, endpoint, event type and status."""
    return outbox.attempt_log(uow.conn, event_id=event_id, endpoint_id=endpoint_id, limit=limit)


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
    one, many = params.get("type") or None, params.get("types") or None
    if one and many:
        raise InvalidRequest(
            "You may only specify one of these parameters: type, types.",
            code="parameters_exclusive",
            param="types",
        )
    if many and len(many) > MAX_TYPES:
        raise InvalidRequest(f"You may pass at most {MAX_TYPES} types.", param="types")
    success = params.get("delivery_success")
    wanted = outbox.EventFilter(
        owner=scope.account,
        since=scope.now() - EVENT_RETENTION_SECONDS,
        types=[str(t) for t in many] if many else ([one] if one and "*" not in one else []),
        pattern=one if one and "*" in one else None,
        delivery_success=None if success is None or success == "" else bool(success),
        created=created,
    )
    return outbox.events_page(
        uow.conn,
        wanted,
        event_type=EVENT_TYPE,
        limit=limit,
        starting_after=starting_after,
        ending_before=ending_before,
    )


# ------------------------------------------------------------------ resending (dashboard)


def resend(uow: UnitOfWork, delivery_id: str, now_ms: int) -> None:
    """Queue a delivery again, due now: one more attempt whatever its status was.

    A finished delivery (succeeded, failed, canceled) becomes pending; its attempt count
    is kept, so a failing resend ends as ``failed`` after that one attempt.
    """
    outbox.advance(
        uow.conn, delivery_id, {"status": "pending", "next_attempt_at": now_ms, "lease": None}
    )
    uow.after_commit.append(doorbell.ring)
