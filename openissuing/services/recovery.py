"""Concluding a two-phase request whose server died between its two transactions.

A real-time authorization is stored ``pending`` (``pending_request`` set, amount 0)
before the platform is asked. If the process is killed while it waits, nobody would
ever decide it: here it is decided as Stripe decides one whose endpoint never
answered — by the timeout default, reason ``webhook_timeout`` (an approve/decline API
call recorded meanwhile still wins, as it would have). ``api.resume`` finds such
requests (``storage.continuations``) and stores the answer for their Idempotency-Key.

Each kind of two-phase request registers how to conclude it without its network
result, and which object its answer renders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openissuing.domain.issuing.realtime import Reply
from openissuing.services import authorizations
from openissuing.services import realtime_authorizations as realtime
from openissuing.services.scope import Scope
from openissuing.storage.uow import UnitOfWork

REALTIME_AUTHORIZATION = realtime.REQUEST_EVENT


@dataclass(frozen=True)
class Kind:
    object_type: str  # the answer's object, as the API renders it
    # (uow, scope, object id, settings) -> the concluded record
    conclude: Callable[[UnitOfWork, Scope, str, Any], dict[str, Any]]
    # (uow, scope, object id) -> the record as it stands
    load: Callable[[UnitOfWork, Scope, str], dict[str, Any]]


def _conclude_realtime(
    uow: UnitOfWork, scope: Scope, auth_id: str, settings: Any
) -> dict[str, Any]:
    record = authorizations.load(uow, scope, auth_id, for_update=True)
    if record.get("pending_request") is None:
        return record  # already decided
    pending = realtime.Pending(auth_id, url="", secret="", body="")
    return authorizations.conclude(
        uow,
        scope,
        pending,
        Reply(timed_out=True),
        settings.realtime_timeout_decision == "approve",
    )


KINDS: dict[str, Kind] = {
    REALTIME_AUTHORIZATION: Kind(
        authorizations.TYPE,
        _conclude_realtime,
        lambda uow, scope, auth_id: authorizations.load(uow, scope, auth_id),
    ),
}


def conclude(
    uow: UnitOfWork, scope: Scope, kind: str, object_id: str, settings: Any
) -> tuple[str, dict[str, Any]]:
    """(object type, record) of the concluded request."""
    entry = KINDS[kind]
    return entry.object_type, entry.conclude(uow, scope, object_id, settings)


def current(uow: UnitOfWork, scope: Scope, kind: str, object_id: str) -> tuple[str, dict]:
    entry = KINDS[kind]
    return entry.object_type, entry.load(uow, scope, object_id)
