"""Two-phase requests survive the death of the process that started them.

The pipeline runs a ``Continuation`` as: first transaction (effect + idempotency
placeholder + a ``storage.continuations`` row) -> the network, no transaction open ->
second transaction (conclusion + stored answer + the row deleted). A process killed
between the two left an object half-decided and a placeholder that would answer 409
to every retry for the key's whole retention. Here:

* ``remember`` writes the row, with ``conclude_after_ms`` = now + the network deadline
  + ``MARGIN_SECONDS`` (time for the second transaction to get its locks): before
  that the owner may still be alive; after it, it is not going to finish.
* ``stale_answer`` is the lazy path: a retry that meets an unanswered placeholder
  whose row is overdue concludes the request itself (``services.recovery``, the
  timeout default) in its own transaction, stores the answer and replays it.
* ``recover_due`` does the same for every overdue row (no key needed): the server runs
  it at start and with its housekeeping.
* ``claim`` is how the request's own second half, or a recovery, becomes the one that
  concludes (deleting the row); ``already_concluded`` answers the loser.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from openissuing import ids
from openissuing.api.errors import error_body
from openissuing.api.render import RenderContext, render
from openissuing.api.routing import Call, Continuation
from openissuing.domain.errors import StripeError
from openissuing.services import recovery, sandboxes
from openissuing.services.scope import Scope
from openissuing.storage import continuations, idempotency
from openissuing.storage.continuations import InFlight
from openissuing.storage.uow import UnitOfWork, transaction

log = logging.getLogger("openissuing.resume")

MARGIN_SECONDS = 5.0
BATCH = 100


def _now_ms() -> int:
    return int(time.time() * 1000)


def remember(
    uow: UnitOfWork,
    continuation: Continuation,
    scope: Scope,
    idem: Any,
    expand: list[str],
    deadline_seconds: float,
) -> None:
    if continuation.resume is None:
        return
    kind, object_id = continuation.resume
    after = _now_ms() + int((deadline_seconds + MARGIN_SECONDS) * 1000)
    continuations.remember(
        uow.conn,
        InFlight(
            object_id,
            kind,
            scope.account,
            after,
            idem.scope if idem is not None else None,
            idem.key if idem is not None else None,
            orjson.dumps(expand).decode(),
        ),
    )


def claim(uow: UnitOfWork, continuation: Continuation) -> bool:
    """True when this transaction is the one to conclude (always, without a resume)."""
    if continuation.resume is None:
        return True
    return continuations.claim(uow.conn, continuation.resume[1])


def already_concluded(uow: UnitOfWork, continuation: Continuation, call: Call, idem: Any):
    """A recovery concluded this request first: answer what it stored, or the object."""
    if idem is not None:
        replay = idempotency.find(
            uow.conn,
            idem.scope,
            idem.key,
            idem.digest,
            idem.now,
            idem.retention_seconds,
            box=call.scope.box,
        )
        if replay is not None:
            return replay.status, replay.body, True
    kind, object_id = continuation.resume
    object_type, record = recovery.current(uow, call.scope, kind, object_id)
    return 200, orjson.dumps(call.render(object_type, record)).decode(), False


def stale_answer(
    runtime, uow: UnitOfWork, scope: str, key: str, created: int
) -> idempotency.Replay | None:
    """The lazy path, inside a retry's transaction: conclude an overdue request for this key.

    A placeholder with no row at all belongs to a two-phase request that declared no way
    to conclude it: once it is older than the deadline and margin its process is gone, so
    the placeholder is dropped and the retry runs afresh (as when the request fails)."""
    row = continuations.for_key(uow.conn, scope, key)
    if row is None:
        overdue = runtime.settings.realtime_deadline_seconds + MARGIN_SECONDS
        if created >= runtime.clock.now() - overdue:
            return None
        idempotency.release(uow.conn, scope, key)
        return idempotency.RUN_AFRESH
    if row.conclude_after_ms > _now_ms():
        return None
    if not continuations.claim(uow.conn, row.object_id):
        return None
    status, body = _conclude(runtime, uow, row)
    return idempotency.Replay(status, body)


def _conclude(runtime, uow: UnitOfWork, row: InFlight) -> tuple[int, str]:
    request_id = ids.new_id("req")
    # The owner's sandbox gives the request its platform and clock, as it did originally.
    sandbox = sandboxes.of_account(uow, row.owner)
    platform = sandbox.platform_account_id if sandbox else runtime.platform_id
    clock = runtime.sandboxes.clock(sandbox) if sandbox else runtime.clock
    scope = Scope(row.owner, platform, clock, runtime.box, request_id, row.idempotency_key)
    try:
        object_type, record = recovery.conclude(
            uow, scope, row.kind, row.object_id, runtime.settings
        )
        status = 200
        body = orjson.dumps(
            render(object_type, record, RenderContext(uow, scope), orjson.loads(row.expand))
        ).decode()
    except StripeError as error:  # the object went away meanwhile: that is the answer
        status, payload = error_body(error, request_id)
        body = orjson.dumps(payload).decode()
    if row.idempotency_key is not None:
        idempotency.complete(uow.conn, row.idempotency_scope, row.idempotency_key, status, body)
    log.warning(
        "concluded %s %s left unfinished by a stopped server (%s)", row.kind, row.object_id, status
    )
    return status, body


def recover_due(runtime, limit: int = BATCH) -> int:
    """Conclude every overdue two-phase request; returns how many. Safe beside live servers:
    a row is only due once its own process's deadline and margin have passed."""
    concluded = 0
    rows = transaction(
        runtime.engine, lambda uow: continuations.due(uow.conn, _now_ms(), limit), write=False
    )
    for row in rows:

        def work(uow: UnitOfWork, row=row) -> bool:
            if not continuations.claim(uow.conn, row.object_id):
                return False
            _conclude(runtime, uow, row)
            return True

        concluded += transaction(runtime.engine, work)
    return concluded
