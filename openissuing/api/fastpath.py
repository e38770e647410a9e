"""The API's own router, in front of Starlette's: one dict lookup instead of a regex per route.

Starlette tries its routes in order, a regular expression each, and wraps the chosen endpoint in
three more layers (its exception middleware, ``request_response``, the exception-handler
wrapper) that the API does not use: ``pipeline.handle`` answers every error itself. For a
``/v1/…`` request whose path matches exactly one API template and whose method that template
serves, this calls ``handle`` directly; anything else (no template, two, another method, HEAD)
goes on to Starlette unchanged, so what Starlette answered it still answers.

Matching is Starlette's: a ``{name}`` segment is one non-empty path segment of the decoded
path; the scope gets the same ``path_params`` and ``endpoint`` (the access log labels the
route by it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request

Dispatch = Callable[..., Any]


class FastRoutes:
    def __init__(self, app: Any, *, runtime: Any, handle: Any, routes: list[tuple]) -> None:
        """``routes``: (path template, Starlette endpoint function, {method: Endpoint})."""
        self.app = app
        self.runtime = runtime
        self.handle = handle
        self.static: dict[str, tuple[Dispatch, dict]] = {}
        self.templates: dict[int, list[tuple[tuple[str | None, ...], tuple, Dispatch, dict]]] = {}
        for path, dispatch, methods in routes:
            segments = path.split("/")
            if not any(s.startswith("{") for s in segments):
                self.static[path] = (dispatch, methods)
                continue
            pattern = tuple(None if s.startswith("{") else s for s in segments)
            names = tuple(s[1:-1] for s in segments if s.startswith("{"))
            self.templates.setdefault(len(segments), []).append((pattern, names, dispatch, methods))

    def match(self, path: str) -> tuple[Dispatch, dict, dict[str, str]] | None:
        """The one API template ``path`` matches (its endpoint, methods, path params), or None
        when none or more than one does."""
        found = self.static.get(path)
        segments = path.split("/")
        candidates = [] if found is None else [(found[0], found[1], {})]
        for pattern, names, dispatch, methods in self.templates.get(len(segments), ()):
            values = []
            for want, got in zip(pattern, segments, strict=True):
                if want is None:
                    if not got:
                        break
                    values.append(got)
                elif want != got:
                    break
            else:
                candidates.append((dispatch, methods, dict(zip(names, values, strict=True))))
        return candidates[0] if len(candidates) == 1 else None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            found = self.match(scope["path"])
            if found is not None:
                dispatch, methods, params = found
                endpoint = methods.get(scope["method"])
                if endpoint is not None:
                    scope["endpoint"] = dispatch
                    scope["path_params"] = params
                    response = await self.handle(self.runtime, endpoint, Request(scope, receive))
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
