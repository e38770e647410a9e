"""Issue 11, fault 1: the database refuses a ledger total beyond 2**62, and check-ledger
reports an overflowed or malformed ledger (written before that bound) instead of crashing."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic import command
from sqlalchemy import text

from openissuing.domain.ledger import Kind, Transfer
from openissuing.services import ledger
from openissuing.storage.db import make_engine
from openissuing.storage.migrate import alembic_config, upgrade
from openissuing.storage.uow import transaction

HUGE = 2**63 - 1


def _cli(url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "openissuing.cli", "check-ledger", "--database-url", url],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _upgrade_to(engine, revision: str) -> None:
    config = alembic_config()
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()


# ISO 4217's code for testing: these amounts go through the process-wide metrics too, and a
# usd counter at 2**61 could no longer count the 1,000 of a later test (a float's precision).
CURRENCY = "xts"


def _move(amounts: list[int]):
    def work(uow):
        fa = ledger.account_id(uow, ledger.FINANCIAL_ACCOUNT, "fa_1", CURRENCY, 0)
        ach = ledger.account_id(uow, ledger.external("ach"), "acct_1", CURRENCY, 0)
        ledger.execute(
            uow,
            [
                Transfer(f"t{i}", ach, fa, amount, CURRENCY, Kind.POSTED)
                for i, amount in enumerate(amounts)
            ],
            0,
        )
        return fa

    return work


def test_an_overflowed_ledger_is_reported_not_crashed_on(tmp_path):
    """What issue 11 reproduced: credits of 2**63-1 and 1 on SQLite, before the bound."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = make_engine(url)
    _upgrade_to(engine, "0003")
    fa = transaction(engine, _move([HUGE]))
    transaction(engine, _move([HUGE, 1]))  # t0 exists; t1 overflows the totals into a REAL
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ledger_transfers SELECT 'bad', debit_account_id, "
                "credit_account_id, 'lots', currency, kind, NULL, flow, created, 99 "
                "FROM ledger_transfers WHERE id = 't0'"
            )
        )
    # An existing (broken) database still upgrades; the check then names the damage.
    upgrade(engine)
    result = _cli(url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert f"account {fa}: stored credits_posted=9.223372036854776e+18 is not an integer" in (
        result.stderr
    )
    assert "transfer t0: amount 9223372036854775807 is not a positive integer" in result.stderr
    assert "transfer bad: amount 'lots' is not a positive integer" in result.stderr
    assert "ledger check FAILED" in result.stderr
    engine.dispose()


def test_the_database_refuses_totals_beyond_the_bound(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    transaction(engine, _move([2**61]))
    with pytest.raises(Exception, match="out of range"):
        transaction(engine, _move([2**61, 2**61 + 1]))
    with pytest.raises(Exception, match="out of range"):
        with engine.begin() as conn:
            conn.execute(text("UPDATE ledger_accounts SET credits_posted = 1.5"))
    assert _cli(url).returncode == 0
    engine.dispose()


def test_check_ledger_on_a_database_without_a_ledger_reports_it(tmp_path):
    import sqlite3

    path = tmp_path / "empty.sqlite3"  # a database that exists, with no ledger in it
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE unrelated (id INTEGER)")
    conn.close()
    result = _cli(f"sqlite:///{path}")
    # A read-only command on a database with no openissuing schema says so, names the file and
    # exits 2 (it never creates or migrates anything).
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "has no openissuing schema" in result.stderr and str(path) in result.stderr
