"""Engine creation for SQLite (embedded default) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def is_serializable(engine: Engine) -> bool:
    """True when every transaction runs SERIALIZABLE (``OPENISSUING_ISOLATION=serializable``)."""
    return engine in _SERIALIZABLE


_SERIALIZABLE: weakref.WeakSet[Engine] = weakref.WeakSet()


# Each connection's own automatic WAL checkpoint threshold (pages of 4 KiB), far above the log
# storage/checkpoints.py lets grow: a bound on the log for a process that runs no checkpointer.
WAL_SAFETY_NET_PAGES = 20_000

_BEGIN = {"IMMEDIATE": "BEGIN IMMEDIATE", "DEFERRED": "BEGIN DEFERRED"}


def make_engine(
    url: str, isolation: str = "read_committed", *, sqlite_synchronous: str = "normal"
) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url, sqlite_synchronous)
    # read_committed: READ COMMITTED plus row locks (SELECT … FOR UPDATE) in a canonical order.
    # serializable: every transaction SERIALIZABLE, as CockroachDB and YugabyteDB run them; the
    # database then aborts (40001) whatever could not have run one at a time, and the unit of
    # work runs it again. Either way the code never relies on anything but the database.
    serializable = isolation == "serializable"
    engine = create_engine(
        url,
        pool_size=20,
        max_overflow=20,
        # No ping before each checkout (a round trip per transaction): a connection the server
        # dropped fails its first statement, is invalidated, and the unit of work runs again on
        # a fresh one (storage.uow, "a connection lost before the commit").
        pool_pre_ping=False,
        isolation_level="SERIALIZABLE" if serializable else "READ COMMITTED",
    )
    if serializable:
        _SERIALIZABLE.add(engine)
    return engine


def _sqlite_engine(url: str, synchronous: str = "normal") -> Engine:
    if synchronous.lower() not in ("normal", "full"):
        raise ValueError(f"sqlite synchronous must be normal or full, not {synchronous!r}")
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=StaticPool if in_memory else None,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event emit BEGIN itself (pysqlite's own
        # transaction handling defers BEGIN and breaks IMMEDIATE locking).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            # The server checkpoints from its own thread (storage/checkpoints.py), not in commits.
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_SAFETY_NET_PAGES}")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")  # see Settings
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the database write lock up front, so two read-modify-write
        # transactions can never interleave (SQLite's answer to FOR UPDATE).
        mode = conn.info.get("sqlite_begin", "IMMEDIATE")
        # On the DB-API connection itself: SQLAlchemy's statement machinery costs more than
        # SQLite takes to begin, and this runs once per request.
        conn.connection.dbapi_connection.execute(_BEGIN[mode])  # type: ignore[union-attr]

    return engine


def unanswered(engine: Engine) -> str | None:
    """None when the database answers ``SELECT 1``, else why not (one line): /healthz."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1").scalar_one()
    except Exception as error:  # noqa: BLE001 - any failure is the health answer
        lines = [line for line in str(error).splitlines() if line.strip()]
        return lines[0] if lines else type(error).__name__
    return None
