"""One access-log line and one latency observation per request, as a plain ASGI middleware.

It sits on the API's hot path (an authorization is ~2 ms of server time), so it does little:
a clock read, a wrapped ``send`` that notes the status and ``Request-Id``, one histogram
observation through a child cached per (method, route, status), and, only when the access log
is on, one lazily formatted log record. Routes are labelled by template (``/v1/issuing/cards/
{card}``), never by raw path, so the metric's cardinality is the API's size. The event loop
runs this code on one thread, so the caches are plain dicts.
"""

from __future__ import annotations

import time
from typing import Any

from openissuing import observability

UNMATCHED = "unmatched"


class AccessLog:
    def __init__(self, app: Any, *, platform_id: str, enabled: bool) -> None:
        self.app = app
        self.platform_id = platform_id
        self.enabled = enabled
        self._routes: dict[Any, str] | None = None
        self._children: dict[tuple[str, str, int], Any] = {}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        seen: list[Any] = [500, None]  # status, request id

        async def noting(message: dict) -> None:
            if message["type"] == "http.response.start":
                seen[0] = message["status"]
                for name, value in message.get("headers") or ():
                    if name == b"request-id":
                        seen[1] = value
                        break
            await send(message)

        try:
            await self.app(scope, receive, noting)
        finally:
            seconds = time.perf_counter() - started
            method = scope["method"]
            route = self._route(scope)
            key = (method, route, seen[0])
            child = self._children.get(key)
            if child is None:
                child = self._children[key] = observability.REQUEST_SECONDS.labels(
                    method, route, str(seen[0])
                )
            child.observe(seconds)
            if self.enabled:
                self._log(scope, method, seen, seconds)

    def _route(self, scope: dict) -> str:
        endpoint = scope.get("endpoint")
        if endpoint is None:
            return UNMATCHED
        if self._routes is None:
            app = scope.get("app")
            routes = getattr(getattr(app, "router", None), "routes", ())
            self._routes = {getattr(r, "endpoint", None): getattr(r, "path", "") for r in routes}
        return self._routes.get(endpoint, UNMATCHED)

    def _log(self, scope: dict, method: str, seen: list[Any], seconds: float) -> None:
        account = self.platform_id
        for name, value in scope.get("headers") or ():
            if name == b"stripe-account":
                account = value.decode("latin-1")
                break
        request_id = seen[1].decode("latin-1") if seen[1] else "-"
        observability.access_log.info(
            "%s %s %s %.1fms %s %s",
            method,
            scope["path"],
            seen[0],
            seconds * 1000,
            request_id,
            account,
        )
