"""WAL checkpoints run on their own thread (openissuing/storage/checkpoints.py), not in commits:
the log is copied back and, once long, emptied; nothing committed is lost on the way."""

from __future__ import annotations

import os
import sqlite3
import time

from sqlalchemy import text

from openissuing.storage import checkpoints
from openissuing.storage.checkpoints import Checkpointer
from openissuing.storage.db import WAL_SAFETY_NET_PAGES, make_engine
from openissuing.storage.uow import writer_lock


def _engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/wal.sqlite3")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, data TEXT)"))
    return engine


def _write(engine, rows: int) -> None:
    for start in range(0, rows, 50):
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO t (data) VALUES (:data)"),
                [{"data": os.urandom(400).hex()} for _ in range(min(50, rows - start))],
            )


def _wal_pages(tmp_path) -> int:
    wal = tmp_path / "wal.sqlite3-wal"
    return wal.stat().st_size // 4096 if wal.exists() else 0


def test_commits_leave_checkpoints_to_the_thread(tmp_path):
    engine = _engine(tmp_path)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == WAL_SAFETY_NET_PAGES
    _write(engine, 6_000)  # ~1,450 pages: past SQLite's own 1,000-page default
    assert _wal_pages(tmp_path) > 1_000


def test_a_long_log_is_emptied_and_every_row_survives(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "RESET_PAGES", 200)
    engine = _engine(tmp_path)
    _write(engine, 2_000)
    checkpointer = Checkpointer(engine)
    connection = engine.raw_connection()
    try:
        checkpointer.checkpoint(connection)
    finally:
        connection.close()
    assert _wal_pages(tmp_path) == 0
    engine.dispose()
    with make_engine(f"sqlite:///{tmp_path}/wal.sqlite3").connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 2_000


def test_a_short_log_is_copied_but_left_in_place(tmp_path):
    engine = _engine(tmp_path)
    _write(engine, 100)
    before = _wal_pages(tmp_path)
    connection = engine.raw_connection()
    try:
        Checkpointer(engine).checkpoint(connection)
        busy, logged, copied = (
            connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        )
    finally:
        connection.close()
    assert before > 0 and _wal_pages(tmp_path) == before
    assert (busy, copied) == (0, logged)  # everything in the log is in the database file too


def test_the_thread_runs_beside_the_server_and_stops_with_it(tmp_path):
    engine = _engine(tmp_path)
    checkpointer = Checkpointer(engine, interval_seconds=0.01)
    checkpointer.start()
    try:
        deadline = time.monotonic() + 10
        while checkpointer.rounds < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert checkpointer.rounds >= 3
    finally:
        checkpointer.stop()
    assert not checkpointer._thread.is_alive()


def test_no_thread_for_a_database_without_a_log():
    checkpointer = Checkpointer(make_engine("sqlite://"))
    checkpointer.start()
    assert not checkpointer._thread.is_alive()
    checkpointer.stop()


def test_a_reader_never_makes_the_truncate_wait_holding_the_writer_lock(tmp_path, monkeypatch):
    """A long read (check-ledger in another process) must not stall every write: the TRUNCATE
    gives up for this round, the writer lock is free again at once, and a later round empties
    the log once the reader is gone."""
    monkeypatch.setattr(checkpoints, "RESET_PAGES", 200)
    engine = _engine(tmp_path)
    _write(engine, 2_000)
    reader = sqlite3.connect(tmp_path / "wal.sqlite3", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchone()  # holds its snapshot of the log
    checkpointer = Checkpointer(engine)
    connection = checkpointer.connect()
    try:
        started = time.monotonic()
        checkpointer.checkpoint(connection)
        assert time.monotonic() - started < 2
        assert writer_lock(engine).acquire(timeout=0)
        writer_lock(engine).release()
        reader.execute("COMMIT")
        checkpointer.checkpoint(connection)
        assert _wal_pages(tmp_path) == 0
    finally:
        reader.close()
        connection.close()
