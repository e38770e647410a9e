"""The dashboard's way to the API: the real endpoints, called in-process with a secret key.

Requests go through the same Starlette application (``httpx.ASGITransport``), so the
answer is byte for byte what the SDK would get over the network, without a socket.
"""

from __future__ import annotations

from typing import Any

import httpx

from openissuing.formencode import encode


class ApiFailure(Exception):
    """A Stripe-shaped error answer (status >= 400)."""

    def __init__(self, status: int, error: dict[str, Any]) -> None:
        super().__init__(error.get("message") or f"HTTP {status}")
        self.status = status
        self.error = error

    @property
    def message(self) -> str:
        code = self.error.get("code") or self.error.get("type") or ""
        param = self.error.get("param")
        where = f" ({param})" if param else ""
        return f"{self.error.get('message') or 'Request failed'}{where} [{code or self.status}]"


class Api:
    """One secret key, one ASGI app. ``platform`` is the sandbox's platform account id."""

    def __init__(self, app: Any, key: str, platform: str | None = None) -> None:
        self._http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://openissuing.internal"
        )
        self.key = key
        self.platform = platform

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def _headers(self, account: str | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.key}"}
        if account and account != self.platform:
            headers["Stripe-Account"] = account
        return headers

    async def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        account: str | None = None,
    ) -> dict[str, Any]:
        headers = self._headers(account)
        pairs = encode(params or {})
        if method == "GET":
            answer = await self._http.get(path, params=pairs, headers=headers)
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = str(httpx.QueryParams(pairs))
            answer = await self._http.request(method, path, content=body, headers=headers)
        try:
            payload = answer.json()
        except ValueError:
            payload = {"error": {"message": answer.text[:200]}}
        if answer.status_code >= 400:
            raise ApiFailure(answer.status_code, payload.get("error") or {})
        return payload

    async def get(self, path: str, params: dict[str, Any] | None = None, account=None) -> dict:
        return await self.request("GET", path, params, account)

    async def post(self, path: str, params: dict[str, Any] | None = None, account=None) -> dict:
        return await self.request("POST", path, params, account)

    async def delete(self, path: str, account: str | None = None) -> dict:
        return await self.request("DELETE", path, None, account)

    async def all(self, path: str, params: dict[str, Any] | None = None, account=None) -> list:
        """The first page of a list (up to 100), newest first; None-valued filters dropped."""
        query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        query.setdefault("limit", 100)
        return (await self.get(path, query, account))["data"]
