"""The API's own router (openissuing/api/fastpath.py) takes a request only where Starlette's
would have chosen the same endpoint with the same path parameters, for every API template."""

from __future__ import annotations

import re
import types

import pytest
from starlette.routing import Match

from openissuing.api import routes  # noqa: F401 - registers every endpoint
from openissuing.api.fastpath import FastRoutes
from openissuing.api.routing import ENDPOINTS
from openissuing.app import create_app


@pytest.fixture(scope="module")
def app():
    runtime = types.SimpleNamespace(
        platform_id="acct_x",
        sandboxes=None,
        settings=types.SimpleNamespace(access_log=False, webhook_dispatcher=False),
    )
    return create_app(runtime)


def _fast(app) -> FastRoutes:
    stack = app.build_middleware_stack()
    while not isinstance(stack, FastRoutes):
        stack = stack.app
    return stack


def _starlette_choice(app, method: str, path: str):
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    for route in app.router.routes:
        match, child = route.matches(scope)
        if match == Match.FULL:
            return route.endpoint, child.get("path_params", {})
        if match == Match.PARTIAL:  # the path matched, the method did not
            return None
    return None


def _paths() -> list[str]:
    paths = set()
    for endpoint in ENDPOINTS:
        for value in ("ic_123", "x" * 300, "a.b", "%00", "ü"):
            filled = re.sub(r"{\w+}", value, endpoint.path)
            paths |= {filled, filled + "/", filled + "/extra", filled.rsplit("/", 1)[0]}
        paths.add(re.sub(r"{\w+}", "", endpoint.path))  # empty segments
    return sorted(paths)


def test_every_path_the_fast_router_takes_starlette_routes_the_same_way(app):
    fast = _fast(app)
    taken = 0
    for path in _paths():
        for method in ("GET", "POST", "DELETE", "HEAD", "PUT"):
            found = fast.match(path)
            if found is None or method not in found[1]:
                continue  # left to Starlette
            taken += 1
            dispatch, _, params = found
            assert _starlette_choice(app, method, path) == (dispatch, params), (method, path)
    assert taken > len(ENDPOINTS)
    for endpoint in ENDPOINTS:  # and it does take every endpoint
        found = fast.match(re.sub(r"{\w+}", "id_1", endpoint.path))
        assert found is not None and found[1][endpoint.method] is endpoint, endpoint.key


def test_what_it_leaves_alone_goes_on_to_starlette(app):
    fast = _fast(app)
    assert fast.match("/v1/issuing/cards/") is None
    assert fast.match("/v1/issuing/cards/ic_1/extra") is None
    assert fast.match("/v1/nope") is None
    assert fast.match("/v1/issuing/cards/ic_1") is not None
    assert "HEAD" not in fast.match("/v1/issuing/cards/ic_1")[1]
