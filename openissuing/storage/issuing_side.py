"""Repositories for the Issuing side tables: authorization expiries and card spend.

Both are indexes kept beside the documents (see ``storage.tables``): the
expiry rows list pending authorizations by deadline, so "what is due?" is one
indexed read; the spend rows are signed amounts summed over a window for
spending limits. All their SQL lives here.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection

from openissuing.storage.raw import Raw, placeholders
from openissuing.storage.tables import authorization_expiries, card_spend

_INSERT_EXPIRY = insert(authorization_expiries)
_INSERT_SPEND = insert(card_spend)
_DUE = (
    "SELECT authorization_id FROM authorization_expiries WHERE owner = ? AND expires_at <= ? "
    "ORDER BY expires_at LIMIT ?"
)


class Expiries:
    def __init__(self, conn: Connection, raw: Raw) -> None:
        self._conn, self._raw = conn, raw

    def add(self, authorization_id: str, owner: str, expires_at: int) -> None:
        self._conn.execute(
            _INSERT_EXPIRY,
            {"authorization_id": authorization_id, "owner": owner, "expires_at": expires_at},
        )

    def remove(self, authorization_id: str) -> None:
        self._conn.execute(
            delete(authorization_expiries).where(
                authorization_expiries.c.authorization_id == authorization_id
            )
        )

    def due(self, owner: str, now: int, limit: int) -> list[str]:
        """The ids of ``owner``'s authorizations due by ``now``, oldest deadline first."""
        return [row[0] for row in self._raw.all(_DUE, (owner, now, limit))]


class Spend:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, card: str, cardholder: str, category: str, amount: int, at: int) -> None:
        row = {"card_id": card, "cardholder_id": cardholder, "category": category}
        self._conn.execute(_INSERT_SPEND, {**row, "amount": amount, "at": at})

    def total(
        self,
        *,
        card: str | None,
        cardholder: str | None,
        since: int,
        categories: list[str] | None,
    ) -> int:
        query = select(func.coalesce(func.sum(card_spend.c.amount), 0)).where(
            card_spend.c.at >= since
        )
        if card is not None:
            query = query.where(card_spend.c.card_id == card)
        if cardholder is not None:
            query = query.where(card_spend.c.cardholder_id == cardholder)
        if categories:
            query = query.where(card_spend.c.category.in_(categories))
        return int(self._conn.execute(query).scalar_one())


def enabled_webhook_endpoints(raw: Raw, owners: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """(owner, endpoint) of every enabled webhook endpoint of ``owners``, by id."""
    rows = raw.all(
        "SELECT o.owner, o.data FROM objects o JOIN object_keys k ON k.object_id = o.id "
        f"WHERE o.type = 'webhook_endpoint' AND o.owner IN ({placeholders(len(owners))}) "
        "AND k.name = 'status' AND k.value = 'enabled' ORDER BY o.id",
        tuple(owners),
    )
    return [(owner, json.loads(data)) for owner, data in rows]
