"""Ephemeral keys for Issuing Elements: the browser shows one card's number without a secret key.

The exchange, as Stripe.js does it:

1. the browser asks for a nonce pair for the card (``POST /v1/ephemeral_key_nonces``, what
   ``stripe.createEphemeralKeyNonce`` calls): a public nonce and a private one;
2. the platform's server exchanges the public nonce for an ephemeral key
   (``POST /v1/ephemeral_keys`` with ``issuing_card`` and ``nonce``, secret key, and an explicit
   ``Stripe-Version``), and hands the key's ``secret`` to the browser;
3. the browser retrieves the card with the key as its Bearer token and the private nonce
   (``GET /v1/issuing/cards/{card}?ephemeral_key_private_nonce=…&expand[]=number``).

Nothing secret is kept at rest: a key's secret and a private nonce are stored as SHA-256
digests only, and shown once, in the response that creates them. A nonce makes one key; a key
lasts 15 minutes (Issuing Elements refreshes it) or until it is deleted.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from openissuing.domain.errors import InvalidRequest, ParameterMissing, ResourceMissing
from openissuing.services.scope import Scope
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

TYPE = "ephemeral_key"
NONCE = "ephemeral_key_nonce"
CARD = "issuing.card"
KEY_SECONDS = 15 * 60
NONCE_SECONDS = 15 * 60
# Issuing Elements needs this version or later (Stripe's guide).
MIN_ISSUING_VERSION = "2020-03-02"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_nonce(uow: UnitOfWork, scope: Scope, params: dict[str, Any]) -> dict[str, Any]:
    card = uow.docs.require(CARD, params["issuing_card"], scope.account, param="issuing_card")
    now = scope.now()
    private = "ekpn_" + secrets.token_urlsafe(24)
    record = {
        "id": registry.id_for(NONCE),
        "object": NONCE,
        "created": now,
        "expires": now + NONCE_SECONDS,
        "issuing_card": card["id"],
        "livemode": False,
        "_private_digest": digest(private),
        "_used": False,
    }
    uow.docs.insert(NONCE, scope.account, record)
    return {**record, "_private_nonce": private}


def create(
    uow: UnitOfWork, scope: Scope, params: dict[str, Any], stripe_version: str | None
) -> dict[str, Any]:
    """A key for one Issuing card; ``_secret`` on the returned record is shown once."""
    if not stripe_version:
        raise InvalidRequest(
            "Stripe-Version header is required to create an ephemeral key: send the API "
            "version of the client that will use the key (Issuing Elements needs "
            f"{MIN_ISSUING_VERSION} or later)."
        )
    for kind, object_name in (
        ("customer", "customer"),
        ("verification_session", "identity.verification_session"),
    ):
        if params.get(kind):  # openissuing has no customers nor Identity sessions
            raise ResourceMissing(object_name, params[kind], param=kind)
    if not params.get("issuing_card"):
        raise InvalidRequest(
            "You must specify one of `customer`, `issuing_card` or `verification_session`."
        )
    if stripe_version.split(".")[0].split(";")[0].strip() < MIN_ISSUING_VERSION:
        raise InvalidRequest(
            f"Ephemeral keys for Issuing cards need Stripe-Version {MIN_ISSUING_VERSION} or later."
        )
    if not params.get("nonce"):
        raise ParameterMissing("nonce")
    card = uow.docs.require(CARD, params["issuing_card"], scope.account, param="issuing_card")
    now = scope.now()
    nonce = _usable_nonce(uow, scope, params["nonce"], card["id"], now)
    secret = "ek_test_" + secrets.token_urlsafe(48)
    record = {
        "id": registry.id_for(TYPE),
        "object": TYPE,
        "associated_objects": [{"id": card["id"], "type": CARD}],
        "created": now,
        "expires": now + KEY_SECONDS,
        "livemode": False,
        "secret": None,
        "_platform": scope.platform,
        "_nonce": nonce["id"],
        "_private_digest": nonce["_private_digest"],
    }
    uow.docs.update({**nonce, "_used": True})
    uow.docs.insert(TYPE, scope.account, record, {"secret_digest": digest(secret)})
    return {**record, "_secret": secret}


def _usable_nonce(
    uow: UnitOfWork, scope: Scope, nonce_id: str, card_id: str, now: int
) -> dict[str, Any]:
    nonce = uow.docs.get(NONCE, nonce_id, scope.account, for_update=True)
    if nonce is None or nonce["expires"] <= now:
        raise InvalidRequest(f"Invalid or expired nonce: {nonce_id}", param="nonce")
    if nonce["issuing_card"] != card_id:
        raise InvalidRequest(
            f"The nonce {nonce_id} was created for another card, not {card_id}.", param="nonce"
        )
    if nonce["_used"]:
        raise InvalidRequest(f"The nonce {nonce_id} has already been used.", param="nonce")
    return nonce


def delete(uow: UnitOfWork, scope: Scope, key_id: str) -> dict[str, Any]:
    """Invalidate a key at once (its secret stops working); the key as it was."""
    record = uow.docs.require(TYPE, key_id, scope.account, param="key", for_update=True)
    uow.docs.delete(key_id)
    return record


@dataclass(frozen=True)
class Grant:
    """What a request presenting an ephemeral key's secret may do: read one card."""

    key_id: str
    platform: str
    account: str
    card: str
    expires: int
    private_digest: str


def grant_for(uow: UnitOfWork, secret: str) -> Grant | None:
    """The grant of a key secret, if such a key exists (its expiry is the caller's to check,
    by the sandbox's clock)."""
    found = uow.docs.list(TYPE, None, filters={"secret_digest": digest(secret)}, limit=1).records
    if not found:
        return None
    record = found[0]
    owner = uow.docs.owner_of(record["id"])
    if owner is None:
        return None
    return Grant(
        record["id"],
        record["_platform"],
        owner[1],
        record["associated_objects"][0]["id"],
        record["expires"],
        record["_private_digest"],
    )
