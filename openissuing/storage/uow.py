"""Unit of work: one database transaction that rolls back unless committed.

``transaction(engine, work)`` runs ``work(uow)`` and commits; on PostgreSQL it
retries the whole unit on serialization failures and deadlocks, which is what
makes the same code correct on SERIALIZABLE-only engines (CockroachDB, …).
"""

from __future__ import annotations

import contextlib
import logging
import random
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from openissuing.storage import raw
from openissuing.storage.db import is_serializable
from openissuing.storage.documents import Documents

T = TypeVar("T")
log = logging.getLogger("openissuing.storage")

_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected

# How long a unit of work keeps running again before its error is the answer. Under READ
# COMMITTED only deadlocks and RunAgain come back, rarely: 8 attempts. Under SERIALIZABLE every
# transaction that met a concurrent writer of the same rows is aborted, and on one hot account
# only one of the concurrent writers wins each round, so a count is the wrong budget: an unlucky
# one may lose dozens of rounds in a row (16 concurrent purchases on one account through two
# processes: a budget of 40 attempts ran out, a 500). It runs again, with jittered exponential
# backoff capped at 100 ms, for up to 30 s; tests/contract/test_multiprocess_servers.py proves
# the budget (the worst request seen there needed 33 attempts).
ATTEMPTS = 8
SERIALIZABLE_RETRY_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 0.1


class RunAgain(Exception):
    """Raised inside a unit of work that detected it lost a race: roll back and run it again.

    For a check made without a lock and confirmed under one (see
    ``services.money.execute_last``): the re-run sees the winner's commit.
    """


class UnitOfWork:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.docs = Documents(conn)
        # Callbacks to run only once the transaction has committed (never inside it).
        self.after_commit: list[Callable[[], None]] = []
        # Objects rendered for an event in this transaction, by id (services.presenter reuses
        # one for the response when nothing was written since, instead of rendering it twice).
        self.rendered: dict[str, Any] = {}


def _driver_error(error: Exception) -> Exception | None:
    """The DB-API exception behind ``error``: SQLAlchemy wraps its own statements' errors, while
    statements sent on the raw cursor (storage/raw.py) raise the driver's exception itself."""
    if isinstance(error, DBAPIError):
        return error.orig
    if isinstance(error, sqlite3.Error) or type(error).__module__.startswith("psycopg"):
        return error
    return None


def is_integrity_error(error: BaseException) -> bool:
    """A constraint refused a write (a primary key taken by a concurrent request, ...), whether
    SQLAlchemy sent the statement or the raw cursor did (then the driver's own exception)."""
    if isinstance(error, IntegrityError | sqlite3.IntegrityError):
        return True
    return type(error).__module__.startswith("psycopg") and str(
        getattr(error, "sqlstate", "") or ""
    ).startswith("23")


def _is_retryable(error: Exception) -> bool:
    if isinstance(error, RunAgain):
        return True
    orig = _driver_error(error)
    if orig is None:
        return False
    if getattr(orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    return isinstance(orig, sqlite3.OperationalError) and "database is locked" in str(orig)


@event.listens_for(Engine, "before_cursor_execute")
def _flush_before_sqlalchemy_statements(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
    """Statements sent through SQLAlchemy see the documents a unit of work buffered."""
    raw.before_statement(conn.connection.dbapi_connection, statement)


def _connection_lost(conn: Connection) -> bool:
    """The DB-API connection under ``conn`` is broken (PostgreSQL: closed or ``broken``)."""
    if conn.invalidated:
        return True
    try:
        dbapi = conn.connection.dbapi_connection
    except Exception:  # noqa: BLE001 - a connection SQLAlchemy already gave up on
        return True
    return bool(getattr(dbapi, "broken", False) or getattr(dbapi, "closed", False) is True)


_sqlite_writers: dict[int, threading.Lock] = {}


def writer_lock(engine: Engine) -> threading.Lock | contextlib.nullcontext[None]:
    """One SQLite writer at a time per process, queued fairly in Python.

    SQLite allows one writer anyway; without this, threads of one server
    would wait in SQLite's busy handler, which sleeps and polls (latency
    spikes of a second or more at concurrency 8+). Other processes sharing
    the file still wait through busy_timeout.
    """
    if engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    return _sqlite_writers.setdefault(id(engine), threading.Lock())


_kept = threading.local()


def keep_connections_on_this_thread() -> None:
    """From now on, units of work on the calling thread reuse one connection per engine
    instead of taking one from the pool and giving it back each time.

    For the event loop's thread when it runs the requests' SQLite transactions itself
    (api.pipeline, ``inline_database``): SQLAlchemy's checkout, its Connection and the check-in
    (with its reset) were a tenth of an authorization's CPU. The connection is held by that one
    thread for good; one that breaks is replaced at the next unit of work.
    """
    if not hasattr(_kept, "connections"):
        _kept.connections = weakref.WeakKeyDictionary()


def _connect(engine: Engine) -> tuple[Connection, bool]:
    """A connection for one unit of work, and whether the unit of work must close it."""
    kept = getattr(_kept, "connections", None)
    if kept is None:
        return engine.connect(), True
    conn = kept.get(engine)
    if conn is None or conn.closed or conn.invalidated:
        conn = kept[engine] = engine.connect()
    return conn, False


def transaction(
    engine: Engine,
    work: Callable[[UnitOfWork], T],
    *,
    write: bool = True,
    attempts: int | None = None,
) -> T:
    deadline = None
    if attempts is None:
        attempts = ATTEMPTS
        if is_serializable(engine):
            attempts = 1_000_000  # the deadline below is the budget
            deadline = time.monotonic() + SERIALIZABLE_RETRY_SECONDS
    for attempt in range(attempts):
        committing = lost = False
        try:
            conn, owned = _connect(engine)
            with (
                writer_lock(engine) if write else contextlib.nullcontext(),
                conn if owned else contextlib.nullcontext(),
            ):
                if engine.dialect.name == "sqlite":
                    conn.info["sqlite_begin"] = "IMMEDIATE" if write else "DEFERRED"
                try:
                    with conn.begin():
                        uow = UnitOfWork(conn)
                        unregister = raw.register(conn, uow.docs)
                        try:
                            result = work(uow)
                            uow.docs.flush()  # the buffered documents, before the commit
                        finally:
                            unregister()
                        committing = True  # leaving this block commits
                except Exception:
                    lost = _connection_lost(conn)
                    if lost:  # the server went away: so did every idle connection to it
                        conn.invalidate()
                        engine.pool.dispose()
                    raise
            for callback in uow.after_commit:
                callback()
            return result
        except Exception as error:  # noqa: BLE001 - only retryable database errors are retried
            out_of_time = deadline is not None and time.monotonic() > deadline
            # A connection lost before the commit was sent (the server restarted, an idle
            # timeout; the pool does not ping before each checkout): nothing of this unit of
            # work was written, so it runs again on a fresh one. Lost during the commit, the
            # outcome is unknown and the error is the answer.
            again = _is_retryable(error) or (lost and not committing)
            if attempt + 1 == attempts or out_of_time or not again:
                raise
            log.info(
                "retrying a transaction (attempt %d) after: %s",
                attempt + 2,
                type(_driver_error(error) or error).__name__,
            )
            # A read that had to write (e.g. an overdue expiry) lost the race to
            # upgrade its SQLite snapshot; run it again as a writer from the start.
            write = True
            time.sleep(random.uniform(0, min(BACKOFF_CAP_SECONDS, 0.005 * 2 ** min(attempt, 10))))
    raise AssertionError("unreachable")  # the loop either returns or raises
