"""Requests authenticated by an ephemeral key's secret (Issuing Elements in the browser).

Such a request may do one thing: retrieve the key's card (``GET /v1/issuing/cards/{card}``),
presenting the private nonce paired with the public one the key was made from
(``ephemeral_key_private_nonce``). It acts as the account that created the key, in that
account's sandbox; anything else is refused. See ``services.ephemeral_keys``.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from openissuing.domain.errors import AuthenticationFailed, ParameterMissing, PermissionDenied
from openissuing.services import ephemeral_keys
from openissuing.storage.uow import transaction

PREFIX = "ek_"
CARD_RETRIEVE = "GET /v1/issuing/cards/{card}"
NONCE_PARAM = "ephemeral_key_private_nonce"


def presents_ephemeral_key(key: str | None) -> bool:
    return bool(key) and str(key).startswith(PREFIX)


def _invalid(key: str) -> AuthenticationFailed:
    return AuthenticationFailed(f"Invalid API Key provided: {key[:8]}{'*' * 12}{key[-4:]}")


async def authenticate(runtime: Any, key: str) -> tuple[Any, ephemeral_keys.Grant]:
    """(sandbox, grant) of a live ephemeral key, or a 401."""

    def find() -> tuple[Any, ephemeral_keys.Grant] | None:
        grant = transaction(
            runtime.engine, lambda uow: ephemeral_keys.grant_for(uow, key), write=False
        )
        if grant is None:
            return None
        sandbox = runtime.sandboxes.of_platform(grant.platform)
        if sandbox is None or runtime.sandboxes.clock(sandbox).now() >= grant.expires:
            return None
        return sandbox, grant

    found = await run_in_threadpool(find)
    if found is None:
        raise _invalid(key)
    return found


def check(grant: ephemeral_keys.Grant, endpoint_key: str, path: dict, raw: dict) -> None:
    """Refuse anything but reading the key's own card with the matching private nonce; the
    nonce parameter is taken out of ``raw`` (it is not one of the endpoint's own)."""
    nonce = raw.pop(NONCE_PARAM, None)
    if endpoint_key != CARD_RETRIEVE or path.get("card") != grant.card:
        raise PermissionDenied(
            "This ephemeral key may only be used to retrieve the Issuing card it was created "
            f"for ({grant.card})."
        )
    if not nonce or not isinstance(nonce, str):
        raise ParameterMissing(NONCE_PARAM)
    if ephemeral_keys.digest(nonce) != grant.private_digest:
        raise PermissionDenied("The ephemeral key nonce does not match this ephemeral key.")
