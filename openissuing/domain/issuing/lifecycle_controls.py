"""Lifecycle controls: a virtual card that cancels itself after ``payment_count`` payments.

What counts as a payment (Stripe's guide, "Issuing lifecycle controls"):

* an approved authorization of more than 1 USD, counted when it is approved;
* an approved authorization of 1 USD or less, counted only when it is captured (many
  merchants send such "penny" authorizations to test a card and never capture them);
* a force capture (a capture with no authorization).

Declines, increments, reversals, expiries and refunds are not payments. At most
``payment_count`` uncaptured small authorizations are allowed: one more is declined. When
the count reaches ``payment_count`` the card is canceled, and every later authorization is
declined as ``card_canceled`` (its open authorizations can still be captured).

The count lives on the card, private (``_lifecycle``): the payments so far and the ids of the
approved small authorizations not captured yet.
"""

from __future__ import annotations

import copy
from typing import Any

Record = dict[str, Any]
# "1 USD or less", in the card's minor units (Issuing cards here are USD cards).
SMALL_AMOUNT = 100


def limit(card: Record) -> int | None:
    controls = card.get("lifecycle_controls") or {}
    return (controls.get("cancel_after") or {}).get("payment_count")


def _state(card: Record) -> Record:
    return card.get("_lifecycle") or {"payments": 0, "uncaptured_small": []}


def payments(card: Record) -> int:
    return int(_state(card)["payments"])


def is_small(amount: int) -> bool:
    return amount <= SMALL_AMOUNT


def small_authorization_refused(card: Record, amount: int) -> bool:
    """True when this small authorization would exceed the uncaptured ones allowed."""
    allowed = limit(card)
    if allowed is None or not is_small(amount):
        return False
    return len(_state(card)["uncaptured_small"]) >= allowed


def approved(card: Record, authorization_id: str, amount: int) -> Record:
    """The card after an approval: a payment now, or a small authorization awaiting capture."""
    if limit(card) is None:
        return card
    state = copy.deepcopy(_state(card))
    if is_small(amount):
        state["uncaptured_small"].append(authorization_id)
    else:
        state["payments"] += 1
    return {**card, "_lifecycle": state}


def captured(card: Record, authorization_id: str | None) -> Record:
    """The card after a capture: a force capture (no authorization) or the first capture of a
    small authorization is a payment; a capture of a counted authorization is not another."""
    if limit(card) is None:
        return card
    state = copy.deepcopy(_state(card))
    if authorization_id is None:
        state["payments"] += 1
    elif authorization_id in state["uncaptured_small"]:
        state["uncaptured_small"].remove(authorization_id)
        state["payments"] += 1
    else:
        return card
    return {**card, "_lifecycle": state}


def reached(card: Record) -> bool:
    allowed = limit(card)
    return allowed is not None and payments(card) >= allowed
