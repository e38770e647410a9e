"""Issuing cards: building and updating the record, status and shipping rules.

Pure functions over validated params; no I/O. The service loads what these
rules need (the cardholder, the financial account, the card being replaced)
and stores what they return. The record never holds the card number or CVC:
those live only encrypted, beside it (``card_secrets``).
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from openissuing.domain import metadata
from openissuing.domain.errors import (
    AmountNotPositive,
    InvalidRequest,
    ParameterMissing,
    PhysicalCardsOnly,
)
from openissuing.domain.issuing import card_numbers, physical_bundles, spending_controls
from openissuing.domain.treasury.financial_accounts import card_issuing_usable

Record = dict[str, Any]

# Our accounts are US accounts; Stripe issues EUR/GBP cards only on EU/UK platforms.
SUPPORTED_CURRENCIES = ("usd",)
MAX_SECOND_LINE_LENGTH = 24
# A sanity bound on custom expiry dates (inferred; Stripe documents no bound).
MAX_EXPIRY_YEARS = 10
# Replacement reasons (docs): activating a replacement for an expired or
# damaged card cancels the original; a lost or stolen card must already be
# canceled before it is replaced.
CANCELED_ON_ACTIVATION = ("damaged", "expired")
MUST_BE_CANCELED_FIRST = ("lost", "stolen")
# An expired or damaged card's replacement keeps its number (new CVC and expiry); a lost or
# stolen card's gets a new number (Stripe's replacement guide).
KEEPS_NUMBER = CANCELED_ON_ACTIVATION


# -- create ------------------------------------------------------------------


def check_create(params: dict[str, Any], now: int) -> None:
    """Everything about a create request that needs no stored object."""
    if not params.get("cardholder"):
        # Optional in the SDK, but Stripe cannot issue a card to nobody.
        raise ParameterMissing("cardholder")
    if params["currency"].lower() not in SUPPORTED_CURRENCIES:
        raise InvalidRequest(
            f"Issuing cards can only be created in {', '.join(SUPPORTED_CURRENCIES)}.",
            param="currency",
        )
    physical = params["type"] == "physical"
    if physical and "shipping" not in params:
        raise ParameterMissing("shipping")
    if not physical:
        for field in ("shipping", "personalization_design"):
            if field in params:
                raise PhysicalCardsOnly(field)
    if params.get("lifecycle_controls") is not None and physical:
        raise InvalidRequest(
            "`lifecycle_controls` can only be set on virtual cards.", param="lifecycle_controls"
        )
    if params.get("replacement_reason") and not params.get("replacement_for"):
        raise InvalidRequest(
            "`replacement_reason` can only be set together with `replacement_for`.",
            param="replacement_reason",
        )
    if len(params.get("second_line") or "") > MAX_SECOND_LINE_LENGTH:
        raise InvalidRequest(
            f"`second_line` must be at most {MAX_SECOND_LINE_LENGTH} characters.",
            param="second_line",
        )
    _check_lifecycle_controls(params.get("lifecycle_controls"))
    expiry(params, now)


def expiry(params: dict[str, Any], now: int) -> tuple[int, int]:
    """(exp_month, exp_year): custom when both are given, else three years from now."""
    month, year = params.get("exp_month"), params.get("exp_year")
    if month is None and year is None:
        return card_numbers.default_expiry(now)
    if month is None or year is None:
        raise ParameterMissing("exp_month" if month is None else "exp_year")
    if not 1 <= month <= 12:
        raise InvalidRequest("`exp_month` must be between 1 and 12.", param="exp_month")
    this_month, this_year = card_numbers.current_month(now)
    if (year, month) < (this_year, this_month):
        raise InvalidRequest("The expiration date must not be in the past.", param="exp_year")
    if year > this_year + MAX_EXPIRY_YEARS:
        raise InvalidRequest(
            f"The expiration date must be within {MAX_EXPIRY_YEARS} years.", param="exp_year"
        )
    return month, year


def _check_lifecycle_controls(controls: dict[str, Any] | None) -> None:
    if controls is not None:
        AmountNotPositive.check(
            controls["cancel_after"]["payment_count"],
            "lifecycle_controls[cancel_after][payment_count]",
        )


def check_financial_account(account: Record, currency: str) -> None:
    """A card may draw on a financial account only while its card_issuing feature is active."""
    if not card_issuing_usable(account):
        raise InvalidRequest(
            f"The financial account {account['id']} cannot be used for cards: it must be open and "
            "its "
            "`card_issuing` feature must be active (request it with "
            "`features[card_issuing][requested]=true`).",
            param="financial_account",
        )
    supported = account.get("supported_currencies") or []
    if currency.lower() not in supported:
        raise InvalidRequest(
            f"The financial account {account['id']} does not support {currency.lower()}.",
            param="financial_account",
        )


def check_replacement(original: Record, cardholder_id: str, reason: str | None) -> None:
    if original["cardholder"] != cardholder_id:
        raise InvalidRequest(
            "A replacement card must belong to the same cardholder as the card it replaces.",
            param="replacement_for",
        )
    if original.get("replaced_by"):
        raise InvalidRequest(
            f"The card {original['id']} has already been replaced by {original['replaced_by']}.",
            param="replacement_for",
        )
    reported = original["status"] == "canceled" and original.get("cancellation_reason") in (
        MUST_BE_CANCELED_FIRST
    )
    if reason in MUST_BE_CANCELED_FIRST and not reported:
        raise InvalidRequest(
            f"A card reported {reason} must be canceled before it is replaced: update "
            f"{original['id']} "
            f"with `status=canceled` and `cancellation_reason={reason}` first.",
            param="replacement_for",
        )


def check_second_line(second_line: str | None, bundle: Record | None) -> None:
    """A card printed on a bundle must honour its ``second_line`` feature."""
    if bundle is not None:
        physical_bundles.check_feature(bundle, "second_line", bool(second_line), "second_line")


def new(
    card_id: str, now: int, params: dict[str, Any], *, cardholder: Record, last4: str
) -> Record:
    """The card record; ``check_create`` (and the service's lookups) ran before."""
    currency = params["currency"].lower()
    exp_month, exp_year = expiry(params, now)
    lifecycle = params.get("lifecycle_controls")
    record: Record = {
        "id": card_id,
        "object": "issuing.card",
        "brand": "Visa",
        "cancellation_reason": None,
        "cardholder": cardholder["id"],
        "created": now,
        "currency": currency,
        # Placeholders only: the serializer fills them on an explicit, allowed expand.
        "cvc": None,
        "exp_month": exp_month,
        "exp_year": exp_year,
        "financial_account": params.get("financial_account") or None,
        "last4": last4,
        "latest_fraud_warning": None,
        "lifecycle_controls": {
            "cancel_after": {"payment_count": lifecycle["cancel_after"]["payment_count"]}
        }
        if lifecycle
        else None,
        "livemode": False,
        "metadata": metadata.apply({}, params.get("metadata")),
        "number": None,
        "personalization_design": params.get("personalization_design") or None,
        "replaced_by": None,
        "replacement_for": params.get("replacement_for") or None,
        "replacement_reason": params.get("replacement_reason") or None,
        "second_line": params.get("second_line") or None,
        "shipping": new_shipping(params["shipping"]) if "shipping" in params else None,
        "spending_controls": _controls(
            spending_controls.empty(with_currency=False), params, currency
        ),
        "status": params.get("status") or "inactive",
        "type": params["type"],
        "wallets": wallets(cardholder),
    }
    return record


def _controls(existing: Record, params: dict[str, Any], currency: str) -> Record:
    controls = spending_controls.apply(
        existing, params.get("spending_controls"), with_currency=False
    )
    # A card's limits are always in the card's own currency (not settable on cards).
    controls["spending_limits_currency"] = currency
    return controls


def wallets(cardholder: Record) -> Record:
    """Wallet eligibility: Apple/Google Pay provisioning needs a way to reach the cardholder."""
    reachable = bool(cardholder.get("email") or cardholder.get("phone_number"))
    reason = None if reachable else "missing_cardholder_contact"
    return {
        "apple_pay": {"eligible": reachable, "ineligible_reason": reason},
        "google_pay": {"eligible": reachable, "ineligible_reason": reason},
        "primary_account_identifier": None,
    }


# -- update and status --------------------------------------------------------


def update(existing: Record, params: dict[str, Any]) -> Record:
    """Apply an update request; validates everything before changing the copy."""
    _check_update(existing, params)
    record = copy.deepcopy(existing)
    if "status" in params and params["status"] != record["status"]:
        if params["status"] == "canceled":
            record = cancel(record, params.get("cancellation_reason"))
        else:
            record["status"] = params["status"]
    if "shipping" in params:
        record["shipping"] = new_shipping(params["shipping"])
    for field in ("financial_account", "personalization_design"):
        if field in params:
            record[field] = params[field] or None
    record["metadata"] = metadata.apply(record["metadata"], params.get("metadata"))
    if "spending_controls" in params:
        record["spending_controls"] = _controls(
            record["spending_controls"], params, record["currency"]
        )
    return record


def _check_update(card: Record, params: dict[str, Any]) -> None:
    canceled = card["status"] == "canceled"
    if canceled and "status" in params:
        raise InvalidRequest(
            f"The card {card['id']} has been canceled; a canceled card's status cannot be changed.",
            param="status",
        )
    if "cancellation_reason" in params and params.get("status") != "canceled":
        raise InvalidRequest(
            "`cancellation_reason` can only be set when canceling the card (`status=canceled`).",
            param="cancellation_reason",
        )
    for field in ("shipping", "personalization_design"):
        if field in params and card["type"] != "physical":
            raise PhysicalCardsOnly(field)
    if "shipping" in params and (card.get("shipping") or {}).get("status") != "pending":
        raise InvalidRequest(
            "The shipping details can only be changed while the card's shipment is pending.",
            param="shipping",
        )
    frozen = [f for f in ("financial_account", "personalization_design", "pin") if f in params]
    if canceled and frozen:
        raise InvalidRequest(
            f"The card {card['id']} has been canceled; `{frozen[0]}` cannot be changed.",
            param=frozen[0],
        )


def cancel(card: Record, reason: str | None = None) -> Record:
    """The card, canceled (terminal). A shipment not yet handed over is called off too."""
    record = copy.deepcopy(card)
    if record["status"] == "canceled":
        return record
    record["status"] = "canceled"
    record["cancellation_reason"] = reason
    shipping = record.get("shipping")
    if shipping and shipping.get("status") == "pending":
        shipping["status"] = "canceled"
    return record


def activation_cancels_original(before: Record | None, after: Record) -> bool:
    """True when this change activates a replacement whose original must now be canceled."""
    became_active = after["status"] == "active" and (before is None or before["status"] != "active")
    return (
        became_active
        and after.get("replacement_for") is not None
        and after.get("replacement_reason") in CANCELED_ON_ACTIVATION
    )


def mark_replaced(original: Record, replacement: Record) -> Record:
    record = copy.deepcopy(original)
    record["replaced_by"] = replacement["id"]
    return record


# -- shipping -----------------------------------------------------------------

# action -> (statuses it may start from, status it leads to)
SHIPPING_TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": (("pending",), "submitted"),
    "ship": (("pending", "submitted"), "shipped"),
    "deliver": (("shipped",), "delivered"),
    "return": (("shipped", "delivered"), "returned"),
    "fail": (("pending", "submitted", "shipped"), "failure"),
}
# Days from hand-over to expected delivery, per service (Stripe's published ranges, upper end).
TRANSIT_DAYS = {"standard": 8, "express": 4, "priority": 2}
DAY_SECONDS = 86_400


