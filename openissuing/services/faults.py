"""Faults on purpose, per sandbox: set, list, clear, and the one the next request meets.

Stored in the database (so every server process on it honours them and a count
is used up exactly once); a request of a sandbox that has none never looks.
"""

from __future__ import annotations

from openissuing import ids
from openissuing.domain import faults as rules
from openissuing.domain.errors import ResourceMissing
from openissuing.domain.faults import Fault
from openissuing.domain.sandboxes import Sandbox
from openissuing.storage.sandboxes import FaultStore
from openissuing.storage.uow import UnitOfWork


def add(
    uow: UnitOfWork,
    sandbox: Sandbox,
    *,
    kind: str,
    method: str | None,
    path: str | None,
    count: int | None,
    seconds: int,
    expires_in_seconds: int | None,
    now: int,
    event_type: str | None = None,
    outcome: str | None = None,
) -> Fault:
    rules.validate(kind, method, path, count, seconds, event_type, outcome)
    fault = Fault(
        ids.new_id("flt"),
        sandbox.id,
        kind,
        method,
        path,
        count,
        seconds,
        None if expires_in_seconds is None else now + expires_in_seconds,
        now,
        event_type,
        outcome or ("approve" if kind == "network_fallback" else None),
    )
    FaultStore(uow.conn).add(fault)
    return fault


def of(uow: UnitOfWork, sandbox: Sandbox, now: int) -> list[Fault]:
    return [
        f for f in FaultStore(uow.conn).of(sandbox.id) if f.expires_at is None or f.expires_at > now
    ]


def remove(uow: UnitOfWork, sandbox: Sandbox, fault_id: str) -> None:
    if not FaultStore(uow.conn).remove(sandbox.id, fault_id):
        raise ResourceMissing("fault", fault_id, param="fault")


def clear(uow: UnitOfWork, sandbox: Sandbox) -> None:
    FaultStore(uow.conn).clear(sandbox.id)


def use(uow: UnitOfWork, scope_faults: tuple[Fault, ...], kind: str) -> Fault | None:
    """The first standing fault of ``kind`` still set, used once (None: none applies)."""
    store = FaultStore(uow.conn)
    for fault in scope_faults:
        if fault.kind == kind and store.use_once(fault):
            return fault
    return None


def take(
    uow: UnitOfWork, sandbox: Sandbox, method: str, path: str, now: int
) -> tuple[Fault | None, tuple[Fault, ...]]:
    """(the first request fault the request matches, used up by one; the webhook faults in
    force, which the request's events meet as they are queued). Expired ones are dropped."""
    store = FaultStore(uow.conn)
    store.drop_expired(sandbox.id, now)
    found = store.of(sandbox.id, for_update=True)
    webhook = tuple(f for f in found if not f.on_requests)
    for fault in found:
        if fault.matches(method, path, now):
            store.use(fault)
            return fault, webhook
    return None, webhook
