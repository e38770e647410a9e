"""Random sequences of money in — inbound transfers and credit reversals — through the real HTTP
API, against a reference model.

Each example gets a fresh financial account (``inbound_transfers.ach`` active) in one
module-wide onboarded account and runs up to 14 operations: inbound transfers created,
succeeded, failed (with a random code), canceled or returned; received credits on ACH or wire;
credit reversals of a random credit; received debits; the clock moving three days on (ACH
credits stay reversible for five). ``Model`` is a deliberately naive bookkeeper: cash,
inbound_pending, each transfer's status and returned flag, each credit's network, deadline and
reversal. Every operation the model calls illegal must be refused with a 4xx, every legal one
must succeed.

After EVERY step:
1. the API's balances equal the model's (outbound_pending is always 0: reversals post at once);
2. the sum of the account's Treasury transactions' ``balance_impact`` equals the balance;
3. ``audit()`` finds nothing.
At the end, every transfer's status and ``returned`` flag and every credit's
``reversal_details.restricted_reason`` equal the model's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.flows import activated_account, assert_audit_clean, assert_books
from tests.properties.test_ledger_properties import EXAMPLES

DAY = 86400
ACH_WINDOW = 5 * DAY
MAX_STEPS = 14
OPS = [
    "transfer",
    "transfer",
    "succeed",
    "succeed",
    "fail",
    "cancel",
    "return",
    "credit",
    "credit",
    "reverse",
    "reverse",
    "debit",
    "advance",
]
FAILURE_CODES = ["account_closed", "insufficient_funds", "no_account", "other"]


@dataclass
class Shared:
    client: stripe.StripeClient
    server: object
    acct: str

    @property
    def o(self) -> dict:
        return {"stripe_account": self.acct}


@pytest.fixture(scope="module")
def shared(module_server) -> Shared:
    client = module_server.client()
    return Shared(client, module_server, activated_account(client))


@dataclass
class Transfer:
    id: str
    amount: int
    status: str = "processing"
    returned: bool = False


@dataclass
class Credit:
    id: str
    amount: int
    network: str
    deadline: int | None
    reversed: bool = False


@dataclass
class Model:
    cash: int = 0
    inbound_pending: int = 0
    transfers: list[Transfer] = field(default_factory=list)
    credits: list[Credit] = field(default_factory=list)

    def reason(self, credit: Credit, now: int) -> str | None:
        if credit.reversed:
            return "already_reversed"
        if credit.network != "ach":
            return "network_restricted"
        if credit.deadline is not None and now > credit.deadline:
            return "deadline_passed"
        return None


class Runner:
    def __init__(self, shared: Shared) -> None:
        self.s = shared
        self.c = shared.client
        self.model = Model()
        features = {"inbound_transfers": {"ach": {"requested": True}}}
        self.fa = self.c.v1.treasury.financial_accounts.create(
            params={"supported_currencies": ["usd"], "features": features}, options=shared.o
        ).id

    def now(self) -> int:
        return self.s.server.clock.now()

    def refused(self, call, *args, **kwargs) -> None:
        with pytest.raises(stripe.StripeError) as raised:
            call(*args, **kwargs)
        assert 400 <= (raised.value.http_status or 0) < 500, raised.value

    def step(self, op: str, amount: int, pick: int) -> None:
        getattr(self, f"op_{op}")(amount, pick)
        m = self.model
        assert_books(self.c, self.s.acct, self.fa, cash=m.cash, inbound_pending=m.inbound_pending)
        assert_audit_clean(self.s.server)

    def _transfer(self, pick: int) -> Transfer | None:
        ts = self.model.transfers
        return ts[pick % len(ts)] if ts else None

    def op_transfer(self, amount: int, pick: int) -> None:
        ibt = self.c.v1.treasury.inbound_transfers.create(
            params={
                "financial_account": self.fa,
                "amount": amount,
                "currency": "usd",
                "origin_payment_method": "pm_property",
            },
            options=self.s.o,
        )
        self.model.transfers.append(Transfer(ibt.id, amount))
        self.model.inbound_pending += amount

    def _act(self, action: str, pick: int, legal, effect, **params) -> None:
        t = self._transfer(pick)
        if t is None:
            return
        helpers = self.c.v1.test_helpers.treasury.inbound_transfers
        call = {
            "succeed": helpers.succeed,
            "fail": helpers.fail,
            "return": helpers.return_inbound_transfer,
            "cancel": self.c.v1.treasury.inbound_transfers.cancel,
        }[action]
        kwargs = {"params": params} if params else {}
        if not legal(t):
            self.refused(call, t.id, options=self.s.o, **kwargs)
            return
        shown = call(t.id, options=self.s.o, **kwargs)
        effect(t)
        assert (shown.status, shown.returned) == (t.status, t.returned)

    def op_succeed(self, amount: int, pick: int) -> None:
        def effect(t: Transfer) -> None:
            t.status = "succeeded"
            self.model.inbound_pending -= t.amount
            self.model.cash += t.amount

        self._act("succeed", pick, lambda t: t.status == "processing", effect)

    def _drop(self, status: str):
        def effect(t: Transfer) -> None:
            t.status = status
            self.model.inbound_pending -= t.amount

        return effect

    def op_fail(self, amount: int, pick: int) -> None:
        code = FAILURE_CODES[amount % len(FAILURE_CODES)]
        self._act(
            "fail",
            pick,
            lambda t: t.status == "processing",
            self._drop("failed"),
            failure_details={"code": code},
        )

    def op_cancel(self, amount: int, pick: int) -> None:
        self._act("cancel", pick, lambda t: t.status == "processing", self._drop("canceled"))

    def op_return(self, amount: int, pick: int) -> None:
        def effect(t: Transfer) -> None:
            t.returned = True
            self.model.cash -= t.amount  # may overdraw: an ACH return is not refused

        legal = lambda t: t.status == "succeeded" and not t.returned  # noqa: E731
        self._act("return", pick, legal, effect)

    def op_credit(self, amount: int, pick: int) -> None:
        network = "ach" if pick % 3 else "us_domestic_wire"
        credit = self.c.v1.test_helpers.treasury.received_credits.create(
            params={
                "financial_account": self.fa,
                "amount": amount,
                "currency": "usd",
                "network": network,
            },
            options=self.s.o,
        )
        deadline = credit.created + ACH_WINDOW if network == "ach" else None
        self.model.credits.append(Credit(credit.id, amount, network, deadline))
        self.model.cash += amount

    def op_reverse(self, amount: int, pick: int) -> None:
        credits = self.model.credits
        if not credits:
            return
        credit = credits[pick % len(credits)]
        reverse = self.c.v1.treasury.credit_reversals.create
        params = {"received_credit": credit.id}
        if self.model.reason(credit, self.now()) is not None or self.model.cash < credit.amount:
            self.refused(reverse, params=params, options=self.s.o)
            return
        reversal = reverse(params=params, options=self.s.o)
        assert (reversal.status, reversal.amount) == ("posted", credit.amount)
        credit.reversed = True
        self.model.cash -= credit.amount

    def op_debit(self, amount: int, pick: int) -> None:
        debit = self.c.v1.test_helpers.treasury.received_debits.create(
            params={"financial_account": self.fa, "amount": amount, "currency": "usd"}
            | {"network": "ach"},
            options=self.s.o,
        )
        if self.model.cash >= amount:
            assert debit.status == "succeeded"
            self.model.cash -= amount
        else:
            assert (debit.status, debit.failure_code) == ("failed", "insufficient_funds")

    def op_advance(self, amount: int, pick: int) -> None:
        self.s.server.clock.advance(3 * DAY)

    def finish(self) -> None:
        o = self.s.o
        now = self.now()
        for t in self.model.transfers:
            shown = self.c.v1.treasury.inbound_transfers.retrieve(t.id, options=o)
            assert (shown.status, shown.returned) == (t.status, t.returned)
            assert shown.cancelable == (t.status == "processing")
        for credit in self.model.credits:
            shown = self.c.v1.treasury.received_credits.retrieve(credit.id, options=o)
            assert shown.reversal_details.restricted_reason == self.model.reason(credit, now)
            assert bool(shown.linked_flows.credit_reversal) == credit.reversed


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(OPS),
            st.integers(min_value=1, max_value=5_000),
            st.integers(min_value=0, max_value=50),
        ),
        max_size=MAX_STEPS,
    )
)
def test_random_money_in_keeps_the_books(shared, ops):
    runner = Runner(shared)
    for op, amount, pick in ops:
        runner.step(op, amount, pick)
    runner.finish()
