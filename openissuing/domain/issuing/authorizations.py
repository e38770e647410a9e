"""Authorization decisions and records (pure; no I/O).

The decision pipeline runs its checks in this fixed precedence and names the
first failure exactly as Stripe's ``request_history.reason`` does:

1. card: ``card_canceled``, ``card_inactive``, ``card_expired``
2. cardholder: ``cardholder_blocked``, ``cardholder_inactive``,
   ``cardholder_verification_required`` (requirements past due)
3. financial account: ``account_disabled`` (closed, or its ``card_issuing``
   feature not active), ``not_allowed`` (``platform_restrictions.outbound_flows``
   restricted: authorizations are not allowed)
4. currency: ``not_allowed`` when the request's currency is not the card's
5. spending controls, card then cardholder: ``spending_controls``
6. available cash (the financial account's, or the Issuing balance's for a card without
   one): ``insufficient_funds`` (checked here on a read, and again
   atomically by the ledger when the hold is placed)
7. [the platform's real-time decision plugs in here, after the built-in checks]
8. approved: ``card_active``
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openissuing.domain.errors import InsufficientFunds
from openissuing.domain.issuing import merchant_categories, spending_controls

Record = dict[str, Any]
DEFAULT_EXPIRY_SECONDS = 7 * 86400
# Stripe keeps authorizations for hotels, car rentals and airlines open longer.
LONG_EXPIRY_SECONDS = 31 * 86400
LONG_EXPIRY_CATEGORIES = {
    "hotels_motels_and_resorts",
    "car_rental_agencies",
    "airlines_air_carriers",
    "cruise_lines",
}
DEFAULT_MERCHANT = {
    "category": "taxicabs_limousines",
    "city": "San Francisco",
    "country": "US",
    "name": "Rocket Rides",
    "network_id": "1234567890",
    "postal_code": "94107",
    "state": "CA",
    "tax_id": None,
    "terminal_id": None,
    "url": None,
}


@dataclass(frozen=True)
class Request:
    amount: int
    currency: str
    category: str
    country: str | None
    card_presence: str


@dataclass(frozen=True)
class Decision:
    approved: bool
    reason: str
    message: str | None = None


APPROVED = Decision(True, "card_active")
# The card network stood in for Stripe (a sandbox's network_fallback fault).
NETWORK_APPROVED = Decision(
    True, "network_fallback", "The card network approved this authorization on Stripe's behalf."
)
NETWORK_DECLINED = Decision(
    False, "network_fallback", "The card network declined this authorization on Stripe's behalf."
)
# The ledger's one expected refusal, as a customer sees it on a declined request.
INSUFFICIENT_FUNDS = Decision(False, "insufficient_funds", InsufficientFunds.MESSAGE)

Spent = Callable[[int, list[str] | None], int]


def decide(
    request: Request,
    card: Record,
    cardholder: Record,
    financial_account: Record | None,
    *,
    now: int,
    available: int,
    card_spent: Spent,
    cardholder_spent: Spent,
) -> Decision:
    for check in (_card, _cardholder):
        decision = check(card if check is _card else cardholder, now)
        if decision is not None:
            return decision
    decision = _financial_account(financial_account)
    if decision is not None:
        return decision
    if request.currency != card["currency"]:
        return Decision(
            False, "not_allowed", f"The card does not support {request.currency.upper()}."
        )
    shared: dict[str, Any] = dict(
        amount=request.amount,
        category=request.category,
        country=request.country,
        card_presence=request.card_presence,
        now=now,
    )
    if spending_controls.blocks(card.get("spending_controls"), spent=card_spent, **shared):
        return Decision(
            False, "spending_controls", "The card's spending controls declined this purchase."
        )
    if spending_controls.blocks(
        cardholder.get("spending_controls"), spent=cardholder_spent, **shared
    ):
        return Decision(
            False, "spending_controls", "The cardholder's spending controls declined this purchase."
        )
    if available < request.amount:
        return INSUFFICIENT_FUNDS
    return APPROVED


def _card(card: Record, now: int) -> Decision | None:
    if card["status"] == "canceled":
        return Decision(False, "card_canceled")
    if card["status"] != "active":
        return Decision(False, "card_inactive")
    if _expired(card, now):
        return Decision(False, "card_expired")
    return None


def _expired(card: Record, now: int) -> bool:
    import datetime as dt

    today = dt.datetime.fromtimestamp(now, dt.UTC)
    return (card["exp_year"], card["exp_month"]) < (today.year, today.month)


def _cardholder(cardholder: Record, now: int) -> Decision | None:
    if cardholder["status"] == "blocked":
        return Decision(False, "cardholder_blocked")
    if cardholder["status"] != "active":
        return Decision(False, "cardholder_inactive")
    if (cardholder.get("requirements") or {}).get("disabled_reason"):
        return Decision(False, "cardholder_verification_required")
    return None


def _financial_account(fa: Record | None) -> Decision | None:
    if fa is None:
        return None  # the card draws on its account's Issuing balance (checked as ``available``)
    if fa["status"] != "open" or "card_issuing" not in (fa.get("active_features") or []):
        return Decision(
            False, "account_disabled", "The financial account's card_issuing feature is not active."
        )
    if (fa.get("platform_restrictions") or {}).get("outbound_flows") == "restricted":
        return Decision(
            False, "not_allowed", "Outbound flows are restricted on the financial account."
        )
    return None


def merchant_data(params: Record | None) -> Record:
    merchant: Record = dict(DEFAULT_MERCHANT)
    for key, value in (params or {}).items():
        merchant[key] = value or None
    merchant["category"] = merchant["category"] or DEFAULT_MERCHANT["category"]
    merchant["category_code"] = merchant_categories.mcc_for(merchant["category"])
    merchant["network_id"] = merchant["network_id"] or DEFAULT_MERCHANT["network_id"]
    if merchant.get("country"):
        merchant["country"] = merchant["country"].upper()
    return merchant


def expiry_seconds(category: str) -> int:
    return LONG_EXPIRY_SECONDS if category in LONG_EXPIRY_CATEGORIES else DEFAULT_EXPIRY_SECONDS


def history_entry(
    decision: Decision,
    amount: int,
    currency: str,
    merchant_amount: int,
    merchant_currency: str,
    amount_details: Record | None,
    now: int,
) -> Record:
    return {
        "amount": amount,
        "amount_details": amount_details,
        "approved": decision.approved,
        "authorization_code": f"S{secrets.randbelow(10**6):06d}" if decision.approved else None,
        "created": now,
        "currency": currency,
        "merchant_amount": merchant_amount,
        "merchant_currency": merchant_currency,
        "network_risk_score": None,
        "reason": decision.reason,
        "reason_message": decision.message,
        "requested_at": now,
    }


def verification_data(params: Record | None) -> Record:
    given = params or {}
    return {
        "address_line1_check": given.get("address_line1_check", "not_provided"),
        "address_postal_code_check": given.get("address_postal_code_check", "not_provided"),
        "authentication_exemption": given.get("authentication_exemption"),
        "cvc_check": given.get("cvc_check", "not_provided"),
        "expiry_check": given.get("expiry_check", "not_provided"),
        "postal_code": None,
        "three_d_secure": given.get("three_d_secure"),
    }


def index_keys(record: Record) -> dict[str, str]:
    """The stored authorization's lookup keys (list filters)."""
    return {"card": record["card"], "cardholder": record["cardholder"], "status": record["status"]}


def snapshot(record: Record) -> Record:
    return copy.deepcopy(record)
