"""Money in, as pure rules (``domain.treasury.inbound``) and as ledger movements.

Table-driven: which received credits can be reversed and why not (Stripe's table of
``restricted_reason`` × deadline), the inbound transfer's lifecycle (every action from every
state), the statement descriptor, the gates of a financial account; and the incoming hold
(``expect`` / ``settle(incoming=True)`` / ``release(incoming=True)``) against the ledger's own
arithmetic on in-memory SQLite.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from openissuing.domain.errors import (
    FeatureNotEnabled,
    FinancialAccountNotOpen,
    InvalidRequest,
    InvalidStatusTransition,
    ReversalRestricted,
)
from openissuing.domain.ledger import Impact
from openissuing.domain.ledger import money as movements
from openissuing.domain.treasury import inbound
from openissuing.services import money
from openissuing.storage import tables
from openissuing.storage.uow import UnitOfWork

NOW = 1_000_000
DEADLINE = NOW + 100


def _credit(network="ach", status="succeeded", deadline=DEADLINE, **linked):
    return {
        "id": "rc_1",
        "network": network,
        "status": status,
        "reversal_details": {"deadline": deadline, "restricted_reason": None},
        "linked_flows": {"credit_reversal": None, "source_flow_type": None, **linked},
    }


@pytest.mark.parametrize(
    ("credit", "now", "reason", "deadline"),
    [
        (_credit(), NOW, None, DEADLINE),
        (_credit(), DEADLINE, None, DEADLINE),  # the deadline itself is still inside
        (_credit(), DEADLINE + 1, "deadline_passed", DEADLINE),
        (_credit(credit_reversal="credrev_1"), NOW, "already_reversed", DEADLINE),
        (_credit(credit_reversal="credrev_1"), DEADLINE + 1, "already_reversed", DEADLINE),
        (_credit(status="failed"), NOW, "other", DEADLINE),
        (_credit("us_domestic_wire", deadline=None), NOW, "network_restricted", None),
        (_credit("rtp", deadline=None), NOW, "network_restricted", None),
        (_credit("card", deadline=None), NOW, "network_restricted", None),
        # a stored deadline on a non-ACH credit (older records) is not shown
        (_credit("us_domestic_wire"), NOW, "network_restricted", None),
        (_credit("stripe", deadline=None), NOW, "source_flow_restricted", None),
        (
            _credit("stripe", deadline=None, source_flow_type="outbound_transfer"),
            NOW,
            "source_flow_restricted",
            None,
        ),
        (_credit("stripe", deadline=None, source_flow_type="outbound_payment"), NOW, None, None),
        (_credit(deadline=None), NOW + 10**9, None, None),  # no deadline: reversible anytime
    ],
)
def test_reversal_details(credit, now, reason, deadline):
    assert inbound.reversal_details(credit, now) == {
        "deadline": deadline,
        "restricted_reason": reason,
    }
    if reason is None:
        inbound.check_reversible(credit, now)
    else:
        with pytest.raises(ReversalRestricted) as raised:
            inbound.check_reversible(credit, now)
        assert (raised.value.reason, raised.value.param) == (reason, "received_credit")


def _transfer(status="processing", returned=False):
    return {
        "id": "ibt_1",
        "status": status,
        "cancelable": status == "processing",
        "returned": returned,
        "failure_details": None,
        "linked_flows": {"received_debit": None},
        "status_transitions": {"canceled_at": None, "failed_at": None, "succeeded_at": None},
    }


STATES = {
    "processing": _transfer(),
    "succeeded": _transfer("succeeded"),
    "returned": _transfer("succeeded", returned=True),
    "failed": _transfer("failed"),
    "canceled": _transfer("canceled"),
}
# (state, action) -> (status after, money moved); absent: refused
ALLOWED = {
    ("processing", "succeed"): ("succeeded", "settle"),
    ("processing", "fail"): ("failed", "release"),
    ("processing", "cancel"): ("canceled", "release"),
    ("succeeded", "return"): ("succeeded", "return"),
}


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("action", ["succeed", "fail", "cancel", "return"])
def test_inbound_transfer_lifecycle(state, action):
    record = STATES[state]
    expected = ALLOWED.get((state, action))
    if expected is None:
        with pytest.raises(InvalidStatusTransition):
            inbound.plan(record, action)
        return
    step = inbound.plan(record, action)
    assert (step.status, step.money) == expected
    after = inbound.carry_out(
        record, step, NOW, failure_code="no_account" if action == "fail" else None,
        received_debit="rd_1" if action == "return" else None,
    )  # fmt: skip
    assert after["status"] == expected[0] and after["cancelable"] is False
    assert record["status"] == STATES[state]["status"]  # the input is left alone
    stamps = after["status_transitions"]
    if action == "return":
        assert after["returned"] is True and after["linked_flows"]["received_debit"] == "rd_1"
        assert stamps == record["status_transitions"]
    else:
        assert stamps[f"{after['status']}_at"] == NOW
        assert after["returned"] is False
    assert after["failure_details"] == ({"code": "no_account"} if action == "fail" else None)


def test_fail_without_a_code_is_other():
    step = inbound.plan(_transfer(), "fail")
    assert inbound.carry_out(_transfer(), step, NOW)["failure_details"] == {"code": "other"}


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "transfer"), ("", "transfer"), ("Rent #4", "Rent #4"), ("a-b.c$&*", "a-b.c$&*")],
)
def test_statement_descriptor(value, shown):
    assert inbound.statement_descriptor(value) == shown


@pytest.mark.parametrize("value", ["eleven char", "no!", "tab\there", "ünïcode"])
def test_statement_descriptor_refused(value):
    with pytest.raises(InvalidRequest) as raised:
        inbound.statement_descriptor(value)
    assert raised.value.param == "statement_descriptor"


def _fa(status="open", active=("inbound_transfers.ach",), **extra):
    return {
        "id": "fa_1",
        "status": status,
        "active_features": list(active),
        "pending_features": [],
        "restricted_features": [],
        "platform_restrictions": {"inbound_flows": None, "outbound_flows": None},
        "supported_currencies": ["usd"],
        **extra,
    }


@pytest.mark.parametrize(
    ("fa", "error", "words"),
    [
        (_fa(status="closed"), FinancialAccountNotOpen, "closed"),
        (_fa(active=()), FeatureNotEnabled, "not requested"),
        (_fa(active=(), pending_features=["inbound_transfers.ach"]), FeatureNotEnabled, "pending"),
        (
            _fa(active=(), restricted_features=["inbound_transfers.ach"]),
            FeatureNotEnabled,
            "restricted",
        ),
        (
            _fa(
                active=(),
                restricted_features=["inbound_transfers.ach"],
                platform_restrictions={"inbound_flows": "restricted"},
            ),
            FeatureNotEnabled,
            "inbound_flows",
        ),
    ],
)
def test_gates(fa, error, words):
    with pytest.raises(error) as raised:
        inbound.check_can_receive(fa, "usd")
    assert raised.value.param == "financial_account" and words in raised.value.message


def test_gates_pass_and_check_the_currency():
    assert inbound.check_can_receive(_fa(), "USD") == "usd"
    with pytest.raises(InvalidRequest) as raised:
        inbound.check_can_receive(_fa(), "eur")
    assert raised.value.param == "currency"


# -- the incoming hold on the ledger ---------------------------------------------------


@pytest.fixture
def uow():
    engine = create_engine("sqlite://")
    tables.metadata.create_all(engine)
    with engine.connect() as conn, conn.begin():
        yield UnitOfWork(conn)
    engine.dispose()


def test_an_expected_credit_is_inbound_pending_until_settled(uow):
    ach = money.pair(uow, "acct_1", "fa_1", "usd", "ach", 0)
    live = movements.Hold("ibt_1:in", 700)
    batch = movements.expect(ach, live.id, live.amount, "ibt_1")
    assert batch.impact(ach.customer) == Impact(inbound_pending=700)
    assert money.execute(uow, ach, batch, 1) == Impact(inbound_pending=700)
    settle = movements.settle(ach, live, live.amount, "ibt_1", incoming=True)
    assert settle.impact(ach.customer) == Impact(cash=700, inbound_pending=-700)
    assert money.execute(uow, ach, settle, 2) == Impact(cash=700, inbound_pending=-700)
    # cash that arrived can be spent
    spend = movements.debit(ach, "rd_1", 700, "rd_1", require_available=True)
    assert money.execute(uow, ach, spend, 3) == Impact(cash=-700)


def test_an_expected_credit_released_leaves_nothing(uow):
    ach = money.pair(uow, "acct_1", "fa_1", "usd", "ach", 0)
    live = movements.Hold("ibt_2:in", 300)
    money.execute(uow, ach, movements.expect(ach, live.id, live.amount, "ibt_2"), 1)
    release = movements.release(ach, live, "ibt_2", incoming=True)
    assert money.execute(uow, ach, release, 2) == Impact(inbound_pending=-300)
    with pytest.raises(money.LedgerBug):  # resolved once only
        money.execute(uow, ach, movements.settle(ach, live, 300, "ibt_2", incoming=True), 3)
