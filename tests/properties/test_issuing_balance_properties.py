"""Random sequences on a card without a financial account, against a model of the Issuing balance.

Each example gets a fresh connected account (the Issuing balance is the account's) and a card
with no financial account, then runs top-ups, plain (payments) top-ups, authorizations,
increments, captures (full, partial, over; closing or not), reversals, expiry (the clock moving
eight days on), refunds, force captures and disputes (won or lost) through the SDK. ``Model`` is
a naive bookkeeper: the Issuing balance's available amount, each authorization's hold and
status, each capture's refundable amount and whether it was disputed.

After EVERY step:
1. ``/v1/balance`` ``issuing.available`` equals the model (and the payments balance its own);
2. the account's ``issuing`` balance transactions sum to it, each with ``net == amount``;
3. an authorization or increment is approved exactly when the model has the money, and then
   the balance is not below zero (only captures and force captures overdraw);
4. ``audit()`` finds nothing (per currency debits = credits, totals = transfers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openissuing.storage.ledger_audit import audit
from tests.flows import ADDRESS, activated_account
from tests.properties.test_ledger_properties import EXAMPLES
from tests.refunds import refund as refund_made

DAY = 86400
NAMES = [
    "topup",
    "payments_topup",
    "authorize",
    "authorize",
    "increment",
    "capture",
    "capture",
    "reverse",
    "expire",
    "refund",
    "force_capture",
    "dispute",
]


@dataclass
class Auth:
    id: str
    held: int
    status: str = "pending"


@dataclass
class Capture:
    id: str
    refundable: int
    disputed: bool = False


@dataclass
class Model:
    available: int = 0
    payments: int = 0
    auths: list[Auth] = field(default_factory=list)
    captures: list[Capture] = field(default_factory=list)


class Runner:
    def __init__(self, server, client: stripe.StripeClient) -> None:
        self.server, self.client = server, client
        self.acct = activated_account(client)
        self.o = {"stripe_account": self.acct}
        holder = client.v1.issuing.cardholders.create(
            params={
                "name": "Prop Tester",
                "billing": {"address": ADDRESS},
                "individual": {"first_name": "Prop", "last_name": "Tester"},
            },
            options=self.o,
        )
        self.card = client.v1.issuing.cards.create(
            params={"cardholder": holder.id, "currency": "usd", "type": "virtual"}
            | {"status": "active"},
            options=self.o,
        ).id
        self.model = Model()
        self.helpers = client.v1.test_helpers.issuing.authorizations

    # -- steps (a, b, c: the example's integers)
    def topup(self, a, b, c) -> None:
        self.client.v1.topups.create(
            params={"amount": a, "currency": "usd", "destination_balance": "issuing"},
            options=self.o,
        )
        self.model.available += a

    def payments_topup(self, a, b, c) -> None:
        self.client.v1.topups.create(params={"amount": a, "currency": "usd"}, options=self.o)
        self.model.payments += a

    def authorize(self, a, b, c) -> None:
        auth = self.helpers.create(params={"card": self.card, "amount": a}, options=self.o)
        assert auth.approved is (a <= self.model.available), (a, self.model.available)
        if auth.approved:
            self.model.available -= a
            self.model.auths.append(Auth(auth.id, a))
            assert self.model.available >= 0

    def _pick(self, b) -> Auth | None:
        return self.model.auths[b % len(self.model.auths)] if self.model.auths else None

    def increment(self, a, b, c) -> None:
        auth = self._pick(b)
        if auth is None or auth.status != "pending":
            return
        answered = self.helpers.increment(auth.id, params={"increment_amount": a}, options=self.o)
        approved = answered.request_history[-1].approved
        assert approved is (a <= self.model.available)
        if approved:
            self.model.available -= a
            auth.held += a

    def capture(self, a, b, c) -> None:
        auth = self._pick(b)
        if auth is None:
            return
        close = c % 2 == 0
        params = {"capture_amount": a, "close_authorization": close}
        if auth.status != "pending":
            with pytest.raises(stripe.InvalidRequestError):
                self.helpers.capture(auth.id, params=params, options=self.o)
            return
        answered = self.helpers.capture(auth.id, params=params, options=self.o)
        remaining = 0 if close else max(auth.held - a, 0)
        self.model.available += auth.held - remaining - a
        auth.held = remaining
        auth.status = "closed" if close or remaining == 0 else "pending"
        assert answered.status == auth.status
        self.model.captures.append(Capture(answered.transactions[-1].id, a))

    def reverse(self, a, b, c) -> None:
        auth = self._pick(b)
        if auth is None or auth.status != "pending":
            return
        amount = min(a, auth.held)
        self.helpers.reverse(auth.id, params={"reverse_amount": amount}, options=self.o)
        self.model.available += amount
        auth.held -= amount
        if auth.held == 0:
            auth.status = "done"

    def expire(self, a, b, c) -> None:
        self.server.clock.advance(8 * DAY)
        for auth in self.model.auths:
            if auth.status == "pending":
                self.model.available += auth.held
                auth.held, auth.status = 0, "expired"

    def refund(self, a, b, c) -> None:
        if not self.model.captures:
            return
        capture = self.model.captures[b % len(self.model.captures)]
        amount = min(a, capture.refundable)
        if amount == 0:
            return
        made = refund_made(self.client, capture.id, {"refund_amount": amount}, self.o)
        assert made.amount == amount
        capture.refundable -= amount
        self.model.available += amount

    def force_capture(self, a, b, c) -> None:
        txn = self.client.v1.test_helpers.issuing.transactions.create_force_capture(
            params={"card": self.card, "amount": a}, options=self.o
        )
        self.model.available -= a
        self.model.captures.append(Capture(txn.id, a))

    def dispute(self, a, b, c) -> None:
        undisputed = [capture for capture in self.model.captures if not capture.disputed]
        if not undisputed:
            return
        capture = undisputed[b % len(undisputed)]
        txn = self.client.v1.issuing.transactions.retrieve(capture.id, options=self.o)
        losing = c % 2 == 1
        explanation = "losing_evidence" if losing else "not me"
        dispute = self.client.v1.issuing.disputes.create(
            params={
                "transaction": capture.id,
                "evidence": {"reason": "fraudulent", "fraudulent": {"explanation": explanation}},
            },
            options=self.o,
        )
        assert dispute.amount == -txn.amount
        self.client.v1.issuing.disputes.submit(dispute.id, options=self.o)
        capture.disputed = True
        if not losing:
            self.model.available += dispute.amount

    # -- the properties
    def check(self) -> None:
        balance = self.client.v1.balance.retrieve(options=self.o)
        assert balance.issuing.available[0].amount == self.model.available
        assert balance.available[0].amount == self.model.payments
        issuing = 0
        page = self.client.v1.balance_transactions.list(params={"limit": 100}, options=self.o)
        for bt in page.auto_paging_iter():
            assert bt.net == bt.amount and bt.currency == "usd"
            if bt.balance_type == "issuing":
                issuing += bt.amount
        assert issuing == self.model.available
        with self.server.runtime.engine.connect() as conn:
            assert audit(conn) == []


STEPS = st.lists(
    st.tuples(
        st.sampled_from(NAMES),
        st.integers(min_value=1, max_value=6_000),
        st.integers(min_value=0, max_value=50),
        st.integers(min_value=0, max_value=5),
    ),
    min_size=3,
    max_size=10,
)


@pytest.fixture(scope="module")
def client(module_server):
    return module_server.client()


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(opening=st.integers(min_value=0, max_value=15_000), steps=STEPS)
def test_random_sequences_keep_the_issuing_balance(module_server, client, opening, steps):
    runner = Runner(module_server, client)
    if opening:
        runner.topup(opening, 0, 0)
    runner.check()
    for name, a, b, c in steps:
        getattr(runner, name)(a, b, c)
        runner.check()