def new_shipping(params: dict[str, Any]) -> Record:
    name = params["name"].strip()
    if not name:
        raise InvalidRequest("The shipping name must not be empty.", param="shipping[name]")
    address = _address(params["address"])
    mode = (params.get("address_validation") or {}).get("mode") or "disabled"
    customs = params.get("customs")
    return {
        "address": address,
        "address_validation": _address_validation(mode, address),
        "business_name": params.get("business_name") or None,
        "carrier": None,
        "customs": {"eori_number": customs.get("eori_number") or None}
        if customs is not None
        else None,
        "delivered_at": None,
        "eta": None,
        "name": name,
        "phone_number": params.get("phone_number") or None,
        "require_signature": params.get("require_signature"),
        "service": params.get("service") or "standard",
        "shipped_at": None,
        "status": "pending",
        "tracking_number": None,
        "tracking_url": None,
        "type": params.get("type") or "individual",
    }


def _address(address: dict[str, Any]) -> Record:
    fields = ("city", "country", "line1", "line2", "postal_code", "state")
    out: Record = {field: ((address.get(field) or "").strip() or None) for field in fields}
    for field in ("country", "state"):
        if out[field]:
            out[field] = str(out[field]).upper()
    return out


def _address_validation(mode: str, address: Record) -> Record:
    if mode == "disabled":
        return {"mode": mode, "normalized_address": None, "result": None}
    # Test mode does no postal lookup: the normalized address is the cleaned input
    # and, when validation is asked for, it is reported deliverable (inferred).
    result = "likely_deliverable" if mode == "validation_and_normalization" else None
    return {"mode": mode, "normalized_address": dict(address), "result": result}


