"""The authorization lifecycle (openissuing.domain.issuing.lifecycle), table-driven and pure.

Each row runs a sequence of operations on a fresh authorization and checks the
status, the last request's reason and the financial account's ``cash`` and
``outbound_pending`` afterwards. The money is real ledger arithmetic: every
plan's hold change is turned into a batch by the money primitive's builders
(``domain.ledger.money``) and applied to in-memory accounts with the ledger's
own ``check``/``effect``, exactly as ``services.ledger.execute`` does, so a
plan that the ledger would refuse fails here as it does on the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from openissuing.domain import ledger
from openissuing.domain.errors import (
    AmountNotPositive,
    AmountTooLarge,
    InsufficientFunds,
    InvalidStatusTransition,
)
from openissuing.domain.issuing import authorizations as auth
from openissuing.domain.issuing import lifecycle, realtime
from openissuing.domain.ledger import Account, Result, Totals
from openissuing.domain.ledger import money as movements

PAIR = movements.Pair("la_fa", "la_net", "usd")
START_CASH = 10_000


@dataclass
class World:
    """One authorization and the two ledger accounts it moves money between."""

    cash: int = START_CASH
    accounts: dict[str, Account] = field(default_factory=dict)
    transfers: dict[str, ledger.Transfer] = field(default_factory=dict)
    resolved: set[str] = field(default_factory=set)
    record: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    def __post_init__(self) -> None:
        self.accounts = {
            "la_fa": Account("la_fa", "usd", Totals(credits_posted=self.cash)),
            "la_net": Account("la_net", "usd"),
        }
        self.record = {
            "id": "iauth_1",
            "status": "closed",
            "amount": 0,
            "merchant_amount": 0,
            "_held": 0,
            "_hold_id": None,
            "_hold_seq": 0,
            "_captured": 0,
        }

    def execute(self, batch: movements.Batch) -> None:
        """All or nothing, as services.ledger.execute: raise InsufficientFunds, write nothing."""
        accounts, written = dict(self.accounts), []
        for transfer in batch.transfers:
            pending = self.transfers.get(transfer.pending_id or "")
            debit, credit = accounts[transfer.debit_account], accounts[transfer.credit_account]
            result = ledger.check(
                transfer, debit, credit, self.transfers.get(transfer.id), pending,
                (transfer.pending_id or "") in self.resolved,
            )  # fmt: skip
            if result is Result.EXCEEDS_AVAILABLE:
                raise InsufficientFunds()
            assert result is Result.OK, result
            d, c = ledger.effect(transfer, pending)
            accounts[debit.id] = Account(debit.id, "usd", ledger.add(debit.totals, d))
            accounts[credit.id] = Account(credit.id, "usd", ledger.add(credit.totals, c))
            written.append(transfer)
        self.accounts = accounts
        for transfer in written:
            self.transfers[transfer.id] = transfer
            if transfer.pending_id:
                self.resolved.add(transfer.pending_id)

    def carry_out(self, plan: lifecycle.Plan, *, posted: int = 0) -> None:
        change = plan.hold
        batch = movements.Batch()
        if change is not None:
            batch = movements.resize(
                PAIR, change.live, change.new, "iauth_1", require_available=change.require_available
            )
        if posted:  # a capture's received debit (overdraft allowed)
            batch = batch + movements.debit(
                PAIR, f"rd_{len(self.transfers)}", posted, "rd", require_available=False
            )
        self.execute(batch)
        lifecycle.apply(self.record, plan)

    @property
    def state(self) -> lifecycle.State:
        return lifecycle.State.of(self.record, new=self.record.get("_new", False))

    def balance(self) -> ledger.Impact:
        return ledger.balance_of(self.accounts["la_fa"].totals)


def _approve(w: World, amount: int) -> None:
    w.record["_new"] = True
    try:
        plan = lifecycle.approve(w.state, amount, auth.APPROVED)
        w.carry_out(plan)
    except InsufficientFunds:  # the server re-runs and its pre-check declines: same plan
        plan = lifecycle.decline(w.state, amount, auth.INSUFFICIENT_FUNDS)
        w.carry_out(plan)
    w.reason = plan.decision.reason
    w.record["_new"] = False


def _increment(w: World, added: int) -> None:
    plan = lifecycle.increment(w.state, added, auth.APPROVED)
    try:
        w.carry_out(plan)
        w.reason = plan.decision.reason
    except InsufficientFunds:
        declined = lifecycle.increment(w.state, added, auth.INSUFFICIENT_FUNDS)
        w.carry_out(declined)
        w.reason = declined.decision.reason


def _capture(w: World, amount: int | None, close: bool = True) -> None:
    plan = lifecycle.capture(w.state, amount, close)
    w.carry_out(plan, posted=plan.captured - w.record["_captured"])


OPS = {
    "approve": _approve,
    "increment": _increment,
    "reverse": lambda w, amount=None: w.carry_out(lifecycle.reverse(w.state, amount)),
    "finalize": lambda w, final: w.carry_out(lifecycle.finalize(w.state, final)),
    "expire": lambda w: w.carry_out(lifecycle.expire(w.state)),
    "capture": _capture,
}

# (steps, status, reason of the last request, cash, outbound_pending)
ROWS = [
    ([("approve", 1_000)], "pending", "card_active", 9_000, 1_000),
    ([("approve", 10_000)], "pending", "card_active", 0, 10_000),
    ([("approve", 10_001)], "closed", "insufficient_funds", 10_000, 0),
    ([("approve", 1_000), ("reverse",)], "reversed", "card_active", 10_000, 0),
    ([("approve", 1_000), ("reverse", 400)], "pending", "card_active", 9_400, 600),
    (
        [("approve", 1_000), ("reverse", 400), ("reverse", 600)],
        "reversed",
        "card_active",
        10_000,
        0,
    ),
    ([("approve", 1_000), ("increment", 500)], "pending", "card_active", 8_500, 1_500),
    ([("approve", 1_000), ("increment", 9_000)], "pending", "card_active", 0, 10_000),
    ([("approve", 1_000), ("increment", 9_001)], "pending", "insufficient_funds", 9_000, 1_000),
    ([("approve", 1_000), ("finalize", 700)], "pending", "card_active", 9_300, 700),
    ([("approve", 1_000), ("finalize", 10_000)], "pending", "card_active", 0, 10_000),
    ([("approve", 1_000), ("expire",)], "expired", "card_active", 10_000, 0),
    ([("approve", 1_000), ("capture", None)], "closed", "card_active", 9_000, 0),
    ([("approve", 1_000), ("capture", 1_200)], "closed", "card_active", 8_800, 0),
    ([("approve", 1_000), ("capture", 300, False)], "pending", "card_active", 9_000, 700),
    ([("approve", 1_000), ("capture", 1_000, False)], "closed", "card_active", 9_000, 0),
    (
        [("approve", 1_000), ("capture", 300, False), ("reverse",)],
        "closed",
        "card_active",
        9_700,
        0,
    ),
    (
        [("approve", 1_000), ("capture", 300, False), ("expire",)],
        "expired",
        "card_active",
        9_700,
        0,
    ),
    # A capture may overdraw (the platform covers it), a hold never does.
    ([("approve", 10_000), ("capture", 12_000)], "closed", "card_active", -2_000, 0),
]


@pytest.mark.parametrize(("steps", "status", "reason", "cash", "outbound_pending"), ROWS)
def test_lifecycle(steps, status, reason, cash, outbound_pending):
    w = World()
    for op, *args in steps:
        OPS[op](w, *args)
    balance = w.balance()
    assert (w.record["status"], w.reason, balance.cash, balance.outbound_pending) == (
        status,
        reason,
        cash,
        outbound_pending,
    )


def test_counted_spend_follows_the_hold_and_the_captures():
    w = World()
    spend = 0
    for plan_for in (
        lambda s: lifecycle.approve(s, 1_000, auth.APPROVED),
        lambda s: lifecycle.increment(s, 500, auth.APPROVED),
        lambda s: lifecycle.capture(s, 200, False),
        lambda s: lifecycle.reverse(s, 300),
    ):
        w.record["_new"] = w.record["_hold_id"] is None
        plan = plan_for(w.state)
        w.record["_new"] = False
        spend += plan.spend
        w.carry_out(plan, posted=plan.captured - w.record["_captured"])
    # 1,500 authorized; 200 captured; 1,000 still held (1,300 left after the capture, less 300).
    assert spend == 200 + w.record["_held"] == 1_200


ERRORS = [
    ("reverse", (0,), AmountNotPositive, "reverse_amount"),
    ("reverse", (1_001,), AmountTooLarge, "reverse_amount"),
    ("increment", (0, auth.APPROVED), AmountNotPositive, "increment_amount"),
    ("finalize", (-5,), AmountNotPositive, "final_amount"),
    ("capture", (0, True), AmountNotPositive, "capture_amount"),
]


@pytest.mark.parametrize(("op", "args", "error", "param"), ERRORS)
def test_invalid_requests_are_named_errors_and_plan_nothing(op, args, error, param):
    w = World()
    _approve(w, 1_000)
    with pytest.raises(error) as raised:
        getattr(lifecycle, op)(w.state, *args)
    assert (raised.value.param, raised.value.code) == (param, error.code)


@pytest.mark.parametrize(
    "op", [lambda s: lifecycle.reverse(s, None), lambda s: lifecycle.expire(s)]
)
@pytest.mark.parametrize("status", ["closed", "reversed", "expired"])
def test_only_pending_authorizations_change(op, status):
    w = World()
    _approve(w, 1_000)
    w.record["status"] = status
    with pytest.raises(InvalidStatusTransition) as raised:
        op(w.state)
    assert raised.value.code == "status_transition_invalid"
    assert raised.value.param == "authorization"


def test_the_one_transition_table():
    assert lifecycle.transition(None, "pending") == "pending"
    assert lifecycle.transition("pending", "expired") == "expired"
    for final in ("closed", "reversed", "expired"):
        assert lifecycle.TRANSITIONS[final] == frozenset()
    with pytest.raises(InvalidStatusTransition):
        lifecycle.transition(None, "reversed")


def test_hold_ids_are_never_reused():
    w = World()
    _approve(w, 1_000)
    first = w.record["_hold_id"]
    _increment(w, 100)
    OPS["finalize"](w, 900)
    assert len({first, w.record["_hold_id"]}) == 2
    assert w.record["_hold_id"] == "iauth_1:hold:3"


def test_settle_posts_part_of_a_hold_and_releases_the_rest():
    """The primitive's settle (used by flows that post their own hold, e.g. outbound payments)."""
    w = World()
    w.execute(movements.hold(PAIR, "h1", 1_000, "f", require_available=True))
    live = movements.Hold("h1", 1_000)
    batch = movements.settle(PAIR, live, 600, "f")
    assert batch.impact("la_fa") == ledger.Impact(cash=400, outbound_pending=-1_000)
    w.execute(batch)
    assert (w.balance().cash, w.balance().outbound_pending) == (START_CASH - 600, 0)


