"""The dashboard's application: its routes, static files and templates, put together.

Built on the first dashboard request (``openissuing.dashboard._LazyDashboard``), never
by the API path.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from openissuing.dashboard import actions, pages, signin
from openissuing.dashboard.web import STATIC, Guard, make_env


def build(runtime: Any, api_app: Any) -> Starlette:

    env = make_env()
    guard = Guard(runtime, api_app, env)
    routes = [
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        *signin.routes(runtime, api_app, env),
        *pages.routes(guard, runtime),
        *actions.routes(guard, runtime),
    ]
    return Starlette(routes=routes)
