"""``openissuing endpoints list|delete``: webhook endpoints, through a running server's API.

A leftover endpoint subscribed to ``issuing_authorization.request`` with nobody listening turns
every purchase of the accounts it hears into a ``webhook_error`` decline, and it may live on the
platform or on any connected account; so ``list`` walks them all (``GET /v1/accounts``, then each
account's ``GET /v1/webhook_endpoints`` with ``Stripe-Account``), as a user of the API would.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx


class ApiFailed(Exception):
    """The one line to show: the server is not there, or it said no."""


class Api:
    def __init__(self, base: str, key: str, timeout_seconds: float = 10.0) -> None:
        self.base = base.rstrip("/")
        self.http = httpx.Client(
            base_url=self.base,
            headers={"Authorization": f"Bearer {key}"},
            timeout=timeout_seconds,
        )

    def call(self, method: str, path: str, account: str | None = None, **params: Any) -> dict:
        headers = {"Stripe-Account": account} if account else {}
        try:
            response = self.http.request(method, path, params=params or None, headers=headers)
        except httpx.HTTPError as error:
            raise ApiFailed(f"cannot reach the server at {self.base}: {error}") from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400:
            message = (body.get("error") or {}).get("message") or response.reason_phrase
            raise ApiFailed(f"{method} {path} answered {response.status_code}: {message}")
        return body

    def pages(self, path: str, account: str | None = None) -> Iterator[dict]:
        after = None
        while True:
            params = {"limit": 100, **({"starting_after": after} if after else {})}
            page = self.call("GET", path, account, **params)
            yield from page["data"]
            if not page.get("has_more") or not page["data"]:
                return
            after = page["data"][-1]["id"]

    def accounts(self) -> list[str]:
        return [a["id"] for a in self.pages("/v1/accounts")]

    def every_endpoint(self, account: str | None = None) -> list[dict]:
        owners: list[str | None] = [account] if account else [None, *self.accounts()]
        rows = []
        for owner in owners:
            for endpoint in self.pages("/v1/webhook_endpoints", owner):
                rows.append({**endpoint, "_account": owner})
        return rows

    def delete(self, endpoint_id: str, account: str | None = None) -> str | None:
        """Delete the endpoint wherever it lives; returns the account it lived on (None: the
        platform)."""
        owners: list[str | None] = [account] if account else [None, *self.accounts()]
        for owner in owners:
            try:
                self.call("DELETE", f"/v1/webhook_endpoints/{endpoint_id}", owner)
                return owner
            except ApiFailed as error:
                if " answered 404" not in str(error):
                    raise
        where = f"account {account}" if account else "the platform or any connected account"
        raise ApiFailed(f"no webhook endpoint {endpoint_id} on {where}")


def line(endpoint: dict) -> str:
    events = ",".join(endpoint.get("enabled_events") or [])
    owner = endpoint.get("_account") or "platform"
    return f"{endpoint['id']}  {owner}  {endpoint.get('status')}  {endpoint.get('url')}  {events}"
