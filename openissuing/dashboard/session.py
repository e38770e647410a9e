"""Signed-in sessions: the secret key sealed in a cookie, and the CSRF token beside it.

The cookie holds a Fernet token (the server's SecretBox: encrypted and authenticated) of
``{key, csrf, issued}``; it is HttpOnly and SameSite=Strict, so the key never appears in a
URL, a page or a script. Every POST must carry the session's CSRF token in its form; the
sign-in form, before any session exists, carries the token of a short-lived pre-session
cookie (double submit). Sessions last ``MAX_AGE_SECONDS``.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from cryptography.fernet import InvalidToken

COOKIE = "oi_dashboard"
PRE_COOKIE = "oi_dashboard_pre"
MAX_AGE_SECONDS = 12 * 3600
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class Session:
    key: str
    csrf: str
    sandbox: str
    platform: str


def new_token() -> str:
    return secrets.token_urlsafe(24)


def seal(box: Any, session: Session) -> str:
    payload = {
        "key": session.key,
        "csrf": session.csrf,
        "sandbox": session.sandbox,
        "platform": session.platform,
        "issued": int(time.time()),
    }
    return box.seal(json.dumps(payload)).decode()


def open_cookie(box: Any, value: str | None) -> Session | None:
    if not value:
        return None
    try:
        payload = json.loads(box.open(value.encode()))
    except (InvalidToken, ValueError, TypeError):
        return None
    if int(time.time()) - int(payload.get("issued", 0)) > MAX_AGE_SECONDS:
        return None
    return Session(payload["key"], payload["csrf"], payload["sandbox"], payload["platform"])


def tokens_match(expected: str | None, given: Any) -> bool:
    if not expected or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


MAX_FORM_BYTES = 64 * 1024


async def read_form(request: Any) -> dict[str, str]:
    """A urlencoded form body (the dashboard's forms post nothing else); first value wins."""
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        return {}
    form: dict[str, str] = {}
    for name, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
        form.setdefault(name, value)
    return form
