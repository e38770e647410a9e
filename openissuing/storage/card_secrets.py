"""The sealed card numbers and CVCs (``card_secrets``), read for an explicit reveal only."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from openissuing.storage.tables import card_secrets


def sealed(conn: Connection, card_id: str) -> tuple[bytes, bytes] | None:
    """(sealed number, sealed cvc) of a card; opening them is the caller's (it holds the box)."""
    row = conn.execute(
        select(card_secrets.c.number_encrypted, card_secrets.c.cvc_encrypted).where(
            card_secrets.c.card_id == card_id
        )
    ).first()
    return None if row is None else (row[0], row[1])


def store(conn: Connection, card_id: str, number_sealed: bytes, cvc_sealed: bytes) -> None:
    """Written once, in the card's create transaction; sealed by the caller's box."""
    conn.execute(
        insert(card_secrets).values(
            card_id=card_id, number_encrypted=number_sealed, cvc_encrypted=cvc_sealed
        )
    )