def advance_shipping(card: Record, action: str, now: int) -> Record:
    """Apply one shipping test helper (submit/ship/deliver/return/fail)."""
    shipping = card.get("shipping")
    if card["type"] != "physical" or not shipping:
        raise InvalidRequest(
            f"The card {card['id']} is not a physical card; only physical cards are shipped."
        )
    allowed_from, target = SHIPPING_TRANSITIONS[action]
    current = shipping.get("status")
    if current not in allowed_from:
        raise InvalidRequest(
            f"Cannot {action} the card {card['id']}: its shipping status is `{current}`, and "
            f"`{action}` is only "
            f"possible from {' or '.join(f'`{s}`' for s in allowed_from)}."
        )
    record = copy.deepcopy(card)
    shipping = record["shipping"]
    shipping["status"] = target
    if target == "shipped":
        shipping.update(_shipment(card["id"], shipping, now))
    elif target == "delivered":
        shipping["delivered_at"] = now
    return record


def _shipment(card_id: str, shipping: Record, now: int) -> Record:
    """Carrier and tracking details, derived from the card id so they are stable per card."""
    domestic = (shipping["address"].get("country") or "US") == "US"
    carrier = ("usps" if shipping["service"] == "standard" else "fedex") if domestic else "dhl"
    digest = int(hashlib.sha256(card_id.encode()).hexdigest(), 16)
    if carrier == "usps":
        number = "92" + str(digest)[:20].rjust(20, "0")
        url = f"https://tools.usps.com/go/TrackConfirmAction?tLabels={number}"
    elif carrier == "fedex":
        number = str(digest)[:12].rjust(12, "0")
        url = f"https://www.fedex.com/fedextrack/?trknbr={number}"
    else:
        number = str(digest)[:10].rjust(10, "0")
        url = f"https://www.dhl.com/en/express/tracking.html?AWB={number}"
    return {
        "carrier": carrier,
        "eta": now + TRANSIT_DAYS.get(shipping["service"], TRANSIT_DAYS["standard"]) * DAY_SECONDS,
        "shipped_at": now,
        "tracking_number": number,
        "tracking_url": url,
    }


def filter_keys(record: Record) -> dict[str, Any]:
    return {
        "cardholder": record["cardholder"],
        "status": record["status"],
        "type": record["type"],
        "last4": record["last4"],
        "exp_month": record["exp_month"],
        "exp_year": record["exp_year"],
        "personalization_design": record.get("personalization_design"),
        "financial_account": record.get("financial_account"),
        "replacement_for": record.get("replacement_for"),
    }
