"""create_app(settings): the one place where the pieces are wired together."""

from __future__ import annotations

import contextlib

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from openissuing import dashboard, ids
from openissuing.api import (
    control,
    routes,  # noqa: F401 - importing registers every endpoint
)
from openissuing.api.access import AccessLog
from openissuing.api.fastpath import FastRoutes
from openissuing.api.health import routes as health_routes
from openissuing.api.pipeline import Runtime, handle
from openissuing.api.routing import ENDPOINTS
from openissuing.bootstrap import ensure_platform
from openissuing.clock import Clock
from openissuing.keyring import open_box
from openissuing.maintenance import Housekeeper
from openissuing.services import sandboxes
from openissuing.services.sandboxes import Directory
from openissuing.settings import Settings
from openissuing.storage.checkpoints import Checkpointer
from openissuing.storage.db import make_engine
from openissuing.storage.migrate import upgrade
from openissuing.storage.uow import transaction
from openissuing.webhooks.dispatcher import Dispatcher
from openissuing.webhooks.realtime import RealtimeClient


def build_runtime(
    settings: Settings, clock: Clock | None = None, *, migrate: bool = True
) -> Runtime:
    engine = make_engine(
        settings.sqlalchemy_url(),
        settings.isolation,
        sqlite_synchronous=settings.sqlite_synchronous,
    )
    if migrate:
        upgrade(engine)
    clock = clock or Clock()
    platform = ensure_platform(engine, clock, settings.api_key)
    box = open_box(engine, settings)  # refuses keys that cannot open this database's secrets
    runtime = Runtime(
        engine,
        settings,
        clock,
        box,
        platform.account_id,
        platform.api_key,
        realtime=RealtimeClient(settings),
    )
    runtime.sandboxes = Directory(engine, clock)
    # SQLite in one process: each request's transaction on the event loop's thread (api.pipeline).
    runtime.inline_database = engine.dialect.name == "sqlite" and settings.workers == 1
    transaction(
        engine,
        lambda uow: sandboxes.ensure_default(
            uow, platform.account_id, platform.api_key, clock.now()
        ),
    )
    runtime.key_was_generated = platform.key_was_generated  # type: ignore[attr-defined]
    return runtime


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    request_id = ids.new_id("req")
    message = (
        f"Unrecognized request URL ({request.method}: {request.url.path}). Please see "
        "https://stripe.com/docs or we can help at https://support.stripe.com/."
    )
    return JSONResponse(
        {"error": {"type": "invalid_request_error", "message": message, "request_id": request_id}},
        status_code=404,
        headers={"Request-Id": request_id},
    )


def _lifespan(runtime: Runtime):
    """The webhook dispatcher (unless settings say no) and the housekeeper run beside the API."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        dispatcher = (
            Dispatcher.from_runtime(runtime) if runtime.settings.webhook_dispatcher else None
        )
        runtime.dispatcher = dispatcher  # type: ignore[attr-defined] - tests pause or inspect it
        if dispatcher is not None:
            dispatcher.start()
        housekeeper = Housekeeper(runtime)
        housekeeper.start()
        checkpointer = Checkpointer(runtime.engine)
        runtime.checkpointer = checkpointer  # type: ignore[attr-defined] - tests read it
        checkpointer.start()
        try:
            yield
        finally:
            await run_in_threadpool(checkpointer.stop)
            await run_in_threadpool(housekeeper.stop)
            if dispatcher is not None:
                await run_in_threadpool(dispatcher.close)

    return lifespan


def create_app(runtime: Runtime) -> Starlette:
    by_path: dict[str, dict[str, object]] = {}
    for endpoint in ENDPOINTS:
        by_path.setdefault(endpoint.path, {})[endpoint.method] = endpoint

    routes_list = []
    api_routes = []
    for path, methods in by_path.items():

        async def dispatch(request: Request, methods=methods):
            endpoint = methods.get(request.method)
            if endpoint is None:
                return await _not_found(request, None)
            return await handle(runtime, endpoint, request)

        routes_list.append(Route(path, dispatch, methods=list(methods)))
        api_routes.append((path, dispatch, methods))
    routes_list.extend(control.routes(runtime))
    routes_list += health_routes(runtime)  # /healthz, /metrics: outside /v1, unauthenticated
    # After the API's routes: the dashboard is a client of the API, built on first use.
    routes_list.extend(dashboard.routes(runtime, lambda: app))
    app = Starlette(
        routes=routes_list,
        exception_handlers={404: _not_found, 405: _not_found},
        lifespan=_lifespan(runtime),
    )
    app.state.runtime = runtime
    # An unknown URL is Stripe's "Unrecognized request URL" (404 JSON), never a trailing-slash
    # redirect: an id of "/" (``/v1/issuing/cards/%2F``, ``/_openissuing/sandboxes/%2F``) used
    # to get Starlette's 307. The dashboard redirects its own entry URLs explicitly.
    app.router.redirect_slashes = False
    # Inside the access log (added last, so outermost of the two): the API's own router.
    app.add_middleware(FastRoutes, runtime=runtime, handle=handle, routes=api_routes)
    app.add_middleware(
        AccessLog, platform_id=runtime.platform_id, enabled=runtime.settings.access_log
    )
    return app
