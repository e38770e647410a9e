"""The ``server_settings`` rows (name → value) that outlive a restart, such as the secret key."""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine

from openissuing.storage.tables import server_settings


def read(engine: Engine, name: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            select(server_settings.c.value).where(server_settings.c.name == name)
        ).scalar_one_or_none()


def write(engine: Engine, name: str, value: str) -> None:
    """Replace the value (one transaction: delete then insert works on every engine)."""
    with engine.begin() as conn:
        conn.execute(delete(server_settings).where(server_settings.c.name == name))
        conn.execute(insert(server_settings).values(name=name, value=value))
