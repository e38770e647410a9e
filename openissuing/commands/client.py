"""A small HTTP client for openissuing's own commands (demo, trigger, seed, listen).

The commands drive a running server exactly as a user's code would, over the
wire with form-encoded bodies (Stripe's bracket nesting), so they need no SDK
at run time. Errors come back as ``ApiError`` carrying Stripe's error object.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from openissuing.formencode import encode

DEFAULT_API_BASE = "http://127.0.0.1:12111"


class ApiError(Exception):
    def __init__(self, status: int, error: dict[str, Any], what: str) -> None:
        message = error.get("message", error)
        # status 0: nothing answered (the message says why); otherwise the server said no.
        super().__init__(message if status == 0 else f"{what} answered {status}: {message}")
        self.status = status
        self.error = error


def secret_key(given: str | None) -> str:
    """``--api-key``, else ``OPENISSUING_API_KEY``, else the key the local database keeps (the
    default sandbox's, read without ever creating a database); ApiError when there is none."""
    key = given or os.environ.get("OPENISSUING_API_KEY")
    if key:
        return key
    from openissuing.settings import Settings
    from openissuing.storage import server_settings_store
    from openissuing.storage.locate import DatabaseUnavailable, existing

    settings = Settings()
    try:
        engine = existing(settings.database_url, settings.sqlalchemy_url())
        key = server_settings_store.read(engine, "api_key")
        engine.dispose()
    except DatabaseUnavailable as error:
        raise ApiError(0, {"message": f"no secret key: pass --api-key ({error})"}, "") from None
    if key is None:
        message = "no secret key: pass --api-key or set OPENISSUING_API_KEY (the database has none)"
        raise ApiError(0, {"message": message}, "")
    return key


def api_base(given: str | None) -> str:
    return (given or os.environ.get("OPENISSUING_API_BASE") or DEFAULT_API_BASE).rstrip("/")


class Api:
    """One secret key against one server; ``account`` sets ``Stripe-Account``."""

    def __init__(self, base: str, key: str, *, timeout: float = 30.0) -> None:
        self.base = base.rstrip("/")
        self.key = key
        self.http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        account: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.key}"}
        if account:
            headers["Stripe-Account"] = account
        pairs = encode(params or {})
        try:
            if method == "GET":
                answer = self.http.request(method, self.base + path, params=pairs, headers=headers)
            else:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                body = httpx.QueryParams(pairs).__str__()
                answer = self.http.request(method, self.base + path, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise ApiError(
                0, {"message": f"cannot reach the server at {self.base}: {error}"}, path
            ) from error
        try:
            body_json = answer.json()
        except ValueError:
            body_json = {"error": {"message": answer.text[:200]}}
        if answer.status_code >= 400:
            raise ApiError(answer.status_code, body_json.get("error") or {}, f"{method} {path}")
        return body_json

    def post(self, path: str, params: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        return self.request("POST", path, params, **kw)

    def get(self, path: str, params: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        return self.request("GET", path, params, **kw)

    def delete(self, path: str, **kw: Any) -> dict[str, Any]:
        return self.request("DELETE", path, None, **kw)
