"""The web dashboard, served at ``/dashboard`` by the same process as the API.

The dashboard is an in-process *client of the API*: every page reads through the real
``/v1`` and ``/_openissuing`` endpoints with the signed-in sandbox's secret key, and every
action POSTs to the same endpoints, so it sees exactly what that key's API calls would see
and runs the same service code. Only the webhook delivery log, which has no endpoint, is
read from ``services.deliveries`` directly.

Nothing here is imported by the API path: ``routes`` returns a mount whose application
(and Jinja2 with it) is built on the first dashboard request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, Mount, Route

from openissuing.dashboard.paths import HOSTED_PREFIX, PREFIX


class _LazyDashboard:
    """An ASGI app that builds the real dashboard (templates, Jinja2) when first called."""

    def __init__(self, runtime: Any, api_app: Callable[[], Any]) -> None:
        self.runtime = runtime
        self.api_app = api_app
        self.app: Any = None

    async def __call__(self, scope, receive, send) -> None:
        if self.app is None:
            from openissuing.dashboard.site import build

            self.app = build(self.runtime, self.api_app())
        await self.app(scope, receive, send)


class _LazyHosted:
    """The hosted Connect pages (account and login links), built when first opened."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.app: Any = None

    async def __call__(self, scope, receive, send) -> None:
        if self.app is None:
            from openissuing.dashboard.hosted import build

            self.app = build(self.runtime)
        await self.app(scope, receive, send)


async def _to_dashboard(request) -> RedirectResponse:
    return RedirectResponse(PREFIX + "/", status_code=307)


def routes(runtime: Any, api_app: Callable[[], Any]) -> list[BaseRoute]:
    """``/dashboard/…``, plus ``GET /`` and ``GET /dashboard`` redirecting to it, and the hosted
    Connect pages that account links and login links open (``/connect/…``)."""
    return [
        Route("/", _to_dashboard, methods=["GET"]),
        Route(PREFIX, _to_dashboard, methods=["GET"]),
        Mount(PREFIX, app=_LazyDashboard(runtime, api_app)),
        Mount(HOSTED_PREFIX, app=_LazyHosted(runtime)),
    ]
