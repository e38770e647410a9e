"""Webhook endpoint use cases: create, retrieve, update (incl. disable), list, delete.

Endpoints live in the account that registered them (the platform, normally).
The signing secret is generated here, returned once by the create route, and
kept sealed in ``webhook_endpoint_secrets`` (never in the JSON document), so
no generic rendering path can leak it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from openissuing import ids
from openissuing.domain import metadata
from openissuing.domain.errors import InvalidRequest
from openissuing.secrets_box import SecretBox
from openissuing.services import deliveries
from openissuing.services.scope import Scope
from openissuing.storage import webhook_secrets
from openissuing.storage.documents import Page
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

TYPE = "webhook_endpoint"
SECRET_PREFIX = "whsec_"
MAX_URL_LENGTH = 5000


def _keys(record: dict[str, Any]) -> dict[str, str]:
    # Fan-out reads only enabled endpoints, through this key.
    return {"status": record["status"]}


def load(
    uow: UnitOfWork, scope: Scope, endpoint_id: str, *, for_update: bool = False
) -> dict[str, Any]:
    return uow.docs.require(TYPE, endpoint_id, scope.account, param="id", for_update=for_update)


def _valid_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL_LENGTH:
        raise InvalidRequest(
            f"Invalid URL: {url}. The URL must be an absolute http(s) URL.", param="url"
        )
    return url


def _enabled_events(values: list[str]) -> list[str]:
    # The param spec already limits values to Stripe's event types and "*"; keep first-seen order.
    return list(dict.fromkeys(values))


def create(uow: UnitOfWork, scope: Scope, params: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The new endpoint and its signing secret (which only the create response shows)."""
    record = {
        "id": registry.id_for(TYPE),
        "object": TYPE,
        "api_version": params.get("api_version") or None,
        "application": None,
        "created": scope.now(),
        "description": params.get("description") or None,
        "enabled_events": _enabled_events(params["enabled_events"]),
        "livemode": False,
        "metadata": metadata.apply({}, params.get("metadata")),
        "status": "enabled",
        "url": _valid_url(params["url"]),
        # Not on Stripe's wire; decides which accounts' events it hears (domain.webhook_matching).
        "connect": bool(params.get("connect", False)),
    }
    secret = ids.new_secret(SECRET_PREFIX, 32)
    uow.docs.insert(TYPE, scope.account, record, _keys(record))
    webhook_secrets.store(uow.conn, record["id"], scope.box.seal(secret))
    return record, secret


def update(
    uow: UnitOfWork, scope: Scope, endpoint_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    before = load(uow, scope, endpoint_id, for_update=True)
    after = dict(before)
    if "url" in params:
        after["url"] = _valid_url(params["url"])
    if "enabled_events" in params:
        after["enabled_events"] = _enabled_events(params["enabled_events"])
    if "description" in params:
        after["description"] = params["description"] or None
    if "metadata" in params:
        after["metadata"] = metadata.apply(before.get("metadata") or {}, params["metadata"])
    if "disabled" in params:
        after["status"] = "disabled" if params["disabled"] else "enabled"
    # Validated; from here on nothing can fail.
    uow.docs.update(after, _keys(after))
    if after["status"] == "disabled" and before["status"] != "disabled":
        deliveries.cancel_pending(uow, endpoint_id)
    return after


def delete(uow: UnitOfWork, scope: Scope, endpoint_id: str) -> dict[str, Any]:
    load(uow, scope, endpoint_id, for_update=True)
    # Foreign keys cascade: the secret, the queued deliveries and their attempts go too.
    uow.docs.delete(endpoint_id)
    return {"id": endpoint_id, "object": TYPE, "deleted": True}


def list_(uow: UnitOfWork, scope: Scope, **page_args: Any) -> Page:
    return uow.docs.list(TYPE, scope.account, **page_args)


def secret_for(uow: UnitOfWork, box: SecretBox, endpoint_id: str) -> str | None:
    """The signing secret, for the dispatcher only."""
    sealed = webhook_secrets.sealed(uow.conn, endpoint_id)
    return None if sealed is None else box.open(sealed)
