"""Account links and login links: single-use URLs into this server's hosted pages.

``POST /v1/account_links`` returns a URL to the hosted onboarding form
(``/connect/setup/<token>``), ``POST /v1/accounts/{id}/login_links`` one to the hosted account
page (``/connect/express/<token>``, Express-dashboard accounts only). The token is a bearer
secret: only its SHA-256 is stored (the link's document, owned by the connected account, found by
that hash), and the answer that carries it is stored sealed for idempotent replays.

As on Stripe, an account link expires ``ACCOUNT_LINK_SECONDS`` after creation and is
single-use: opening it spends it (the form it shows carries its own one-time form token), and
opening it again, or after it expired, sends the visitor to ``refresh_url``, where the platform
makes a new one. Submitting the form fills the requirements through the same services as
``POST /v1/accounts/{id}`` and ``/persons``, then sends the visitor to ``return_url``.
Time is the sandbox's clock, so a test can move it past the expiry.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from openissuing import ids
from openissuing.clock import Clock
from openissuing.domain.connect import onboarding
from openissuing.domain.errors import InvalidRequest, ParameterMissing, StripeError
from openissuing.secrets_box import SecretBox
from openissuing.services import accounts, persons, sandboxes
from openissuing.services.scope import Scope
from openissuing.storage.uow import UnitOfWork

ACCOUNT_LINK = "account_link"
LOGIN_LINK = "login_link"
ACCOUNT_LINK_SECONDS = 300  # Stripe: "expire after a few minutes" (its examples: 300 s)
LOGIN_LINK_SECONDS = 300
FORM_SECONDS = 3600  # how long an opened form may take to be submitted
SETUP_PATH = "/connect/setup/"
EXPRESS_PATH = "/connect/express/"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _url(value: Any, param: str) -> str:
    if value in (None, ""):
        raise ParameterMissing(param)
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidRequest("Not a valid URL", param=param)
    return str(value)


def _insert(
    uow: UnitOfWork, object_type: str, account_id: str, record: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    token = secrets.token_urlsafe(32)
    uow.docs.insert(object_type, account_id, record, {"token": _hash(token)})
    return record, token


def create_account_link(
    uow: UnitOfWork, scope: Scope, params: dict[str, Any], base_url: str
) -> dict[str, Any]:
    account = accounts.load_connected(uow, scope, params["account"])
    refresh_url = _url(params.get("refresh_url"), "refresh_url")
    return_url = _url(params.get("return_url"), "return_url")
    link_type = params["type"]
    collection = (account.get("controller") or {}).get("requirement_collection")
    if link_type == "account_update" and collection != "application":
        raise InvalidRequest(
            "You cannot create `account_update` type Account Links for accounts where Stripe "
            "collects requirements; use `account_onboarding`.",
            param="type",
        )
    now = scope.now()
    record = {
        "id": ids.new_id("link"),
        "object": ACCOUNT_LINK,
        "account": account["id"],
        "created": now,
        "expires_at": now + ACCOUNT_LINK_SECONDS,
        "type": link_type,
        "collect": params.get("collect")
        or (params.get("collection_options") or {}).get("fields")
        or "currently_due",
        "refresh_url": refresh_url,
        "return_url": return_url,
        "_opened": False,
        "_form": None,
        "_completed": False,
    }
    record, token = _insert(uow, ACCOUNT_LINK, account["id"], record)
    return {**record, "url": base_url + SETUP_PATH + token}


def create_login_link(
    uow: UnitOfWork, scope: Scope, account_id: str, base_url: str
) -> dict[str, Any]:
    account = accounts.load_connected(uow, scope, account_id)
    dashboard = ((account.get("controller") or {}).get("stripe_dashboard") or {}).get("type")
    if dashboard != "express":
        raise InvalidRequest(
            "Cannot create a login link for an account that does not use the Express Dashboard "
            "(`controller.stripe_dashboard.type` must be `express`).",
            param="account",
        )
    now = scope.now()
    record = {
        "id": ids.new_id("link"),
        "object": LOGIN_LINK,
        "account": account_id,
        "created": now,
        "expires_at": now + LOGIN_LINK_SECONDS,
        "_opened": False,
    }
    record, token = _insert(uow, LOGIN_LINK, account_id, record)
    return {**record, "url": base_url + EXPRESS_PATH + token}


# ---------------------------------------------------------------- the hosted pages' side


@dataclass(frozen=True)
class Opened:
    """A link the visitor may use now, with the scope its page acts in (the platform's)."""

    link: dict[str, Any]
    scope: Scope
    account: dict[str, Any]


@dataclass(frozen=True)
class Refused:
    """A link that is unknown (``link`` None), used or expired: where the visitor goes."""

    link: dict[str, Any] | None
    reason: str


def _find(uow: UnitOfWork, object_type: str, token: str) -> dict[str, Any] | None:
    found = uow.docs.list(object_type, None, filters={"token": _hash(token)}, limit=1).records
    return found[0] if found else None


def _scope_of(uow: UnitOfWork, link: dict[str, Any], box: SecretBox, base: Clock) -> Scope | None:
    sandbox = sandboxes.of_account(uow, link["account"])
    if sandbox is None:
        return None
    clock = sandboxes.clock_of(sandbox, base)
    return Scope(sandbox.platform_account_id, sandbox.platform_account_id, clock, box)


def _live_account(uow: UnitOfWork, scope: Scope, account_id: str) -> dict[str, Any] | None:
    try:
        return accounts.load(uow, scope, account_id)
    except StripeError:
        return None  # deleted since


def open_link(
    uow: UnitOfWork, object_type: str, token: str, box: SecretBox, base: Clock
) -> tuple[Opened | Refused, str | None]:
    """Spend a link on its first opening; an account link's page gets a one-time form token."""
    link = _find(uow, object_type, token)
    scope = _scope_of(uow, link, box, base) if link else None
    account = _live_account(uow, scope, link["account"]) if link and scope else None
    if link is None or scope is None or account is None:
        return Refused(None, "unknown"), None
    if link["_opened"]:
        return Refused(link, "used"), None
    if scope.now() >= link["expires_at"]:
        return Refused(link, "expired"), None
    form_token = secrets.token_urlsafe(32) if object_type == ACCOUNT_LINK else None
    opened = {**link, "_opened": True}
    if form_token is not None:
        opened["_form"] = {"hash": _hash(form_token), "until": scope.now() + FORM_SECONDS}
    uow.docs.update(opened)
    return Opened(opened, scope, account), form_token


def form_of(
    uow: UnitOfWork, token: str, form_token: str, box: SecretBox, base: Clock
) -> Opened | Refused:
    """The opened account link a form submission belongs to, if its form token is right."""
    link = _find(uow, ACCOUNT_LINK, token)
    scope = _scope_of(uow, link, box, base) if link else None
    account = _live_account(uow, scope, link["account"]) if link and scope else None
    if link is None or scope is None or account is None:
        return Refused(None, "unknown")
    form = link.get("_form") or {}
    if link["_completed"] or not form or scope.now() >= form["until"]:
        return Refused(link, "expired")
    if not secrets.compare_digest(form["hash"], _hash(form_token or "")):
        return Refused(link, "forbidden")
    return Opened(link, scope, account)


def due_fields(account: dict[str, Any]) -> list[onboarding.Field]:
    return onboarding.fields(account["requirements"]["currently_due"])


def submit(uow: UnitOfWork, opened: Opened, values: dict[str, str], ip: str) -> dict[str, Any]:
    """Fill the requirements from the form through the API's own services; the account after.

    One transaction: a refused value (a bad email, say) raises and nothing is kept.
    """
    scope, account_id = opened.scope, opened.link["account"]
    wanted = onboarding.submission(due_fields(opened.account), values, scope.now(), ip)
    if wanted.account:
        accounts.update(uow, scope, account_id, wanted.account)
    for group, params in wanted.new_persons.items():
        with _naming(group):
            persons.create(uow, scope, account_id, params)
    for person_id, params in wanted.person_updates.items():
        with _naming(person_id):
            persons.update(uow, scope, account_id, person_id, params)
    uow.docs.update({**opened.link, "_completed": True})
    return accounts.load(uow, scope, account_id)


@contextlib.contextmanager
def _naming(prefix: str) -> Iterator[None]:
    """A person's refused param named as the form names it (``representative.dob``)."""
    try:
        yield
    except StripeError as refused:
        if refused.param:
            refused.param = f"{prefix}.{refused.param.replace('[', '.').rstrip(']')}"
        raise


def person_names(uow: UnitOfWork, opened: Opened) -> dict[str, str]:
    """Who each ``person_…`` section is about (its name so far), for the form's headings."""
    listed = persons.list_(uow, opened.scope, opened.link["account"], {}, limit=100)
    return {
        p["id"]: " ".join(n for n in (p.get("first_name"), p.get("last_name")) if n) or p["id"]
        for p in listed.records
    }


def external_accounts_of(uow: UnitOfWork, opened: Opened) -> list[dict[str, Any]]:
    """The account's bank accounts and cards, for the login link's page."""
    from openissuing.services import external_accounts

    return external_accounts.list_(
        uow,
        opened.scope,
        opened.link["account"],
        {},
        limit=100,
        starting_after=None,
        ending_before=None,
    ).records
