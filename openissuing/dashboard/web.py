"""The dashboard's Starlette application: sign-in, pages (GET, read-only) and actions (POST).

Pages read through the API (``api_client.Api``) with the session's key; actions POST to the
same endpoints. Every POST is checked against the session's CSRF token first (403 without
it); an action answers with a redirect to the page that shows its result, or back to where
it came from with the API's error, the message riding in a one-shot cookie (never the URL).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse

from openissuing.dashboard import fmt
from openissuing.dashboard import session as sessions
from openissuing.dashboard.api_client import Api, ApiFailure
from openissuing.dashboard.paths import PREFIX

STATIC = Path(__file__).parent / "static"
# Pages carry live balances and (after a reveal) card numbers: never cached, never framed,
# and only the dashboard's own script and stylesheet may run.
NO_STORE = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
}
MESSAGE_COOKIE = "oi_dashboard_message"


@dataclass
class Ctx:
    """One dashboard request: who is signed in, their API handle, and how to answer."""

    request: Request
    session: sessions.Session
    api: Api
    env: Environment

    def render(self, template: str, status: int = 200, **data: Any) -> HTMLResponse:
        message = read_message(self.request)
        html = self.env.get_template(template).render(
            csrf=self.session.csrf,
            signed_in=True,
            sandbox=self.session.sandbox,
            platform_id=self.session.platform,
            flash=message.get("flash"),
            error=message.get("error"),
            here=self.request.url.path
            + (f"?{self.request.url.query}" if self.request.url.query else ""),
            prefix=PREFIX,
            **data,
        )
        answer = HTMLResponse(html, status_code=status, headers=NO_STORE)
        if message:
            answer.delete_cookie(MESSAGE_COOKIE, path=PREFIX)
        return answer

    def path(self, name: str) -> str:
        return self.request.path_params[name]


def safe_back(target: Any, fallback: str) -> str:
    """Only redirect within the dashboard (no open redirect)."""
    if isinstance(target, str) and target.startswith(PREFIX + "/") and "//" not in target:
        return target
    return fallback


def redirect(target: str, **message: str) -> RedirectResponse:
    """See-other to ``target``; the action's message rides along in a one-shot cookie.

    (Not in the URL: a link can then never make the dashboard say something it did not.)
    """
    answer = RedirectResponse(target, status_code=303)
    if message:
        packed = base64.urlsafe_b64encode(json.dumps(message).encode()).decode()
        answer.set_cookie(
            MESSAGE_COOKIE, packed, max_age=60, httponly=True, samesite="strict", path=PREFIX
        )
    return answer


def read_message(request: Request) -> dict[str, str]:
    packed = request.cookies.get(MESSAGE_COOKIE)
    if not packed:
        return {}
    try:
        message = json.loads(base64.urlsafe_b64decode(packed.encode()))
    except ValueError:
        return {}
    if not isinstance(message, dict):
        return {}
    return {k: str(v) for k, v in message.items() if k in ("flash", "error")}


def make_env() -> Environment:
    env = Environment(
        loader=PackageLoader("openissuing.dashboard", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=fmt.money,
        masked=fmt.masked,
        grouped=fmt.grouped,
        when=fmt.when,
        label=fmt.label,
        pretty=lambda value: json.dumps(value, indent=2, sort_keys=False),
        markup=Markup,
    )
    env.globals["prefix"] = PREFIX
    return env


Page = Callable[[Ctx], Awaitable[Any]]
Action = Callable[[Ctx, dict[str, str]], Awaitable[Any]]


class Guard:
    """Wraps pages and actions with the session check (and CSRF check for POSTs)."""

    def __init__(self, runtime: Any, api_app: Any, env: Environment) -> None:
        self.runtime = runtime
        self.api_app = api_app
        self.env = env

    def session_of(self, request: Request) -> sessions.Session | None:
        return sessions.open_cookie(self.runtime.box, request.cookies.get(sessions.COOKIE))

    def page(self, handler: Page) -> Callable[[Request], Awaitable[Any]]:
        async def endpoint(request: Request):
            session = self.session_of(request)
            if session is None:
                return RedirectResponse(f"{PREFIX}/signin", status_code=303)
            async with Api(self.api_app, session.key, session.platform) as api:
                ctx = Ctx(request, session, api, self.env)
                try:
                    return await handler(ctx)
                except ApiFailure as failure:
                    status = failure.status if failure.status in (400, 403, 404) else 502
                    return ctx.render("error.html", status=status, failure=failure)

        return endpoint

    def action(self, handler: Action) -> Callable[[Request], Awaitable[Any]]:
        async def endpoint(request: Request):
            session = self.session_of(request)
            form = await sessions.read_form(request)
            if session is None or not sessions.tokens_match(
                session.csrf, form.get(sessions.CSRF_FIELD)
            ):
                return PlainTextResponse("Forbidden: missing or invalid CSRF token.", 403)
            back = safe_back(form.get("back"), f"{PREFIX}/")
            async with Api(self.api_app, session.key, session.platform) as api:
                ctx = Ctx(request, session, api, self.env)
                try:
                    return await handler(ctx, form)
                except ApiFailure as failure:
                    return redirect(back, error=failure.message)
                except ValueError as error:
                    return redirect(back, error=str(error))

        return endpoint
