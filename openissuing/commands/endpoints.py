"""``openissuing endpoints list|delete``: every webhook endpoint of a sandbox, wherever it lives.

A leftover ``issuing_authorization.request`` endpoint with no receiver declines every purchase
it hears (``webhook_error``); this finds it on the platform or any connected account.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from openissuing.commands.client import Api, ApiError


class Missing(Exception):
    """No such endpoint anywhere in the sandbox: the one line to show."""


def pages(api: Api, path: str, account: str | None = None) -> Iterator[dict[str, Any]]:
    after = None
    while True:
        params: dict[str, Any] = {"limit": 100, **({"starting_after": after} if after else {})}
        page = api.get(path, params, account=account)
        yield from page["data"]
        if not page.get("has_more") or not page["data"]:
            return
        after = page["data"][-1]["id"]


def _owners(api: Api, account: str | None) -> list[str | None]:
    return [account] if account else [None, *(a["id"] for a in pages(api, "/v1/accounts"))]


def every_endpoint(api: Api, account: str | None = None) -> list[dict[str, Any]]:
    rows = []
    for owner in _owners(api, account):
        for endpoint in pages(api, "/v1/webhook_endpoints", owner):
            rows.append({**endpoint, "_account": owner})
    return rows


def delete(api: Api, endpoint_id: str, account: str | None = None) -> str | None:
    """Delete the endpoint wherever it lives; returns its account (None: the platform)."""
    for owner in _owners(api, account):
        try:
            api.delete(f"/v1/webhook_endpoints/{endpoint_id}", account=owner)
            return owner
        except ApiError as error:
            if error.status != 404:
                raise
    where = f"account {account}" if account else "the platform or any connected account"
    raise Missing(f"no webhook endpoint {endpoint_id} on {where}")


def line(endpoint: dict[str, Any]) -> str:
    events = ",".join(endpoint.get("enabled_events") or [])
    owner = endpoint.get("_account") or "platform"
    return f"{endpoint['id']}  {owner}  {endpoint.get('status')}  {endpoint.get('url')}  {events}"
