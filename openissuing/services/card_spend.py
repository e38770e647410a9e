"""Spend counted against spending limits: signed rows summed over a window."""

from __future__ import annotations

from openissuing.storage.issuing_side import Spend
from openissuing.storage.uow import UnitOfWork


def add(uow: UnitOfWork, card: str, cardholder: str, category: str, amount: int, at: int) -> None:
    if amount:
        Spend(uow.conn).add(card, cardholder, category, amount, at)


def spent(
    uow: UnitOfWork,
    *,
    card: str | None = None,
    cardholder: str | None = None,
    since: int,
    categories: list[str] | None = None,
) -> int:
    return Spend(uow.conn).total(
        card=card, cardholder=cardholder, since=since, categories=categories
    )


def has_limits(controls: dict | None) -> bool:
    return bool(controls and controls.get("spending_limits"))