def test_reverse_is_a_new_transfer_the_other_way():
    w = World()
    batch = movements.debit(PAIR, "d1", 700, "f", require_available=True)
    w.execute(batch)
    w.execute(movements.reverse(batch.transfers[0], "d1:reversal", 700, "f"))
    assert w.balance().cash == START_CASH
    assert set(w.transfers) == {"d1", "d1:reversal"}


# The real-time conclusion: (the platform's answer, controllable, cash spent meanwhile)
#   -> status, reason, cash, outbound_pending, for a request of 1,000 on 10,000 of cash.
CONCLUSIONS = [
    ({"approved": True}, False, 0, "pending", "webhook_approved", 9_000, 1_000),
    ({"approved": True, "amount": 400}, True, 0, "pending", "webhook_approved", 9_600, 400),
    ({"approved": True, "amount": 400}, False, 0, "pending", "webhook_approved", 9_000, 1_000),
    ({"approved": False}, False, 0, "closed", "webhook_declined", 10_000, 0),
    (None, False, 0, "closed", "webhook_timeout", 10_000, 0),
    # The cash went while the platform thought: the pre-check declines, nothing is held.
    ({"approved": True}, False, 9_500, "closed", "insufficient_funds", 500, 0),
    ({"approved": True, "amount": 400}, True, 9_500, "pending", "webhook_approved", 100, 400),
]


@pytest.mark.parametrize(
    ("answer", "controllable", "spent", "status", "reason", "cash", "outbound_pending"),
    CONCLUSIONS,
)
def test_realtime_conclusion(answer, controllable, spent, status, reason, cash, outbound_pending):
    w = World(cash=START_CASH)
    if spent:
        w.execute(movements.debit(PAIR, "elsewhere", spent, "other", require_available=True))
    w.record["status"] = lifecycle.transition(None, lifecycle.PENDING)  # stored while asking
    outcome = realtime.decide(
        realtime.Reply(timed_out=answer is None),
        answer,
        requested=1_000,
        amount_controllable=controllable,
        timeout_approves=False,
    )
    plan = lifecycle.conclude(
        w.state, outcome.decision, outcome.amount, 1_000, available=w.balance().cash
    )
    w.carry_out(plan)
    balance = w.balance()
    assert (w.record["status"], plan.decision.reason, balance.cash, balance.outbound_pending) == (
        status,
        reason,
        cash,
        outbound_pending,
    )
