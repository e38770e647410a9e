"""OPENISSUING_ISOLATION=serializable: what CockroachDB and YugabyteDB need, proven on PostgreSQL.

Every transaction runs SERIALIZABLE, none takes an advisory lock, and a unit of work the database
aborts (40001) runs again. ``scripts/test``'s third pass runs the contract and property tests in
this mode; the first test here says which mode the suite's own server is in, so that pass cannot
silently run READ COMMITTED.
"""

from __future__ import annotations

import os
import threading

import pytest

from openissuing.storage.db import is_serializable, make_engine
from openissuing.storage.ledger_store import LedgerStore
from openissuing.storage.uow import SERIALIZABLE_RETRY_SECONDS, transaction

SERIALIZABLE_RUN = os.environ.get("OPENISSUING_ISOLATION") == "serializable"


def _postgres(server) -> str:
    if not server.database_url.startswith("postgres"):
        pytest.skip("the isolation setting is PostgreSQL's (SQLite has one writer at a time)")
    return server.runtime.settings.sqlalchemy_url()


def test_the_suites_server_runs_in_the_configured_mode(server):
    url = _postgres(server)
    assert server.runtime.settings.isolation == (
        "serializable" if SERIALIZABLE_RUN else "read_committed"
    )
    assert is_serializable(server.runtime.engine) is SERIALIZABLE_RUN
    level = transaction(
        server.runtime.engine,
        lambda uow: uow.conn.exec_driver_sql("SHOW transaction_isolation").scalar(),
        write=False,
    )
    assert level == ("serializable" if SERIALIZABLE_RUN else "read committed")
    assert url.startswith("postgresql+psycopg://")


def _advisory_locks_taken(engine, account_ids: list[str]) -> int:
    def work(uow):
        LedgerStore(uow.conn).lock(account_ids)
        return uow.conn.exec_driver_sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        ).scalar()

    return transaction(engine, work)


def _some_ledger_accounts(engine) -> list[str]:
    return transaction(
        engine,
        lambda uow: [
            row[0]
            for row in uow.conn.exec_driver_sql(
                "SELECT id FROM ledger_accounts ORDER BY id LIMIT 3"
            ).all()
        ],
        write=False,
    )


def test_serializable_mode_takes_no_advisory_lock_and_read_committed_queues_fairly(server, client):
    url = _postgres(server)
    from tests.contract.test_concurrent_authorizations import _setup

    _setup(client)  # a funded financial account: ledger accounts to lock
    serializable = make_engine(url, "serializable")
    read_committed = make_engine(url, "read_committed")
    try:
        wanted = _some_ledger_accounts(serializable)
        assert wanted
        assert _advisory_locks_taken(serializable, wanted) == 0
        assert _advisory_locks_taken(read_committed, wanted) == len(wanted)
    finally:
        serializable.dispose()
        read_committed.dispose()


def test_a_serialization_failure_is_run_again_until_it_commits(server):
    """Two read-then-write transactions on one row, overlapping on purpose: SERIALIZABLE aborts
    one with 40001, and transaction() runs it again; both increments land."""
    url = _postgres(server)
    engine = make_engine(url, "serializable")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS oi_isolation_probe (n bigint)")
        conn.exec_driver_sql("DELETE FROM oi_isolation_probe")
        conn.exec_driver_sql("INSERT INTO oi_isolation_probe VALUES (0)")
    both_read = threading.Barrier(2, timeout=10)
    runs: list[int] = []

    def increment(uow) -> None:
        runs.append(1)
        n = uow.conn.exec_driver_sql("SELECT n FROM oi_isolation_probe").scalar()
        if len(runs) <= 2:
            both_read.wait()  # the first two runs both read before either writes
        uow.conn.exec_driver_sql("UPDATE oi_isolation_probe SET n = %(n)s", {"n": n + 1})

    try:
        threads = [threading.Thread(target=transaction, args=(engine, increment)) for _ in "ab"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT n FROM oi_isolation_probe").scalar() == 2
        assert len(runs) == 3  # one of the first two was aborted and ran once more
        assert SERIALIZABLE_RETRY_SECONDS >= 10
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE oi_isolation_probe")
        engine.dispose()
