"""Network tokens: a card added to a digital wallet (Apple Pay, Google Pay, Samsung Pay).

A token is born ``active`` when a wallet purchase first reaches the card (the test helper's
``wallet`` parameter stands for the cardholder having added the card to that wallet), and
then follows its card: canceling the card deletes its tokens; a replacement that keeps the
card number (``expired``, ``damaged``) takes them over when it is activated.

Status changes through the API (Stripe's ``POST /v1/issuing/tokens/{token}``): ``active`` and
``suspended`` switch back and forth, either may be ``deleted``, and ``deleted`` is terminal.
A ``requested`` token (provisioning not finished) may only be deleted. Asking for the status
a token already has changes nothing. A purchase through a suspended token is declined.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from openissuing.domain.errors import InvalidStatusTransition
from openissuing.domain.issuing.authorizations import Decision

Record = dict[str, Any]
TYPE = "issuing.token"
WALLETS = ("apple_pay", "google_pay", "samsung_pay")
LIVE = ("active", "suspended", "requested")
# status -> the statuses the API may move it to
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "active": ("suspended", "deleted"),
    "suspended": ("active", "deleted"),
    "requested": ("deleted",),
    "deleted": (),
}
# Visa's published token requestor ids of the wallets (VTS TRIDs).
TOKEN_REQUESTORS = {
    "apple_pay": "40010030273",
    "google_pay": "40010075001",
    "samsung_pay": "40010043095",
}
DEVICES = {
    "apple_pay": ("iPhone", "phone"),
    "google_pay": ("Pixel", "phone"),
    "samsung_pay": ("Galaxy Watch", "watch"),
}
# Stripe shows network_data for 24 hours after the token's creation, and only on request.
NETWORK_DATA_SECONDS = 86_400
SUSPENDED_MESSAGE = "The network token used for this purchase is suspended."


def _digest(*parts: str) -> str:
    return hashlib.sha256(":".join(parts).encode()).hexdigest()


def new(token_id: str, card: Record, wallet: str, now: int) -> Record:
    """The token a wallet provisions for ``card``; derived values are stable per token id."""
    digest = _digest(token_id, card["id"], wallet)
    device_fingerprint = "intd_" + digest[:24]
    device_name, device_type = DEVICES[wallet]
    last4 = str(int(digest[24:32], 16) % 10_000).rjust(4, "0")
    return {
        "id": token_id,
        "object": TYPE,
        "card": card["id"],
        "created": now,
        "device_fingerprint": device_fingerprint,
        "last4": last4,
        "livemode": False,
        "network": "visa",
        "network_data": None,
        "network_updated_at": now,
        "status": "active",
        "wallet_provider": wallet,
        # Shown only when expanded, within 24 hours of creation (see ``network_data``).
        "_network_data": {
            "device": {
                "device_fingerprint": device_fingerprint,
                "ip_address": None,
                "location": None,
                "name": device_name,
                "phone_number": None,
                "type": device_type,
            },
            "mastercard": None,
            "type": "visa",
            "visa": {
                "card_reference_id": "V-" + _digest(card["id"])[:22].upper(),
                "token_reference_id": "DNITHE" + digest[32:50].upper(),
                "token_requestor_id": TOKEN_REQUESTORS[wallet],
                "token_risk_score": "00",
            },
            "wallet_provider": {
                "account_id": None,
                "account_trust_score": 5,
                "card_number_source": "app",
                "cardholder_address": None,
                "cardholder_name": None,
                "device_trust_score": 5,
                "hashed_account_email_address": None,
                "reason_codes": ["good_activity_history"],
                "suggested_decision": "approve",
                "suggested_decision_version": None,
            },
        },
    }


def network_data(token: Record, now: int) -> Record | None:
    """The network's provisioning details, while Stripe still shows them (24 hours)."""
    if now - token["created"] >= NETWORK_DATA_SECONDS:
        return None
    return copy.deepcopy(token.get("_network_data"))


def change_status(token: Record, status: str, now: int) -> Record:
    """The token with ``status``, if the API may make that change (same status: unchanged)."""
    if status == token["status"]:
        return token
    if status not in TRANSITIONS[token["status"]]:
        allowed = TRANSITIONS[token["status"]]
        detail = (
            f"it can only become {' or '.join(f'`{s}`' for s in allowed)}"
            if allowed
            else "a deleted token is final"
        )
        raise InvalidStatusTransition(
            f"The token {token['id']} is `{token['status']}` and cannot become `{status}`: "
            f"{detail}.",
            param="status",
        )
    return {**token, "status": status, "network_updated_at": now}


def deleted(token: Record, now: int) -> Record:
    """The token once its card is gone (terminal)."""
    if token["status"] == "deleted":
        return token
    return {**token, "status": "deleted", "network_updated_at": now}


def moved(token: Record, card_id: str, now: int) -> Record:
    """The token carried over to a replacement card with the same number."""
    return {**token, "card": card_id, "network_updated_at": now}


def screen(token: Record | None, decision: Decision) -> Decision:
    """A purchase through a token that is not active is declined (after the built-in checks)."""
    if token is None or not decision.approved or token["status"] == "active":
        return decision
    return Decision(False, "not_allowed", SUSPENDED_MESSAGE)


def filter_keys(record: Record) -> dict[str, Any]:
    return {"card": record["card"], "status": record["status"], "wallet": record["wallet_provider"]}
