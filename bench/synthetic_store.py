"""Grow a store fast: N closed authorizations for one card, written straight to the database.

Used by ``bench/authorizations.py --synthetic N`` to show that an
authorization's cost does not depend on how many came before. Going through
the API would take hours for a million; what matters for the hot path is the
size of the tables and their indexes, so rows are written with executemany:
per authorization one document, its three filter keys, its
``issuing_authorization.created`` event with its key, and a hold that was
voided (a pending ledger transfer and its void, so every account total and the
ledger audit stay exactly as they were).
"""

from __future__ import annotations

import json
import time

from sqlalchemy import create_engine, text

from openissuing import ids
from openissuing.wire import registry

BATCH = 20_000


def grow(database_url: str, account: str, card: str, count: int) -> float:
    """Insert ``count`` synthetic authorizations; returns seconds taken."""
    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        cardholder = json.loads(
            conn.execute(text("SELECT data FROM objects WHERE id = :id"), {"id": card}).scalar_one()
        )["cardholder"]
        fa = json.loads(
            conn.execute(text("SELECT data FROM objects WHERE id = :id"), {"id": card}).scalar_one()
        )["financial_account"]
        accounts = dict(
            conn.execute(
                text(
                    "SELECT kind, id FROM ledger_accounts WHERE (reference = :fa AND kind = "
                    "'financial_account') "
                    "OR (reference = :acct AND kind = 'card_network')"
                ),
                {"fa": fa, "acct": account},
            ).all()
        )
    for offset in range(0, count, BATCH):
        size = min(BATCH, count - offset)
        with engine.begin() as conn:
            _batch(conn, account, card, cardholder, accounts, size)
    engine.dispose()
    return time.perf_counter() - started


def _batch(conn, account: str, card: str, cardholder: str, accounts: dict, size: int) -> None:
    now = int(time.time())
    docs, keys, transfers = [], [], []
    for _ in range(size):
        auth_id, event_id = registry.id_for("issuing.authorization"), registry.id_for("event")
        record = {
            "id": auth_id,
            "object": "issuing.authorization",
            "amount": 100,
            "approved": True,
            "card": card,
            "cardholder": cardholder,
            "created": now,
            "currency": "usd",
            "status": "reversed",
            "metadata": {},
            "merchant_data": {"category": "taxicabs_limousines"},
        }
        event = {
            "id": event_id,
            "object": "event",
            "account": account,
            "created": now,
            "type": "issuing_authorization.created",
            "data": {"object": record, "object_type": "issuing.authorization"},
        }
        docs += [
            (auth_id, "issuing.authorization", account, now, json.dumps(record)),
            (event_id, "event", account, now, json.dumps(event)),
        ]
        keys += [
            (auth_id, "card", card),
            (auth_id, "cardholder", cardholder),
            (auth_id, "status", "reversed"),
            (event_id, "type", "issuing_authorization.created"),
        ]
        hold = f"{auth_id}:hold:1"
        common = (accounts["financial_account"], accounts["card_network"], 100, "usd")
        transfers += [
            (hold, *common, "pending", None, auth_id, now, ids.monotonic_micros()),
            (f"{hold}:void", *common, "void_pending", hold, auth_id, now, ids.monotonic_micros()),
        ]
    raw = conn.connection.dbapi_connection.cursor()
    mark = "%s" if conn.dialect.name == "postgresql" else "?"

    def many(sql: str, rows: list) -> None:
        raw.executemany(sql.replace("?", mark), rows)

    many("INSERT INTO objects (id, type, owner, created, data) VALUES (?, ?, ?, ?, ?)", docs)
    many("INSERT INTO object_keys (object_id, name, value) VALUES (?, ?, ?)", keys)
    many(
        "INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, currency, "
        "kind, "
        "pending_id, flow, created, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        transfers,
    )
