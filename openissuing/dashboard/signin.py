"""Sign-in with a sandbox's secret key, and sign-out."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Route

from openissuing.dashboard import session as sessions
from openissuing.dashboard.api_client import Api, ApiFailure
from openissuing.dashboard.paths import PREFIX
from openissuing.dashboard.web import NO_STORE

WRONG_KEY = (
    "That key was refused: it is not the secret key (sk_test_…) of any sandbox on this server."
)


def routes(runtime: Any, api_app: Any, env: Environment) -> list[Route]:
    def form(request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
        token = request.cookies.get(sessions.PRE_COOKIE) or sessions.new_token()
        html = env.get_template("signin.html").render(
            csrf=token, error=error, signed_in=False, prefix=PREFIX
        )
        answer = HTMLResponse(html, status_code=status, headers=NO_STORE)
        answer.set_cookie(
            sessions.PRE_COOKIE, token, max_age=3600, **_options(request, path=PREFIX)
        )
        return answer

    async def show(request: Request):
        return form(request)

    async def sign_in(request: Request):
        posted = await sessions.read_form(request)
        if not sessions.tokens_match(
            request.cookies.get(sessions.PRE_COOKIE), posted.get(sessions.CSRF_FIELD)
        ):
            return PlainTextResponse("Forbidden: missing or invalid CSRF token.", 403)
        key = str(posted.get("api_key") or "").strip()
        if not key:
            return form(request, "Enter a sandbox's secret key.", 400)
        async with Api(api_app, key) as api:
            try:
                sandbox = await api.get("/_openissuing/sandboxes/current")
            except ApiFailure as failure:
                if failure.status in (401, 403):
                    return form(request, WRONG_KEY, 401)
                return form(request, failure.message, 400)
        made = sessions.Session(
            key, sessions.new_token(), sandbox["id"], sandbox["platform_account"]
        )
        answer = RedirectResponse(f"{PREFIX}/", status_code=303)
        answer.set_cookie(
            sessions.COOKIE,
            sessions.seal(runtime.box, made),
            max_age=sessions.MAX_AGE_SECONDS,
            **_options(request, path=PREFIX),
        )
        answer.delete_cookie(sessions.PRE_COOKIE, path=PREFIX)
        return answer

    async def sign_out(request: Request):
        current = sessions.open_cookie(runtime.box, request.cookies.get(sessions.COOKIE))
        posted = await sessions.read_form(request)
        if current is None or not sessions.tokens_match(
            current.csrf, posted.get(sessions.CSRF_FIELD)
        ):
            return PlainTextResponse("Forbidden: missing or invalid CSRF token.", 403)
        answer = RedirectResponse(f"{PREFIX}/signin", status_code=303)
        answer.delete_cookie(sessions.COOKIE, path=PREFIX)
        return answer

    return [
        Route("/signin", show, methods=["GET"]),
        Route("/signin", sign_in, methods=["POST"]),
        Route("/signout", sign_out, methods=["POST"]),
    ]


def _options(request: Request, path: str) -> dict[str, Any]:
    return {
        "httponly": True,
        "samesite": "strict",
        "secure": request.url.scheme == "https",
        "path": path,
    }
