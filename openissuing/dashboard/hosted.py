"""The hosted Connect pages an account link or a login link opens (``/connect/…``).

``/connect/setup/<token>``: the onboarding form of an account link. Opening it spends the link
(single-use, as on Stripe); an unknown, used or expired link sends the visitor to the link's
``refresh_url``. The form lists the account's ``currently_due`` requirements as inputs and
carries a one-time form token (its CSRF token too: it is bound to this opening of this link);
submitting fills them through the same services as the API (``services.connect_links.submit``)
and sends the visitor to ``return_url``; a refused value shows the form again with the error.

``/connect/express/<token>``: what a login link opens, a read-only page of the account.

Like the dashboard, these pages are a client of the services and never imported by the API
path: ``openissuing.dashboard.routes`` mounts them lazily.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from openissuing.dashboard import session as sessions
from openissuing.dashboard.paths import HOSTED_PREFIX
from openissuing.dashboard.web import STATIC, make_env
from openissuing.domain.errors import StripeError
from openissuing.services import connect_links
from openissuing.storage.uow import transaction

PREFIX = HOSTED_PREFIX
FORM_FIELD = "form_token"


def _headers(form_target: str | None = None) -> dict[str, str]:
    """The dashboard's headers; the form may also lead to the platform's return_url (browsers
    apply ``form-action`` to the redirect that follows a submission)."""
    actions = "'self'" + (f" {form_target}" if form_target else "")
    return {
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": (
            f"default-src 'self'; frame-ancestors 'none'; form-action {actions}"
        ),
    }


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "0.0.0.0"


class Hosted:
    def __init__(self, runtime: Any, env: Environment) -> None:
        self.runtime = runtime
        self.env = env

    def _page(self, template: str, status: int = 200, form_target: str | None = None, **data):
        html = self.env.get_template(template).render(connect_prefix=PREFIX, **data)
        return HTMLResponse(html, status_code=status, headers=_headers(form_target))

    def _refused(self, refused: connect_links.Refused) -> Response:
        if refused.link is not None and refused.reason in ("used", "expired"):
            target = refused.link.get("refresh_url")
            if target:  # an account link: the platform makes a new one there
                return RedirectResponse(target, status_code=303, headers=_headers())
            return self._page("connect_message.html", 410, title="This link has expired")
        if refused.reason == "forbidden":
            return self._page("connect_message.html", 403, title="This form is not valid")
        return self._page("connect_message.html", 404, title="This link is not valid")

    def _form(
        self,
        opened: connect_links.Opened,
        form_token: str,
        error: str | None = None,
        values: dict[str, str] | None = None,
    ):
        def names(uow):
            return connect_links.person_names(uow, opened)

        people = transaction(self.runtime.engine, names, write=False)
        fields = connect_links.due_fields(opened.account)
        sections: dict[str, list] = {}
        for field in fields:
            sections.setdefault(field.section, []).append(field)
        return self._page(
            "connect_setup.html",
            400 if error else 200,
            form_target=_origin(opened.link["return_url"]),
            account=opened.account,
            sections=sections,
            people=people,
            form_token=form_token,
            form_field=FORM_FIELD,
            error=error,
            # What was entered comes back with an error (secrets never do).
            values={k: v for k, v in (values or {}).items() if k != FORM_FIELD},
        )

    async def setup(self, request: Request) -> Response:
        token = request.path_params["token"]
        if request.method == "POST":
            return await self._submit(request, token)

        def work(uow):
            return connect_links.open_link(
                uow, connect_links.ACCOUNT_LINK, token, self.runtime.box, self.runtime.clock
            )

        found, form_token = await run_in_threadpool(transaction, self.runtime.engine, work)
        if isinstance(found, connect_links.Refused) or form_token is None:
            return self._refused(found)  # type: ignore[arg-type]
        return await run_in_threadpool(self._form, found, form_token)

    async def _submit(self, request: Request, token: str) -> Response:
        form = await sessions.read_form(request)
        form_token = form.get(FORM_FIELD) or ""

        def check(uow):
            return connect_links.form_of(
                uow, token, form_token, self.runtime.box, self.runtime.clock
            )

        found = await run_in_threadpool(transaction, self.runtime.engine, check, write=False)
        if isinstance(found, connect_links.Refused):
            return self._refused(found)
        ip = _client_ip(request)
        try:
            await run_in_threadpool(
                transaction,
                self.runtime.engine,
                lambda uow: connect_links.submit(uow, found, form, ip),
            )
        except StripeError as refused:
            where = f" ({refused.param})" if refused.param else ""
            return await run_in_threadpool(
                self._form, found, form_token, f"{refused.message}{where}", form
            )
        return RedirectResponse(found.link["return_url"], status_code=303, headers=_headers())

    async def express(self, request: Request) -> Response:
        token = request.path_params["token"]

        def work(uow):
            found, _ = connect_links.open_link(
                uow, connect_links.LOGIN_LINK, token, self.runtime.box, self.runtime.clock
            )
            if isinstance(found, connect_links.Refused):
                return found, []
            return found, connect_links.external_accounts_of(uow, found)

        found, external = await run_in_threadpool(transaction, self.runtime.engine, work)
        if isinstance(found, connect_links.Refused):
            return self._refused(found)
        return self._page("connect_express.html", account=found.account, external=external)


def build(runtime: Any) -> Starlette:
    hosted = Hosted(runtime, make_env())
    return Starlette(
        routes=[
            Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
            Route("/setup/{token}", hosted.setup, methods=["GET", "POST"]),
            Route("/express/{token}", hosted.express, methods=["GET"]),
        ]
    )
