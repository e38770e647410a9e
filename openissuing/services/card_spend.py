"""Spend counted against spending limits: signed rows summed over a window."""

from __future__ import annotations

from sqlalchemy import func, insert, select

from openissuing.storage.tables import card_spend
from openissuing.storage.uow import UnitOfWork

_INSERT = insert(card_spend)


def add(uow: UnitOfWork, card: str, cardholder: str, category: str, amount: int, at: int) -> None:
    if amount:
        uow.conn.execute(
            _INSERT,
            {
                "card_id": card,
                "cardholder_id": cardholder,
                "category": category,
                "amount": amount,
                "at": at,
            },
        )


def spent(
    uow: UnitOfWork,
    *,
    card: str | None = None,
    cardholder: str | None = None,
    since: int,
    categories: list[str] | None = None,
) -> int:
    query = select(func.coalesce(func.sum(card_spend.c.amount), 0)).where(card_spend.c.at >= since)
    if card is not None:
        query = query.where(card_spend.c.card_id == card)
    if cardholder is not None:
        query = query.where(card_spend.c.cardholder_id == cardholder)
    if categories:
        query = query.where(card_spend.c.category.in_(categories))
    return int(uow.conn.execute(query).scalar_one())


def has_limits(controls: dict | None) -> bool:
    return bool(controls and controls.get("spending_limits"))
