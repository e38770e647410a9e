"""`openissuing check-ledger` names what is wrong and exits non-zero; silent and 0 when sound."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import text

from openissuing.domain.ledger import Kind, Transfer
from openissuing.services import ledger
from openissuing.storage.db import make_engine
from openissuing.storage.migrate import upgrade
from openissuing.storage.uow import transaction


def _cli(url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "openissuing.cli", "check-ledger", "--database-url", url],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_ledger_passes_then_names_a_tampered_total(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)

    def move(uow):
        fa = ledger.account_id(uow, ledger.FINANCIAL_ACCOUNT, "fa_1", "usd", 0)
        ach = ledger.account_id(uow, ledger.external("ach"), "acct_1", "usd", 0)
        ledger.execute(uow, [Transfer("t1", ach, fa, 500, "usd", Kind.POSTED)], 0)
        return fa

    fa = transaction(engine, move)
    sound = _cli(url)
    assert sound.returncode == 0, sound.stderr
    assert "ledger balances" in sound.stdout

    # Someone edits a running total behind the ledger's back.
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE ledger_accounts SET credits_posted = 400 WHERE id = :id"), {"id": fa}
        )
    broken = _cli(url)
    assert broken.returncode == 1
    assert f"account {fa}: stored credits_posted=400 but its transfers sum to 500" in broken.stderr
    assert "usd: posted debits 500 != posted credits 400" in broken.stderr
    engine.dispose()


def test_transfers_cannot_be_changed_or_deleted(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)

    def move(uow):
        fa = ledger.account_id(uow, ledger.FINANCIAL_ACCOUNT, "fa_1", "usd", 0)
        ach = ledger.account_id(uow, ledger.external("ach"), "acct_1", "usd", 0)
        ledger.execute(uow, [Transfer("t1", ach, fa, 500, "usd", Kind.POSTED)], 0)

    transaction(engine, move)
    for statement in ("UPDATE ledger_transfers SET amount = 1", "DELETE FROM ledger_transfers"):
        try:
            with engine.begin() as conn:
                conn.execute(text(statement))
        except Exception as error:  # noqa: BLE001 - the trigger's refusal is what we want
            assert "immutable" in str(error)
        else:
            raise AssertionError(f"{statement} was allowed")
    engine.dispose()
