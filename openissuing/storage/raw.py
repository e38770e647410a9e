"""A thin fast path to the DB-API cursor of the current transaction's connection.

The hot path of an authorization runs ~25 small statements; SQLAlchemy Core
spends more time building and caching each statement than SQLite spends
running it. Statements here are plain SQL written once with ``?`` placeholders
(translated to ``%s`` for psycopg), executed on the same connection — so they
are inside the same transaction as everything else the unit of work does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import Connection


@lru_cache(maxsize=512)
def _for_postgres(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


def placeholders(count: int) -> str:
    return ", ".join("?" * count)


class Raw:
    def __init__(self, conn: Connection) -> None:
        dbapi = conn.connection.dbapi_connection
        if dbapi is None:  # a checked-in connection: never the case inside a unit of work
            raise RuntimeError("the connection has no DB-API connection")
        self._dbapi = dbapi
        self._postgres = conn.dialect.name == "postgresql"

    def _sql(self, sql: str) -> str:
        return _for_postgres(sql) if self._postgres else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        cursor = self._dbapi.cursor()
        cursor.execute(self._sql(sql), params)
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        cursor = self._dbapi.cursor()
        cursor.executemany(self._sql(sql), list(rows))
        cursor.close()

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        cursor = self.execute(sql, params)
        row: tuple[Any, ...] | None = cursor.fetchone()
        cursor.close()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        cursor.close()
        return rows
