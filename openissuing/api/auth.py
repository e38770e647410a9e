"""API key authentication: ``Authorization: Bearer sk_…`` or HTTP Basic with the key as user."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.concurrency import run_in_threadpool

from openissuing.domain.errors import AuthenticationFailed


def presented_key(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return value.strip() or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0] or None
    return None


def _no_key() -> AuthenticationFailed:
    return AuthenticationFailed(
        "You did not provide an API key. You need to provide your API key in the Authorization "
        "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
    )


async def sandbox_for(authorization: str | None, directory: Any) -> Any:
    """The sandbox whose secret key the request presents, or a 401. A cache hit costs a dict
    lookup; a miss reads the database in the thread pool, never on the event loop."""
    key = presented_key(authorization)
    if key is None:
        raise _no_key()
    sandbox = directory.peek(key) or await run_in_threadpool(directory.resolve, key)
    if sandbox is None:
        raise AuthenticationFailed(f"Invalid API Key provided: {redact(key)}")
    return sandbox


def redact(key: str) -> str:
    """Stripe's own redaction: keep the prefix and the last four characters."""
    prefix = key[:8] if key.startswith(("sk_test_", "sk_live_")) else ""
    return f"{prefix}{'*' * 12}{key[-4:]}" if len(key) > 4 else "****"
