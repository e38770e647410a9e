"""Repositories for the Issuing side tables: authorization expiries and card spend.

Both are indexes kept beside the documents (see ``storage.tables``): the
expiry rows list pending authorizations by deadline, so "what is due?" is one
indexed read; the spend rows are signed amounts summed over a window for
spending limits. All their SQL lives here.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.engine import Connection

from openissuing.storage import outbox
from openissuing.storage.documents import Documents
from openissuing.storage.raw import Raw, placeholders

# Plain SQL on the transaction's cursor, deferred to the unit of work's flush (storage/raw.py):
# both tables are written on every authorization, and read only by statements that flush.
_INSERT_EXPIRY = (
    "INSERT INTO authorization_expiries (authorization_id, owner, expires_at) VALUES (?, ?, ?)"
)
_INSERT_SPEND = (
    "INSERT INTO card_spend (card_id, cardholder_id, category, amount, at) VALUES (?, ?, ?, ?, ?)"
)
_DUE = (
    "SELECT authorization_id FROM authorization_expiries WHERE owner = ? AND expires_at <= ? "
    "ORDER BY expires_at LIMIT ?"
)


class Expiries:
    def __init__(self, conn: Connection, raw: Raw) -> None:
        self._conn, self._raw = conn, raw

    def add(self, authorization_id: str, owner: str, expires_at: int) -> None:
        self._raw.defer(_INSERT_EXPIRY, (authorization_id, owner, expires_at))

    def remove(self, authorization_id: str) -> None:
        self._raw.defer(
            "DELETE FROM authorization_expiries WHERE authorization_id = ?", (authorization_id,)
        )

    def due(self, owner: str, now: int, limit: int) -> list[str]:
        """The ids of ``owner``'s authorizations due by ``now``, oldest deadline first."""
        return [row[0] for row in self._raw.all(_DUE, (owner, now, limit))]


class Spend:
    def __init__(self, conn: Connection, raw: Raw | None = None) -> None:
        self._conn = conn
        self._raw = raw or Raw(conn)

    def add(self, card: str, cardholder: str, category: str, amount: int, at: int) -> None:
        self._raw.defer(_INSERT_SPEND, (card, cardholder, category, amount, at))

    def total(
        self,
        *,
        card: str | None,
        cardholder: str | None,
        since: int,
        categories: list[str] | None,
    ) -> int:
        sql = "SELECT COALESCE(SUM(amount), 0) FROM card_spend WHERE at >= ?"
        params: list[Any] = [since]
        if card is not None:
            sql += " AND card_id = ?"
            params.append(card)
        if cardholder is not None:
            sql += " AND cardholder_id = ?"
            params.append(cardholder)
        if categories:
            sql += f" AND category IN ({placeholders(len(categories))})"
            params.extend(categories)
        row = self._raw.one(sql, params)  # flushes: deferred spend rows count
        return 0 if row is None else int(row[0])


def enabled_webhook_endpoints(
    docs: Documents, owners: list[str]
) -> list[tuple[str, dict[str, Any]]]:
    """(owner, endpoint) of every enabled webhook endpoint of ``owners``, by id: the same
    read as the event fan-out's (``outbox.enabled_endpoints``), so a transaction pays once."""
    return [
        (owner, orjson.loads(data))
        for owner, data in outbox.enabled_endpoints(docs, "webhook_endpoint", owners)
    ]
