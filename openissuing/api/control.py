"""The control API: openissuing's own endpoints, under ``/_openissuing`` (never ``/v1``).

Sandboxes and their clocks, steered from a test suite or the CLI::

    GET    /_openissuing/sandboxes                      every sandbox (default key) or your own
    POST   /_openissuing/sandboxes           name=…     a new sandbox, with its secret key
    GET    /_openissuing/sandboxes/{id|current}
    POST   /_openissuing/sandboxes/{id|current}/reset   wipe every object, keep the key
    DELETE /_openissuing/sandboxes/{id|current}
    GET    /_openissuing/sandboxes/{id|current}/faults
    POST   /_openissuing/sandboxes/{id|current}/faults  kind=rate_limit|api_error|hang, method,
                                            path=/v1/issuing/*, count, seconds, expires_in
    DELETE /_openissuing/sandboxes/{id|current}/faults[/{fault}]
    GET    /_openissuing/sandboxes/{id|current}/clock
    POST   /_openissuing/sandboxes/{id|current}/clock   advance=8d | set=<unix> | freeze=true|false

Authenticated like the API (Bearer or Basic secret key). The default sandbox's
key sees and steers every sandbox; any other key only its own. Bodies are
form-encoded (as the API's) or JSON; answers and errors are Stripe-shaped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from openissuing import ids
from openissuing.api import auth, edge, forms
from openissuing.api.errors import error_body, internal_error_body
from openissuing.domain.errors import (
    InvalidRequest,
    ParameterInvalid,
    ResourceMissing,
    StripeError,
)
from openissuing.domain.faults import Fault
from openissuing.domain.sandboxes import Sandbox, parse_span
from openissuing.services import faults, sandboxes
from openissuing.storage.uow import UnitOfWork, transaction

PREFIX = "/_openissuing"
log = logging.getLogger("openissuing.api")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def sandbox_json(sandbox: Sandbox, now: int) -> dict[str, Any]:
    return {
        "id": sandbox.id,
        "object": "sandbox",
        "clock": {
            "object": "sandbox_clock",
            "frozen": sandbox.clock.frozen_at is not None,
            "now": now,
            "offset_seconds": sandbox.clock.offset_seconds,
        },
        "created": sandbox.created,
        "default": sandbox.is_default,
        "name": sandbox.name,
        "platform_account": sandbox.platform_account_id,
        "secret_key": sandbox.api_key,
    }


def fault_json(fault: Fault) -> dict[str, Any]:
    return {
        "id": fault.id,
        "object": "fault",
        "count_remaining": fault.remaining,
        "created": fault.created,
        "event_type": fault.event_type,
        "expires_at": fault.expires_at,
        "kind": fault.kind,
        "method": fault.method,
        "outcome": fault.outcome,
        "path": fault.path,
        "seconds": fault.seconds,
    }


async def _params(request: Request) -> dict[str, Any]:
    pairs = forms.parse_pairs(request.url.query)
    raw = await request.body()
    if raw and "json" in request.headers.get("content-type", ""):
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise InvalidRequest("Invalid JSON body.") from error
        if not isinstance(body, dict):
            raise InvalidRequest("The JSON body must be an object.")
        # JSON booleans arrive as Python bools; the form spelling is what _flag reads.
        values = {k: str(v).lower() if isinstance(v, bool) else v for k, v in body.items()}
        return {**forms.decode(pairs), **values}
    return forms.decode(pairs + forms.parse_pairs(raw))


def _flag(value: Any, param: str) -> bool:
    text = str(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidRequest(
        f"Invalid boolean: {value!r}.", code="parameter_invalid_boolean", param=param
    )


def _integer(value: Any, param: str) -> int:
    try:
        return int(str(value))
    except ValueError as error:
        raise InvalidRequest(
            f"Invalid integer: {value!r}.", code="parameter_invalid_integer", param=param
        ) from error


def _only(params: dict[str, Any], allowed: set[str]) -> None:
    for name in params:
        if name not in allowed:
            raise InvalidRequest(
                f"Received unknown parameter: {name}", code="parameter_unknown", param=name
            )


def _screen(params: dict[str, Any], path: dict[str, str]) -> None:
    """No NUL may reach a query (PostgreSQL's text cannot hold one; see ``api.edge``): a path
    id with one names nothing (404, as on /v1), a JSON value with one is refused as the form
    decoder refuses it in a form body (400 naming the parameter)."""
    for name, value in path.items():
        if edge.NUL in value:
            raise ResourceMissing(name, value, param=name)
    for name, value in params.items():
        if _has_nul(name) or _has_nul(value):
            shown = name.replace(edge.NUL, "\\u0000")
            raise ParameterInvalid(
                f"Invalid {shown}: parameters must not contain the NUL character (\\u0000).",
                param=shown,
            )


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return edge.NUL in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _json_response(status: int, body: Any, request_id: str) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={"Request-Id": request_id},
    )


Work = Callable[[UnitOfWork, Sandbox, dict[str, Any], dict[str, str]], Any]


def endpoint(runtime: Any, work: Work, *, write: bool = True) -> Callable[[Request], Any]:
    async def handler(request: Request) -> Response:
        request_id = ids.new_id("req")
        try:
            caller = await auth.sandbox_for(request.headers.get("authorization"), runtime.sandboxes)
            params = await _params(request)
            path = dict(request.path_params)
            _screen(params, path)
            result = await run_in_threadpool(
                transaction,
                runtime.engine,
                lambda uow: work(uow, caller, params, path),
                write=write,
            )
            return _json_response(200, result, request_id)
        except StripeError as error:
            status, payload = error_body(error, request_id)
            return _json_response(status, payload, request_id)
        except Exception:  # noqa: BLE001 - the control API's one place for unexpected errors
            log.exception("control API error (request %s)", request_id)
            return _json_response(500, internal_error_body(request_id), request_id)

    return handler


def routes(runtime: Any) -> list[Route]:
    directory = runtime.sandboxes

    def real_now() -> int:
        return runtime.clock.now()

    def shown(sandbox: Sandbox) -> dict[str, Any]:
        return sandbox_json(sandbox, directory.clock(sandbox).now())

    def after_commit(uow: UnitOfWork, action: Callable[[], None]) -> None:
        uow.after_commit.append(action)

    def list_(uow, caller, params, path):
        _only(params, set())
        found = sandboxes.list_visible(uow, caller)
        return {
            "object": "list",
            "data": [shown(s) for s in found],
            "has_more": False,
            "url": f"{PREFIX}/sandboxes",
        }

    def create(uow, caller, params, path):
        _only(params, {"name"})
        sandboxes.require_admin(caller)
        return shown(sandboxes.create(uow, params.get("name") or None, real_now()))

    def retrieve(uow, caller, params, path):
        _only(params, set())
        return shown(sandboxes.load(uow, caller, path["sandbox"]))

    def reset(uow, caller, params, path):
        _only(params, set())
        done = sandboxes.reset(uow, sandboxes.load(uow, caller, path["sandbox"]), real_now())
        after_commit(uow, lambda: directory.remember(done))
        return shown(done)

    def delete(uow, caller, params, path):
        _only(params, set())
        found = sandboxes.load(uow, caller, path["sandbox"])
        sandboxes.delete(uow, found)
        after_commit(uow, lambda: directory.forget(found))
        return {"id": found.id, "object": "sandbox", "deleted": True}

    def clock(uow, caller, params, path):
        _only(params, set())
        return shown(sandboxes.load(uow, caller, path["sandbox"]))["clock"]

    def move(uow, caller, params, path):
        _only(params, {"advance", "set", "freeze"})
        found = sandboxes.load(uow, caller, path["sandbox"])
        changes = _clock_changes(params)
        for change in changes:
            found = sandboxes.move_clock(uow, found, change, real_now(), runtime.box, runtime.clock)
        moved = found
        after_commit(uow, lambda: directory.remember(moved))
        return shown(moved)["clock"]

    def refreshed(uow: UnitOfWork, sandbox: Sandbox) -> None:
        again = sandboxes.reread(uow, sandbox)
        after_commit(uow, lambda: directory.remember(again))

    def list_faults(uow, caller, params, path):
        _only(params, set())
        found = sandboxes.load(uow, caller, path["sandbox"])
        listed = faults.of(uow, found, real_now())
        return {
            "object": "list",
            "data": [fault_json(f) for f in listed],
            "has_more": False,
            "url": f"{PREFIX}/sandboxes/{found.id}/faults",
        }

    def add_fault(uow, caller, params, path):
        _only(
            params,
            {"kind", "method", "path", "count", "seconds", "expires_in", "event_type", "outcome"},
        )
        found = sandboxes.load(uow, caller, path["sandbox"])
        method = params.get("method") or None
        made = faults.add(
            uow,
            found,
            kind=str(params.get("kind") or ""),
            method=method.upper() if isinstance(method, str) else None,
            path=params.get("path") or None,
            count=_integer(params["count"], "count") if params.get("count") else None,
            seconds=_integer(params["seconds"], "seconds") if params.get("seconds") else 0,
            expires_in_seconds=parse_span(str(params["expires_in"]), param="expires_in")
            if params.get("expires_in")
            else None,
            now=real_now(),
            event_type=params.get("event_type") or None,
            outcome=params.get("outcome") or None,
        )
        refreshed(uow, found)
        return fault_json(made)

    def remove_fault(uow, caller, params, path):
        _only(params, set())
        found = sandboxes.load(uow, caller, path["sandbox"])
        faults.remove(uow, found, path["fault"])
        refreshed(uow, found)
        return {"id": path["fault"], "object": "fault", "deleted": True}

    def clear_faults(uow, caller, params, path):
        _only(params, set())
        found = sandboxes.load(uow, caller, path["sandbox"])
        faults.clear(uow, found)
        refreshed(uow, found)
        return {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"{PREFIX}/sandboxes/{found.id}/faults",
        }

    base = f"{PREFIX}/sandboxes"
    return [
        Route(
            base + "/{sandbox}/faults", endpoint(runtime, list_faults, write=False), methods=["GET"]
        ),
        Route(base + "/{sandbox}/faults", endpoint(runtime, add_fault), methods=["POST"]),
        Route(base + "/{sandbox}/faults", endpoint(runtime, clear_faults), methods=["DELETE"]),
        Route(
            base + "/{sandbox}/faults/{fault}", endpoint(runtime, remove_fault), methods=["DELETE"]
        ),
        Route(base, endpoint(runtime, list_, write=False), methods=["GET"]),
        Route(base, endpoint(runtime, create), methods=["POST"]),
        Route(base + "/{sandbox}", endpoint(runtime, retrieve, write=False), methods=["GET"]),
        Route(base + "/{sandbox}", endpoint(runtime, delete), methods=["DELETE"]),
        Route(base + "/{sandbox}/reset", endpoint(runtime, reset), methods=["POST"]),
        Route(base + "/{sandbox}/clock", endpoint(runtime, clock, write=False), methods=["GET"]),
        Route(base + "/{sandbox}/clock", endpoint(runtime, move), methods=["POST"]),
    ]


def _clock_changes(params: dict[str, Any]) -> list[Callable[[Any, int], Any]]:
    """The requested moves, in a fixed order: freeze/unfreeze, then set, then advance."""
    changes: list[Callable[[Any, int], Any]] = []
    if "freeze" in params:
        freeze = _flag(params["freeze"], "freeze")
        changes.append(lambda state, now: state.frozen(now) if freeze else state.unfrozen(now))
    if "set" in params:
        when = _integer(params["set"], "set")
        changes.append(lambda state, now: state.set_to(when, now))
    if "advance" in params:
        seconds = parse_span(str(params["advance"]))
        changes.append(lambda state, now: state.advanced(seconds, now))
    if not changes:
        raise InvalidRequest(
            "Give one of advance, set or freeze.", code="parameter_missing", param="advance"
        )
    return changes
