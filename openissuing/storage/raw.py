"""A thin fast path to the DB-API cursor of the current transaction's connection.

The hot path of an authorization runs ~20 small statements; SQLAlchemy Core
spends more time building and caching each statement than SQLite spends
running it. Statements here are plain SQL written once with ``?`` placeholders
(translated to ``%s`` for psycopg), executed on the same connection — so they
are inside the same transaction as everything else the unit of work does.

**Buffered document writes.** ``storage.documents`` keeps the objects a unit of
work inserts or updates in memory and writes them as multi-row statements when
something may look at them: before any other statement on the connection, and
at commit. The buffer is registered here per DB-API connection for the unit of
work's lifetime (``register`` / ``unregister``), and every statement sent here or
through SQLAlchemy on that connection first flushes it — unless its caller
declares it ``independent``: it neither reads nor writes ``objects`` and
``object_keys`` nor references them, nor reads what was deferred (the ledger),
so the buffered rows cannot change its answer. Writes that nothing reads back
before the commit (card spend, expiry rows, the idempotency record) are
``defer``red into the same buffer and sent with the documents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy.engine import Connection


class Buffer(Protocol):
    def before(self, sql: str) -> None:
        """Called before a statement that is not independent of the buffered documents."""

    def defer(self, sql: str, params: Sequence[Any]) -> None:
        """Keep a write for the next flush, after the buffered documents."""


# DB-API connection (by id) → the write buffer of the unit of work running on it. A DB-API
# connection serves one unit of work at a time, in one thread.
_buffers: dict[int, Buffer] = {}


def register(conn: Connection, buffer: Buffer) -> Callable[[], None]:
    """Route this connection's statements through ``buffer`` until the returned call."""
    key = id(conn.connection.dbapi_connection)
    _buffers[key] = buffer

    def unregister() -> None:
        if _buffers.get(key) is buffer:
            del _buffers[key]

    return unregister


def before_statement(dbapi_connection: Any, sql: str) -> None:
    """For statements sent by SQLAlchemy itself (its ``before_cursor_execute`` event)."""
    buffer = _buffers.get(id(dbapi_connection))
    if buffer is not None:
        buffer.before(sql)


@lru_cache(maxsize=512)
def _for_postgres(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


def placeholders(count: int) -> str:
    return ", ".join("?" * count)


@lru_cache(maxsize=256)
def values_rows(columns: int, rows: int) -> str:
    """``(?, ?), (?, ?)``: the VALUES of a multi-row INSERT."""
    row = "(" + placeholders(columns) + ")"
    return ", ".join([row] * rows)


class Raw:
    def __init__(self, conn: Connection) -> None:
        dbapi = conn.connection.dbapi_connection
        if dbapi is None:  # a checked-in connection: never the case inside a unit of work
            raise RuntimeError("the connection has no DB-API connection")
        self._dbapi = dbapi
        self._key = id(dbapi)
        self.postgres = conn.dialect.name == "postgresql"

    @property
    def dbapi(self) -> Any:
        return self._dbapi

    def _sql(self, sql: str) -> str:
        return _for_postgres(sql) if self.postgres else sql

    def _before(self, sql: str, independent: bool) -> None:
        if not independent:
            buffer = _buffers.get(self._key)
            if buffer is not None:
                buffer.before(sql)

    def execute(self, sql: str, params: Sequence[Any] = (), *, independent: bool = False) -> Any:
        self._before(sql, independent)
        cursor = self._dbapi.cursor()
        cursor.execute(self._sql(sql), params)
        return cursor

    def run(self, sql: str, params: Sequence[Any] = (), *, independent: bool = False) -> int:
        """Execute a statement that returns no rows; its row count."""
        cursor = self.execute(sql, params, independent=independent)
        count: int = cursor.rowcount
        cursor.close()
        return count

    def defer(self, sql: str, params: Sequence[Any]) -> None:
        """A write nothing in this transaction reads back except through a statement that
        flushes (one not declared independent): kept with the buffered documents and sent with
        them, in order, at the next flush (on PostgreSQL in the same round trip). Executed at
        once outside a unit of work."""
        buffer = _buffers.get(self._key)
        if buffer is None:
            self.run(sql, params)
        else:
            buffer.defer(sql, params)

    def executemany(
        self, sql: str, rows: Iterable[Sequence[Any]], *, independent: bool = False
    ) -> None:
        self._before(sql, independent)
        cursor = self._dbapi.cursor()
        cursor.executemany(self._sql(sql), list(rows))
        cursor.close()

    def one(
        self, sql: str, params: Sequence[Any] = (), *, independent: bool = False
    ) -> tuple[Any, ...] | None:
        cursor = self.execute(sql, params, independent=independent)
        row: tuple[Any, ...] | None = cursor.fetchone()
        cursor.close()
        return row

    def all(
        self, sql: str, params: Sequence[Any] = (), *, independent: bool = False
    ) -> list[tuple[Any, ...]]:
        cursor = self.execute(sql, params, independent=independent)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        cursor.close()
        return rows
