"""Webhook endpoints' signing secrets (``webhook_endpoint_secrets``), sealed by the caller's box.

Never in the endpoint's JSON document; read only by the dispatcher and the real-time call.
"""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from openissuing.storage.tables import webhook_endpoint_secrets


def store(conn: Connection, endpoint_id: str, sealed: bytes) -> None:
    conn.execute(
        insert(webhook_endpoint_secrets).values(endpoint_id=endpoint_id, secret_encrypted=sealed)
    )


def sealed(conn: Connection, endpoint_id: str) -> bytes | None:
    value = conn.execute(
        select(webhook_endpoint_secrets.c.secret_encrypted).where(
            webhook_endpoint_secrets.c.endpoint_id == endpoint_id
        )
    ).scalar_one_or_none()
    return None if value is None else bytes(value)
