"""Random sequences of outbound payments and transfers through the real HTTP API, against a
reference model of the balances.

Each hypothesis example gets two fresh financial accounts (``a`` and ``b``, every outbound
feature active) in one module-wide onboarded account, and runs up to 14 operations: received
credits, outbound payments and transfers to a bank account (ach or wire) or to the other
financial account (the stripe network: posted at once, arriving as a received credit), and on a
random earlier flow: cancel, the test helpers post, fail and return, and (stripe-network flows)
the receiver reversing the received credit, which returns a payment to its sender. ``Model``
is a naive bookkeeper: cash and outbound_pending per financial account, each flow's status.

The lifecycle it believes (README): a bank flow is processing until posted, failed, canceled
or returned; a posted one can still be returned; a stripe-network flow is posted at once and
never moves again. Creating holds the amount if the cash covers it (else 400
``insufficient_funds`` and nothing moves); posting settles the hold; failing or canceling
releases it; a return gives the whole amount back as cash.

After EVERY step: both accounts' balances equal the model's, and each equals the sum of its
Treasury transactions' ``balance_impact`` (``assert_books``); the ledger's audit finds
nothing; a refused step answered 400 exactly when the model said it must. At the end every
flow's status is the model's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
import stripe
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from openissuing.storage.ledger_audit import audit
from tests.flows import activated_account, assert_books, fund
from tests.outbound import outbound_account, pay, transfer

MAX_STEPS = 14
EXAMPLES = int(os.environ.get("OPENISSUING_PROPERTY_EXAMPLES", "15"))


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
class Flow:
    id: str
    kind: str  # payment | transfer
    fa: str  # a | b
    amount: int
    stripe: bool
    status: str = "processing"


@dataclass
class Model:
    cash: dict[str, int] = field(default_factory=lambda: {"a": 0, "b": 0})
    outbound_pending: dict[str, int] = field(default_factory=lambda: {"a": 0, "b": 0})
    flows: list[Flow] = field(default_factory=list)

    def step_allowed(self, flow: Flow, action: str) -> bool:
        if flow.stripe:
            return False
        if action == "return":
            return flow.status in ("processing", "posted")
        return flow.status == "processing"

    def apply(self, flow: Flow, action: str) -> None:
        fa, amount = flow.fa, flow.amount
        if flow.status == "processing":
            self.outbound_pending[fa] -= amount
            if action in ("fail", "cancel"):
                self.cash[fa] += amount
        if action == "return":
            self.cash[fa] += amount
        flow.status = {
            "post": "posted",
            "fail": "failed",
            "cancel": "canceled",
            "return": "returned",
        }[action]


OPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "fund",
                "pay",
                "pay",
                "transfer",
                "transfer",
                "intra",
                "intra",
                "intra",
                "post",
                "post",
            ]
            + ["fail", "cancel", "return", "return", "reverse", "reverse", "reverse"]
        ),
        st.sampled_from(["a", "b"]),
        st.integers(min_value=1, max_value=4_000),
        st.integers(min_value=0, max_value=30),  # which earlier flow
        st.booleans(),  # payment or transfer (intra); ach or wire (bank flows)
    ),
    min_size=1,
    max_size=MAX_STEPS,
)


class Runner:
    def __init__(self, shared: Shared) -> None:
        self.s = shared
        self.c = shared.client
        self.model = Model()
        self.fas = {name: outbound_account(self.c, shared.acct) for name in ("a", "b")}

    def check(self) -> None:
        for name, fa in self.fas.items():
            assert_books(
                self.c,
                self.s.acct,
                fa,
                cash=self.model.cash[name],
                outbound_pending=self.model.outbound_pending[name],
            )
        with self.s.server.runtime.engine.connect() as conn:
            assert audit(conn) == []

    def create(self, kind: str, fa: str, amount: int, *, to_other: bool, wire: bool) -> None:
        other = "b" if fa == "a" else "a"
        extra: dict = {}
        if to_other:
            data = {"type": "financial_account", "financial_account": self.fas[other]}
            extra = {"destination_payment_method_data": data}
            if kind == "transfer":
                extra["destination_payment_method"] = None
        elif wire:
            extra = {
                "destination_payment_method_options": {
                    "us_bank_account": {"network": "us_domestic_wire"}
                }
            }
        send = pay if kind == "payment" else transfer
        covered = amount <= self.model.cash[fa]
        try:
            made = send(self.c, self.s.acct, self.fas[fa], amount, **extra)
        except stripe.InvalidRequestError as refused:
            assert not covered, refused
            assert (refused.code, refused.param) == ("insufficient_funds", "amount")
            return
        assert covered, f"{amount} created with only {self.model.cash[fa]} of cash"
        self.model.cash[fa] -= amount
        flow = Flow(made.id, kind, fa, amount, stripe=to_other)
        if to_other:
            assert made.status == "posted"
            flow.status = "posted"
            self.model.cash[other] += amount
        else:
            assert made.status == "processing"
            self.model.outbound_pending[fa] += amount
        self.model.flows.append(flow)

    def act(self, action: str, pick: int) -> None:
        if not self.model.flows:
            return
        flow = self.model.flows[pick % len(self.model.flows)]
        allowed = self.model.step_allowed(flow, action)
        helpers = self.c.v1.test_helpers.treasury
        api = self.c.v1.treasury
        calls = {
            "payment": {
                "post": helpers.outbound_payments.post,
                "fail": helpers.outbound_payments.fail,
                "return": helpers.outbound_payments.return_outbound_payment,
                "cancel": api.outbound_payments.cancel,
            },
            "transfer": {
                "post": helpers.outbound_transfers.post,
                "fail": helpers.outbound_transfers.fail,
                "return": helpers.outbound_transfers.return_outbound_transfer,
                "cancel": api.outbound_transfers.cancel,
            },
        }
        try:
            shown = calls[flow.kind][action](flow.id, options=self.s.o)
        except stripe.InvalidRequestError as refused:
            assert not allowed, refused
            assert refused.http_status == 400 and refused.code == "status_transition_invalid"
            return
        assert allowed, f"{action} accepted on a {flow.status} flow"
        self.model.apply(flow, action)
        assert shown.status == flow.status

    def reverse(self, pick: int) -> None:
        """The receiver reverses the received credit of a random stripe-network flow: allowed
        once, for payments only, if the receiver's cash covers it; the payment is returned."""
        over_stripe = [flow for flow in self.model.flows if flow.stripe]
        if not over_stripe:
            return
        flow = over_stripe[pick % len(over_stripe)]
        to = "b" if flow.fa == "a" else "a"
        credits = self.c.v1.treasury.received_credits.list(
            params={"financial_account": self.fas[to], "limit": 100}, options=self.s.o
        )
        (credit,) = [c for c in credits.data if c.linked_flows.source_flow == flow.id]
        allowed = flow.kind == "payment" and flow.status == "posted"
        covered = flow.amount <= self.model.cash[to]
        try:
            self.c.v1.treasury.credit_reversals.create(
                params={"received_credit": credit.id}, options=self.s.o
            )
        except stripe.InvalidRequestError as refused:
            assert not (allowed and covered), refused
            if allowed:
                assert refused.code == "insufficient_funds"
            event(f"reversal refused: {refused.code}")
            return
        assert allowed and covered
        event("reversal returned a payment")
        self.model.cash[to] -= flow.amount
        self.model.cash[flow.fa] += flow.amount
        flow.status = "returned"

    def run(self, op: tuple[str, str, int, int, bool]) -> None:
        name, fa, amount, pick, flag = op
        if name == "fund":
            fund(self.c, self.s.acct, self.fas[fa], amount)
            self.model.cash[fa] += amount
        elif name in ("pay", "transfer"):
            kind = "payment" if name == "pay" else "transfer"
            self.create(kind, fa, amount, to_other=False, wire=flag)
        elif name == "intra":
            self.create("payment" if flag else "transfer", fa, amount, to_other=True, wire=False)
        elif name == "reverse":
            self.reverse(pick)
        else:
            self.act(name, pick)

    def finish(self) -> None:
        for name, fa in self.fas.items():
            shown = {}
            for api in (
                self.c.v1.treasury.outbound_payments,
                self.c.v1.treasury.outbound_transfers,
            ):
                page = api.list(params={"financial_account": fa, "limit": 100}, options=self.s.o)
                shown.update({flow.id: flow.status for flow in page.data})
            expected = {f.id: f.status for f in self.model.flows if f.fa == name}
            assert shown == expected


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(opening=st.integers(min_value=0, max_value=10_000), ops=OPS)
def test_random_outbound_flows_keep_the_books(shared, opening, ops):
    runner = Runner(shared)
    if opening:  # both accounts start with money, so either can send
        runner.run(("fund", "a", opening, 0, False))
        runner.run(("fund", "b", opening, 0, False))
    runner.check()
    for op in ops:
        runner.run(op)
        runner.check()
    runner.finish()
