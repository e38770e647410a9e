"""Connected accounts: building records. (The accounts work extends this module.)"""

from __future__ import annotations

from typing import Any


def platform_account_record(account_id: str, now: int) -> dict[str, Any]:
    """The platform's own account, returned by GET /v1/account without Stripe-Account."""
    return {
        "id": account_id,
        "object": "account",
        "business_profile": None,
        "business_type": "company",
        "capabilities": {"card_issuing": "active", "transfers": "active", "treasury": "active"},
        "charges_enabled": True,
        "controller": {"type": "account", "is_controller": True},
        "country": "US",
        "created": now,
        "default_currency": "usd",
        "details_submitted": True,
        "email": None,
        "metadata": {},
        "payouts_enabled": True,
        "type": "standard",
    }
