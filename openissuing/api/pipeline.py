"""One request, from bytes to bytes: auth → decode → validate → idempotency →
one transaction (handler + stored response) → JSON with Stripe's headers.

Errors are handled here and only here, through ``openissuing.api.errors``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from starlette.requests import Request
from starlette.responses import Response

from openissuing import ids
from openissuing.api import auth, edge, ephemeral, forms, ratelimit, resume, versions
from openissuing.api import params as param_specs
from openissuing.api.errors import error_body, internal_error_body
from openissuing.api.routing import Call, Continuation, Endpoint
from openissuing.domain.errors import InvalidRequest, StripeError
from openissuing.services import due, faults
from openissuing.services.scope import Scope
from openissuing.storage import idempotency
from openissuing.storage.uow import (
    UnitOfWork,
    is_integrity_error,
    keep_connections_on_this_thread,
    transaction,
)

log = logging.getLogger("openissuing.api")
T = TypeVar("T")

# The threads every request's database work runs on. A plain executor rather than Starlette's
# ``run_in_threadpool`` (anyio's worker threads, a capacity limiter and a Condition-based queue
# per call): the hand-off was a tenth of an authorization's CPU. As many threads as anyio's
# default limit; they start on demand.
_DATABASE_THREADS = ThreadPoolExecutor(max_workers=40, thread_name_prefix="openissuing-db")


async def in_thread(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` on a database thread, without blocking the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_DATABASE_THREADS, functools.partial(function, *args))


@dataclass
class Runtime:
    """What every request needs, built once by ``create_app``."""

    engine: Any
    settings: Any
    clock: Any
    box: Any
    platform_id: str
    api_key: str
    # Secret key → sandbox (its platform account and clock); set by build_runtime.
    sandboxes: Any = None
    # The real-time authorization client (webhooks.realtime.RealtimeClient), injected by app.py.
    realtime: Any = None
    # Run each request's transaction on the event loop's own thread instead of a database
    # thread (see ``_database_work``): set by build_runtime for SQLite in one process.
    inline_database: bool = False


class HandlerFailed(Exception):
    """A StripeError raised while the endpoint was executing (so its answer is stored)."""

    def __init__(self, error: StripeError) -> None:
        self.error = error


def _json(body: Any) -> str:
    return orjson.dumps(body).decode()


async def _read_params(request: Request) -> dict[str, Any]:
    pairs = forms.parse_pairs(request.url.query)
    if request.method == "POST":
        content_type = request.headers.get("content-type", "")
        raw = await request.body()
        if raw and "json" in content_type:
            raise InvalidRequest(
                "Invalid request: bodies must be form-encoded (application/x-www-form-urlencoded)."
            )
        pairs += forms.parse_pairs(raw)
    return forms.decode(pairs)


def _respond(
    status: int,
    body: str,
    request_id: str,
    version: str,
    replayed: bool = False,
    started: float | None = None,
) -> Response:
    headers = {"Request-Id": request_id, "Stripe-Version": version}
    if started is not None:
        # W3C Server-Timing: the server's own share of the latency (benchmarks read it).
        headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.3f}"
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    if status == 409:
        headers["Stripe-Should-Retry"] = "true"
    return Response(body, status_code=status, media_type="application/json", headers=headers)


@dataclass(frozen=True)
class Idempotency:
    scope: str
    key: str
    digest: str
    now: int
    retention_seconds: int


async def handle(runtime: Runtime, endpoint: Endpoint, request: Request) -> Response:
    started = time.perf_counter()
    request_id = ids.new_id("req")
    version = runtime.settings.api_version
    idem: Idempotency | None = None
    try:
        presented = auth.presented_key(request.headers.get("authorization"))
        grant = None
        if ephemeral.presents_ephemeral_key(presented):  # Issuing Elements, in a browser
            sandbox, grant = await ephemeral.authenticate(runtime, str(presented))
        else:
            sandbox = await auth.sandbox_for(
                request.headers.get("authorization"), runtime.sandboxes
            )
        ratelimit.check(runtime, sandbox, request.scope)
        version = versions.checked(request.headers.get("stripe-version"), version)
        clock = runtime.sandboxes.clock(sandbox)
        fault, standing_faults = (
            await _fault_for(runtime, sandbox, request) if sandbox.has_faults else (None, ())
        )
        if fault is not None and fault.kind != "hang":
            return _fault_response(fault, request_id, version)
        acting = request.headers.get("stripe-account") or sandbox.platform_account_id
        raw = await _read_params(request)
        if grant is not None:
            ephemeral.check(grant, endpoint.key, request.path_params, raw)
            acting = grant.account
        params = param_specs.validate(endpoint.key, raw)
        edge.screen(endpoint.path, request.path_params, request.headers)
        expand = params.pop("expand", None) or []
        key = request.headers.get("idempotency-key") if endpoint.method == "POST" else None
        if key is not None:
            if len(key) > idempotency.MAX_KEY_LENGTH:
                raise InvalidRequest(
                    "Idempotency-Key must be at most 255 characters.", param="Idempotency-Key"
                )
            idem = Idempotency(
                acting,
                key,
                idempotency.request_hash(endpoint.method, endpoint.path, raw),
                clock.now(),
                runtime.settings.idempotency_retention_seconds,
            )
        scope = Scope(
            acting,
            sandbox.platform_account_id,
            clock,
            runtime.box,
            request_id,
            key,
            standing_faults,
        )
        status, body, replayed = await _database_work(
            runtime,
            endpoint,
            scope,
            params,
            dict(request.path_params),
            expand,
            request.url.path,
            idem,
            request.headers.get("stripe-version"),
            str(request.base_url).rstrip("/"),
        )
        if fault is not None:  # a hang: done and committed, the answer comes late
            await asyncio.sleep(fault.seconds)
        return _respond(status, body, request_id, version, replayed=replayed, started=started)
    except HandlerFailed as failed:
        status, payload = error_body(failed.error, request_id)
        body = _json(payload)
        if idem is not None:
            if runtime.inline_database:
                _store_failure(runtime, idem, status, body)
            else:
                await in_thread(_store_failure, runtime, idem, status, body)
        return _respond(status, body, request_id, version)
    except StripeError as error:
        status, payload = error_body(error, request_id)
        return _respond(status, _json(payload), request_id, version)
    except Exception as error:  # noqa: BLE001 - the one place unexpected errors become 500s
        if not is_integrity_error(error) or idem is None:
            what = "integrity" if is_integrity_error(error) else "unexpected"
            log.exception(
                "%s error in %s %s (request %s)", what, endpoint.method, endpoint.path, request_id
            )
            return _respond(500, _json(internal_error_body(request_id)), request_id, version)
        # A concurrent request with the same key committed first; this one changed nothing.
        status, payload = error_body(idempotency.conflict(), request_id)
        return _respond(status, _json(payload), request_id, version)


async def _fault_for(runtime: Runtime, sandbox: Any, request: Request) -> Any:
    method, path, now = request.method, request.url.path, runtime.clock.now()
    return await in_thread(
        transaction, runtime.engine, lambda uow: faults.take(uow, sandbox, method, path, now)
    )


def _fault_response(fault: Any, request_id: str, version: str) -> Response:
    """The answer a fault gives instead of executing; the SDKs retry on Stripe-Should-Retry."""
    if fault.kind == "rate_limit":
        status, payload = error_body(ratelimit.exceeded(), request_id)
    else:
        status, payload = 500, internal_error_body(request_id)
    response = _respond(status, _json(payload), request_id, version)
    response.headers["Stripe-Should-Retry"] = "true"
    return response


async def _database_work(runtime: Runtime, *args: Any) -> tuple[int, str, bool]:
    """The request's transaction(s): ``_execute`` on a database thread, or, with
    ``inline_database`` (SQLite, one process), the transaction on the event loop's thread.

    SQLite takes one writer at a time (``storage.uow``'s lock queues them), its statements take
    microseconds and never wait on a network, so handing each request to another thread and
    back bought no concurrency and cost a fifth of an authorization's CPU (the hand-off, the
    wake-up of the loop, the GIL changing hands twice). Only the second half of a two-phase
    request waits on a network (the platform's answer to ``issuing_authorization.request``):
    that half still runs on a database thread, so the loop keeps serving while it waits.
    """
    if not runtime.inline_database:
        return await in_thread(_execute, runtime, *args)
    keep_connections_on_this_thread()
    first = _execute(runtime, *args, inline=True)
    if not isinstance(first[0], Continuation):
        return first  # (status, body, replayed)
    continuation, call_for, idem = first
    if continuation.outside_async is None:
        return await in_thread(_continue, runtime, continuation, call_for, idem)
    try:
        outside_result = await continuation.outside_async()
    except Exception:
        _release(runtime, idem)
        raise
    return _continue(runtime, continuation, call_for, idem, outside=(outside_result,))


def _execute(
    runtime,
    endpoint,
    scope,
    params,
    path,
    expand,
    url_path,
    idem: Idempotency | None,
    stripe_version: str | None = None,
    base_url: str = "",
    *,
    inline: bool = False,
) -> Any:
    """The first transaction, then (two-phase requests) the second half, unless ``inline``:
    then the second half is returned to the caller to run where it may wait on a network."""

    def call_for(uow: UnitOfWork) -> Call:
        return Call(
            scope,
            uow,
            params,
            path,
            expand,
            url_path,
            runtime=runtime,
            stripe_version=stripe_version,
            base_url=base_url,
        )

    def work(uow: UnitOfWork):
        if idem is not None:
            replay = idempotency.find(
                uow.conn,
                idem.scope,
                idem.key,
                idem.digest,
                idem.now,
                idem.retention_seconds,
                recover=lambda created: resume.stale_answer(
                    runtime, uow, idem.scope, idem.key, created
                ),
                box=scope.box,
            )
            if replay is not None:
                return replay.status, replay.body, True
        _check_acting_account(uow, scope)
        # Time-driven transitions are applied before anything reads this account's state.
        due.apply(uow, scope)
        call = call_for(uow)
        result = _run_handler(lambda: endpoint.handler(call))
        if isinstance(result, Continuation):
            if idem is not None:
                idempotency.placeholder(uow.conn, idem.scope, idem.key, idem.digest, idem.now)
            resume.remember(
                uow, result, scope, idem, expand, runtime.settings.realtime_deadline_seconds
            )
            return result
        return _answer(uow, call, result, idem, placeholder=False)

    result = transaction(runtime.engine, work, write=endpoint.method != "GET")
    if not isinstance(result, Continuation):
        return result
    if inline:
        return result, call_for, idem
    return _continue(runtime, result, call_for, idem)


def _continue(
    runtime,
    continuation: Continuation,
    call_for,
    idem: Idempotency | None,
    outside: tuple[Any] | None = None,
) -> tuple[int, str, bool]:
    """The second half of a two-phase request: network first (no transaction), then finish.
    ``outside``: the network's answer when the caller already awaited it."""
    try:
        outside_result = continuation.outside() if outside is None else outside[0]

        def finish(uow: UnitOfWork):
            call = call_for(uow)
            if not resume.claim(uow, continuation):
                return resume.already_concluded(uow, continuation, call, idem)
            return _answer(
                uow,
                call,
                _run_handler(lambda: continuation.inside(call, outside_result)),
                idem,
                placeholder=True,
            )

        return transaction(runtime.engine, finish)
    except HandlerFailed:
        raise  # its answer is stored by the caller, completing the placeholder
    except Exception:
        _release(runtime, idem)
        raise


def _release(runtime, idem: Idempotency | None) -> None:
    """A two-phase request that failed unexpectedly frees its key (a retry runs it afresh)."""
    if idem is not None:
        transaction(runtime.engine, lambda uow: idempotency.release(uow.conn, idem.scope, idem.key))


def _run_handler(handler):
    try:
        return handler()
    except StripeError as error:
        raise HandlerFailed(error) from error


def _answer(
    uow: UnitOfWork, call: Call, result, idem: Idempotency | None, *, placeholder: bool
) -> tuple[int, str, bool]:
    body = _json(result)
    if idem is not None:
        box = call.scope.box if call.reveals_secrets else None  # a secret is stored sealed
        if placeholder:
            idempotency.complete(uow.conn, idem.scope, idem.key, call.status, body, box)
        else:
            idempotency.record(
                uow.conn, idem.scope, idem.key, idem.digest, idem.now, call.status, body, box
            )
    return call.status, body, False


def _check_acting_account(uow: UnitOfWork, scope: Scope) -> None:
    if scope.is_platform:
        return
    account = uow.docs.get("account", scope.account, scope.platform)
    if account is None or account.get("deleted"):
        raise edge.no_access(scope.account)


def _store_failure(runtime: Runtime, idem: Idempotency, status: int, body: str) -> None:
    """A failure raised while executing is an answer too, and is replayed like one."""

    def work(uow: UnitOfWork) -> None:
        if idempotency.complete(uow.conn, idem.scope, idem.key, status, body):
            return
        if (
            idempotency.find(
                uow.conn, idem.scope, idem.key, idem.digest, idem.now, idem.retention_seconds
            )
            is None
        ):
            idempotency.record(uow.conn, idem.scope, idem.key, idem.digest, idem.now, status, body)

    try:
        transaction(runtime.engine, work)
    except Exception as error:  # noqa: BLE001
        if not isinstance(error, StripeError) and not is_integrity_error(error):
            raise
        # someone else stored an answer for this key meanwhile; theirs stands
