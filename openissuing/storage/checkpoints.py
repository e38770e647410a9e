"""SQLite's WAL checkpoints, off the request path.

In WAL mode a commit appends its pages to the write-ahead log; a *checkpoint* copies them back
into the database file and syncs both (fsync, even with ``synchronous=NORMAL``). By default
SQLite runs one inside whichever commit finds the log past 1,000 pages, so one request in a few
hundred paid for everyone's. Measured on this machine's disk (eight inserts per transaction,
3,000 transactions): a commit took a median 70 µs but a mean 280 µs, one in a hundred ~9 ms.

Here the commits leave checkpoints to a thread (every connection's ``wal_autocheckpoint`` is
raised to ``db.WAL_SAFETY_NET_PAGES``, so a process that runs no checkpointer, a CLI command,
still checkpoints eventually). Every ``INTERVAL_SECONDS`` it runs a PASSIVE checkpoint, which
neither waits for nor blocks readers and writers (the sqlite3 module releases the GIL while it
copies and syncs). A PASSIVE checkpoint never shortens the log, though, and under a steady
stream of writes the log only grows; so once it passes ``RESET_PAGES`` the thread takes the
process's writer lock (storage.uow) and runs a TRUNCATE checkpoint: what remains to copy is
what was written since the last round, and the log starts again from empty. Same benchmark
with the thread: commit mean 150-190 µs, p99 0.3-0.6 ms.

Durability does not change: a commit is in the log, and the log is what recovery reads.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy.engine import Engine

from openissuing.storage.uow import writer_lock

log = logging.getLogger("openissuing.storage")

INTERVAL_SECONDS = 1.0  # fewer, larger rounds: each round's fsyncs stall commits a moment
# The log's length (pages of 4 KiB, ~16 MB) past which a round also empties it.
RESET_PAGES = 4_000
# How long a TRUNCATE checkpoint waits for readers before it gives up for this round.
BUSY_TIMEOUT_MS = 20


def applies(engine: Engine) -> bool:
    """A file database in WAL mode (an in-memory one has no log)."""
    database = engine.url.database
    return engine.dialect.name == "sqlite" and bool(database) and database != ":memory:"


def _never_wait_for_readers(connection: Any) -> None:
    """A TRUNCATE checkpoint waits for readers through the busy handler, and it holds the
    process's writer lock meanwhile: a long reader (``openissuing check-ledger`` in another
    process) would stall every write. With a short busy timeout it gives up instead, and the
    log is emptied at a later round."""
    cursor = connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


class Checkpointer:
    """A daemon thread checkpointing the WAL every ``interval_seconds``."""

    def __init__(self, engine: Engine, interval_seconds: float = INTERVAL_SECONDS) -> None:
        self.engine = engine
        self.interval_seconds = interval_seconds
        self.rounds = 0  # checkpoints run (tests read it)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="openissuing-checkpointer", daemon=True
        )

    def start(self) -> None:
        if applies(self.engine):
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        connection: Any = None
        while not self._stop.wait(self.interval_seconds):
            try:
                if connection is None:
                    connection = self.connect()
                self.checkpoint(connection)
            except Exception:  # noqa: BLE001 - a failed round is retried; commits still go on
                log.exception("WAL checkpoint failed")
                if connection is not None:
                    connection.invalidate()
                    connection = None
        if connection is not None:
            connection.close()

    def connect(self) -> Any:
        """The thread's own DB-API connection: detached from the pool (closed at the end, never
        handed to a request), and never waiting long for a reader."""
        connection = self.engine.raw_connection()
        connection.detach()
        _never_wait_for_readers(connection)
        return connection

    def checkpoint(self, connection: Any) -> None:
        """One round: copy what the log holds; empty the log once it has grown long."""
        if self._run(connection, "PASSIVE") >= RESET_PAGES:
            with writer_lock(self.engine):
                self._run(connection, "TRUNCATE")
        self.rounds += 1

    @staticmethod
    def _run(connection: Any, mode: str) -> int:
        """The log's length in pages after a checkpoint in ``mode`` (a TRUNCATE that meets a
        reader gives up: ``_never_wait_for_readers``)."""
        cursor = connection.cursor()
        try:
            _busy, logged, _copied = cursor.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        finally:
            cursor.close()
        return int(logged)
