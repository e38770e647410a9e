"""Spending controls as stored on cards and cardholders (validation and shape).

Evaluating them against an authorization belongs to the authorization decision
pipeline; this module only keeps what is stored well-formed.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from openissuing.domain.errors import InvalidRequest

LIST_FIELDS = (
    "allowed_card_presences",
    "allowed_categories",
    "allowed_merchant_countries",
    "blocked_card_presences",
    "blocked_categories",
    "blocked_merchant_countries",
)
EXCLUSIVE_PAIRS = (
    ("allowed_categories", "blocked_categories"),
    ("allowed_merchant_countries", "blocked_merchant_countries"),
    ("allowed_card_presences", "blocked_card_presences"),
)


def empty(with_currency: bool) -> dict[str, Any]:
    controls: dict[str, Any] = {
        "allowed_card_presences": None,
        "allowed_categories": [],
        "allowed_merchant_countries": [],
        "blocked_card_presences": None,
        "blocked_categories": [],
        "blocked_merchant_countries": [],
        "spending_limits": [],
    }
    if with_currency:
        controls["spending_limits_currency"] = None
    return controls


def apply(
    existing: dict[str, Any], update: Any, *, with_currency: bool, param: str = "spending_controls"
) -> dict[str, Any]:
    """Merge validated params into stored controls; ``""`` on a list clears it."""
    if update is None:
        return existing
    controls = dict(existing)
    if update == "":
        return empty(with_currency)
    for field in LIST_FIELDS:
        if field in update:
            value = update[field]
            cleared: list[str] | None = [] if field.endswith(("categories", "countries")) else None
            controls[field] = cleared if value == "" else list(value)
    if "spending_limits" in update:
        limits = update["spending_limits"]
        controls["spending_limits"] = (
            []
            if limits == ""
            else [_limit(item, f"{param}[spending_limits][{i}]") for i, item in enumerate(limits)]
        )
    if with_currency and "spending_limits_currency" in update:
        controls["spending_limits_currency"] = update["spending_limits_currency"] or None
        if controls["spending_limits_currency"]:
            controls["spending_limits_currency"] = controls["spending_limits_currency"].lower()
    for allowed, blocked in EXCLUSIVE_PAIRS:
        if controls.get(allowed) and controls.get(blocked):
            raise InvalidRequest(
                f"You may only specify one of these parameters: {allowed}, {blocked}.",
                code="parameters_exclusive",
                param=f"{param}[{blocked}]",
            )
    for field in ("allowed_merchant_countries", "blocked_merchant_countries"):
        controls[field] = [country.upper() for country in controls.get(field) or []]
    return controls


def _limit(item: dict[str, Any], param: str) -> dict[str, Any]:
    amount = item["amount"]
    if amount < 0:
        raise InvalidRequest(
            "This value must be greater than or equal to 0.", param=f"{param}[amount]"
        )
    categories = item.get("categories")
    return {
        "amount": amount,
        "categories": None if categories in (None, "") else list(categories),
        "interval": item["interval"],
    }


# ------------------------------------------------------------------ evaluation

INTERVALS = ("per_authorization", "daily", "weekly", "monthly", "yearly", "all_time")


def window_start(interval: str, now: int) -> int | None:
    """Start of the limit's window (midnight UTC based); None for per_authorization."""
    if interval == "per_authorization":
        return None
    if interval == "all_time":
        return 0
    day = _dt.datetime.fromtimestamp(now, _dt.UTC).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    if interval == "weekly":
        day -= _dt.timedelta(days=day.weekday())
    elif interval == "monthly":
        day = day.replace(day=1)
    elif interval == "yearly":
        day = day.replace(month=1, day=1)
    return int(day.timestamp())


def blocks(
    controls: dict[str, Any] | None,
    *,
    amount: int,
    category: str,
    country: str | None,
    card_presence: str,
    now: int,
    spent: Callable[[int, list[str] | None], int],
) -> bool:
    """True when these controls decline the request.

    ``spent(since, categories)`` returns what was already counted against this
    card or cardholder since ``since`` (optionally only in those categories).
    A limit applies only when its categories include the request's (or it has
    none); the most restrictive applicable limit wins by simply checking all.
    """
    if not controls:
        return False
    if controls.get("allowed_categories") and category not in controls["allowed_categories"]:
        return True
    if category in (controls.get("blocked_categories") or []):
        return True
    country = (country or "").upper()
    if (
        controls.get("allowed_merchant_countries")
        and country not in controls["allowed_merchant_countries"]
    ):
        return True
    if country and country in (controls.get("blocked_merchant_countries") or []):
        return True
    if (
        controls.get("allowed_card_presences")
        and card_presence not in controls["allowed_card_presences"]
    ):
        return True
    if card_presence in (controls.get("blocked_card_presences") or []):
        return True
    for limit in controls.get("spending_limits") or []:
        categories = limit.get("categories")
        if categories and category not in categories:
            continue
        since = window_start(limit["interval"], now)
        already = 0 if since is None else spent(since, categories)
        if already + amount > limit["amount"]:
            return True
    return False
