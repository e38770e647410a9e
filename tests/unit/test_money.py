"""The money primitive (services.money) on in-memory SQLite: named results become named errors.

Exceeding the cash is the one expected ledger failure (``InsufficientFunds``, or a re-run of the
unit of work when the batch runs last); every other rejection is a bug (``LedgerBug``, a 500),
never a decline. Treasury impacts are those of the batch that executed.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from openissuing.domain.errors import InsufficientFunds
from openissuing.domain.ledger import Impact
from openissuing.domain.ledger import money as movements
from openissuing.services import money
from openissuing.storage import tables
from openissuing.storage.uow import RunAgain, UnitOfWork


@pytest.fixture
def uow():
    engine = create_engine("sqlite://")
    tables.metadata.create_all(engine)
    with engine.connect() as conn, conn.begin():
        yield UnitOfWork(conn)
    engine.dispose()


@pytest.fixture
def funded(uow):
    """A financial account with 5,000 of cash, credited through the primitive."""
    ach = money.pair(uow, "acct_1", "fa_1", "USD", "ach", 0)
    trail = money.Trail("acct_1", "fa_1", "received_credit", "rc_1", "in", "received_credit")
    trxn = money.post(uow, trail, ach, movements.credit(ach, "rc_1", 5_000, "rc_1"), 1)
    assert (trxn["status"], trxn["amount"]) == ("posted", 5_000)
    return money.pair(uow, "acct_1", "fa_1", "usd", money.CARD, 0)


def test_counterparties_are_per_network(uow, funded):
    ach = money.pair(uow, "acct_1", "fa_1", "usd", "ach", 0)
    assert ach.customer == funded.customer and ach.counterparty != funded.counterparty


def test_a_hold_beyond_the_cash_is_insufficient_funds_and_writes_nothing(uow, funded):
    with pytest.raises(InsufficientFunds) as raised:
        money.execute(
            uow, funded, movements.hold(funded, "h1", 5_001, "f", require_available=True), 2
        )
    assert (raised.value.code, raised.value.param) == ("insufficient_funds", None)
    assert money.execute(
        uow, funded, movements.hold(funded, "h1", 5_000, "f", require_available=True), 2
    ) == Impact(cash=-5_000, outbound_pending=5_000)


def test_any_other_rejection_is_a_bug_not_a_decline(uow, funded):
    live = movements.Hold("h1", 1_000)
    money.execute(uow, funded, movements.hold(funded, "h1", 1_000, "f", require_available=True), 2)
    money.execute(uow, funded, movements.release(funded, live, "f"), 3)
    # Settling a hold already released: pending_transfer_already_resolved.
    with pytest.raises(money.LedgerBug, match="already_resolved"):
        money.execute(uow, funded, movements.settle(funded, live, 500, "f"), 4)


def test_a_batch_run_last_that_loses_the_race_runs_the_unit_again(uow, funded):
    batch = movements.hold(funded, "h1", 6_000, "f", require_available=True)
    with pytest.raises(RunAgain):
        money.execute_last(uow, funded, batch, 2)


def test_a_step_writes_its_entry_from_what_executed(uow, funded):
    hold = movements.hold(funded, "h1", 2_000, "auth_1", require_available=True)
    trail = money.Trail("acct_1", "fa_1", "issuing_authorization", "auth_1", "d", "hold")
    trxn = money.open_transaction(uow, trail, funded, hold.impact(funded.customer), 2, posted=False)
    money.execute_last(uow, funded, hold, 2)
    grow = movements.resize(
        funded, movements.Hold("h1", 2_000), movements.Hold("h2", 3_000), "auth_1",
        require_available=True,
    )  # fmt: skip
    impact = money.step(
        uow, "acct_1", trxn["id"], funded, grow, 3, held="hold", released="release", closing=False
    )
    assert impact == Impact(cash=-1_000, outbound_pending=1_000)
    release = movements.release(funded, movements.Hold("h2", 3_000), "auth_1")
    money.step(
        uow, "acct_1", trxn["id"], funded, release, 4, held="hold", released="release", closing=True
    )
    stored = uow.docs.get("treasury.transaction", trxn["id"], "acct_1")
    assert (stored["status"], stored["amount"]) == ("void", 0)


def test_the_outbound_payment_example_of_the_architecture_doc(uow, funded):
    """docs/ARCHITECTURE.md ("Money"): hold on create, settle on post, release on cancel, a new
    credit on return — each step one call, the Treasury trail following the ledger."""
    ach = money.pair(uow, "acct_1", "fa_1", "usd", "ach", 0)
    trail = money.Trail("acct_1", "fa_1", "outbound_payment", "obp_1", "rent", "outbound_payment")

    # create: hold the amount (the ledger checks the cash under its lock)
    hold = movements.hold(ach, "obp_1:hold", 3_000, "obp_1", require_available=True)
    trxn = money.open_transaction(
        uow, trail, ach, money.execute(uow, ach, hold, 2), 2, posted=False
    )
    # post: settle the hold in full; the transaction is posted
    live = movements.Hold("obp_1:hold", 3_000)
    kinds = {"held": "outbound_payment", "released": "outbound_payment"}
    settled = money.step(
        uow, "acct_1", trxn["id"], ach, movements.settle(ach, live, 3_000, "obp_1"), 3,
        posting=True, **kinds,
    )  # fmt: skip
    assert settled == Impact(cash=0, outbound_pending=-3_000)
    stored = uow.docs.get("treasury.transaction", trxn["id"], "acct_1")
    assert (stored["status"], stored["amount"]) == ("posted", -3_000)
    # return: a new credit, its own posted transaction
    back = money.Trail("acct_1", "fa_1", "outbound_payment", "obp_1", "rent", "returned")
    money.post(uow, back, ach, movements.credit(ach, "obp_1:return", 3_000, "obp_1"), 4)

    # a second payment, canceled: release the hold; the transaction comes back to 0 and is void
    hold2 = movements.hold(ach, "obp_2:hold", 1_000, "obp_2", require_available=True)
    trail2 = money.Trail("acct_1", "fa_1", "outbound_payment", "obp_2", "x", "outbound_payment")
    trxn2 = money.open_transaction(
        uow, trail2, ach, money.execute(uow, ach, hold2, 5), 5, posted=False
    )
    money.step(
        uow, "acct_1", trxn2["id"], ach,
        movements.release(ach, movements.Hold("obp_2:hold", 1_000), "obp_2"), 6,
        closing=True, **kinds,
    )  # fmt: skip
    stored = uow.docs.get("treasury.transaction", trxn2["id"], "acct_1")
    assert (stored["status"], stored["amount"]) == ("void", 0)
    with pytest.raises(InsufficientFunds):
        money.execute(uow, ach, movements.hold(ach, "h", 5_001, "f", require_available=True), 7)
