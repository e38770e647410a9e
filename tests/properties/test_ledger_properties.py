"""Random sequences of money movements through the real HTTP API, against a reference model.

Each hypothesis example gets a fresh financial account and card (in one
module-wide onboarded account) and runs up to 12 operations: an opening
received credit, then random received credits and debits, authorizations,
captures (full, partial, over; closing or not), reversals (partial, full),
expiry (test helper, and the clock moving seven days on), increments,
finalize_amount, refunds, force captures and unlinked refunds. ``Model`` is a
deliberately naive bookkeeper: cash, outbound_pending, and each
authorization's held amount and status.

After EVERY step (LEDGER.md, "Properties to hold at every commit"):
1. the API's balances equal the model's;
2. cash is never below zero after an authorization, increment, finalize or
   received debit moved money (only captures and force captures overdraw);
3. the sum of the FA's Treasury transactions' ``balance_impact`` equals the balance;
4. ``audit()`` finds nothing (per currency debits = credits, totals = transfers).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
import stripe
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from openissuing.storage.ledger_audit import audit
from tests.flows import activated_account

ADDRESS = {"line1": "1 Main St", "city": "Austin", "state": "TX", "postal_code": "78701", "country": "US"}
MAX_STEPS = 12
# More examples for a bug hunt: OPENISSUING_PROPERTY_EXAMPLES=500 (the default keeps the file fast).
EXAMPLES = int(os.environ.get("OPENISSUING_PROPERTY_EXAMPLES", "25"))


@dataclass
class Shared:
    client: stripe.StripeClient
    server: object
    acct: str
    cardholder: str

    @property
    def o(self) -> dict:
        return {"stripe_account": self.acct}


@pytest.fixture(scope="module")
def shared(server) -> Shared:
    client = server.client()
    acct = activated_account(client)
    holder = client.v1.issuing.cardholders.create(params={
        "name": "Prop Tester", "billing": {"address": ADDRESS},
        "individual": {"first_name": "Prop", "last_name": "Tester"}}, options={"stripe_account": acct})
    return Shared(client, server, acct, holder.id)


# -- the reference model ---------------------------------------------------------------


@dataclass
class Auth:
    id: str
    held: int
    status: str = "pending"
    captured: int = 0


@dataclass
class Model:
    cash: int = 0
    outbound_pending: int = 0
    auths: list[Auth] = field(default_factory=list)
    # capture transaction id -> what is still refundable
    refundable: dict[str, int] = field(default_factory=dict)
    refunds: set[str] = field(default_factory=set)

    def hold(self, amount: int) -> None:
        self.cash -= amount
        self.outbound_pending += amount

    def release(self, auth: Auth, amount: int) -> None:
        auth.held -= amount
        self.cash += amount
        self.outbound_pending -= amount


# -- operations: (name, amount, pick, variant) --------------------------------------------

OP_NAMES = ["fund", "fund", "debit", "authorize", "authorize", "authorize", "capture", "capture", "reverse",
            "expire", "increment", "finalize", "refund", "force_capture", "unlinked_refund", "advance_clock"]
OPS = st.lists(
    st.tuples(st.sampled_from(OP_NAMES), st.integers(min_value=1, max_value=6_000),
              st.integers(min_value=0, max_value=50), st.integers(min_value=0, max_value=5)),
    min_size=4, max_size=MAX_STEPS - 1,
)
# Most examples start with some money, so that authorizations are approved and can be acted on.
OPENING_BALANCE = st.one_of(st.just(0), st.integers(min_value=1, max_value=20_000))
# Ops that are funds-checked: if they moved money, cash must still be >= 0.
CHECKED = {"debit", "authorize", "increment", "finalize"}


class Runner:
    def __init__(self, shared: Shared) -> None:
        self.s, self.c = shared, shared.client
        self.fa = self.c.v1.treasury.financial_accounts.create(
            params={"supported_currencies": ["usd"], "features": {"card_issuing": {"requested": True}}},
            options=shared.o).id
        self.card = self.c.v1.issuing.cards.create(params={
            "cardholder": shared.cardholder, "financial_account": self.fa, "currency": "usd",
            "type": "virtual", "status": "active"}, options=shared.o).id
        self.model = Model()
        self.log: list[str] = []
        self.advanced = False

    @property
    def auth_helpers(self):
        return self.c.v1.test_helpers.issuing.authorizations

    @property
    def txn_helpers(self):
        return self.c.v1.test_helpers.issuing.transactions

    def _refused(self, call, *args, **kwargs) -> None:
        with pytest.raises(stripe.InvalidRequestError) as raised:
            call(*args, **kwargs)
        assert raised.value.http_status == 400
        event("refused with 400")

    def _pick_auth(self, pick: int, pending_only: bool = True) -> Auth | None:
        candidates = [a for a in self.model.auths if a.status == "pending" or not pending_only]
        return candidates[pick % len(candidates)] if candidates else None

    def _expect_auth(self, returned, auth: Auth) -> None:
        """Status and amount as modelled; its Treasury transaction holds exactly what is held."""
        assert returned.status == auth.status, (returned.status, auth, self.log)
        if auth.status == "pending":
            assert returned.amount == auth.captured + auth.held
        trxn = self.c.v1.treasury.transactions.retrieve(returned.treasury.transaction, options=self.s.o)
        assert trxn.amount == -auth.held and trxn.balance_impact.outbound_pending == auth.held, self.log
        assert trxn.status == ("open" if auth.status == "pending" else "void"), self.log

    # Each op returns True when it moved money through a funds-checked path.
    def fund(self, amount, pick, variant) -> bool:
        self.c.v1.test_helpers.treasury.received_credits.create(params={
            "financial_account": self.fa, "amount": amount, "currency": "usd",
            "network": ["ach", "rtp", "us_domestic_wire"][variant % 3]}, options=self.s.o)
        self.model.cash += amount
        return False

    def debit(self, amount, pick, variant) -> bool:
        debit = self.c.v1.test_helpers.treasury.received_debits.create(params={
            "financial_account": self.fa, "amount": amount, "currency": "usd", "network": "ach"}, options=self.s.o)
        if self.model.cash >= amount:
            assert debit.status == "succeeded"
            self.model.cash -= amount
            return True
        assert (debit.status, debit.failure_code) == ("failed", "insufficient_funds")
        return False

    def authorize(self, amount, pick, variant) -> bool:
        auth = self.auth_helpers.create(params={"card": self.card, "amount": amount}, options=self.s.o)
        if self.model.cash >= amount:
            assert (auth.approved, auth.status) == (True, "pending")
            self.model.hold(amount)
            self.model.auths.append(Auth(auth.id, amount))
            return True
        assert (auth.approved, auth.request_history[-1].reason) == (False, "insufficient_funds")
        return False

    def capture(self, amount, pick, variant) -> bool:
        auth = self._pick_auth(pick, pending_only=variant != 5)
        if auth is None:
            return False
        if auth.status != "pending":
            self._refused(self.auth_helpers.capture, auth.id, options=self.s.o)
            return False
        # variant: 0 full, 1-2 partial, 3-4 over; odd variants keep the authorization open.
        captured = auth.held if variant == 0 else (
            max(1, auth.held * variant // 3) if variant < 3 else auth.held + amount)
        close = variant % 2 == 0
        params = {"capture_amount": captured, "close_authorization": close}
        returned = self.auth_helpers.capture(auth.id, params=params, options=self.s.o)
        if close or captured >= auth.held:
            self.model.release(auth, auth.held)
            auth.status = "closed"
        else:
            self.model.release(auth, captured)
        self.model.cash -= captured
        auth.captured += captured
        self.model.refundable[_newest_capture(returned)] = captured
        self._expect_auth(returned, auth)
        return False

    def reverse(self, amount, pick, variant) -> bool:
        auth = self._pick_auth(pick, pending_only=variant != 5)
        if auth is None:
            return False
        if auth.status != "pending":
            self._refused(self.auth_helpers.reverse, auth.id, options=self.s.o)
            return False
        reversed_amount = auth.held if variant % 2 == 0 or auth.held == 1 else 1 + amount % (auth.held - 1)
        returned = self.auth_helpers.reverse(auth.id, params={"reverse_amount": reversed_amount}, options=self.s.o)
        self.model.release(auth, reversed_amount)
        if auth.held == 0:
            auth.status = "reversed" if auth.captured == 0 else "closed"
        self._expect_auth(returned, auth)
        return False

    def expire(self, amount, pick, variant) -> bool:
        auth = self._pick_auth(pick, pending_only=variant != 5)
        if auth is None:
            return False
        if auth.status != "pending":
            self._refused(self.auth_helpers.expire, auth.id, options=self.s.o)
            return False
        returned = self.auth_helpers.expire(auth.id, options=self.s.o)
        self.model.release(auth, auth.held)
        auth.status = "expired"
        self._expect_auth(returned, auth)
        return False

    def advance_clock(self, amount, pick, variant) -> bool:
        """Seven days and a second later every open authorization has expired (once per example,
        so the session's clock drifts by at most a few months)."""
        if self.advanced:
            return False
        self.advanced = True
        self.s.server.clock.advance(7 * 86400 + 1)
        for auth in self.model.auths:
            if auth.status == "pending":
                self.model.release(auth, auth.held)
                auth.status = "expired"
        if self.model.auths:
            auth = self.model.auths[pick % len(self.model.auths)]
            self._expect_auth(self.c.v1.issuing.authorizations.retrieve(auth.id, options=self.s.o), auth)
        return False

    def increment(self, amount, pick, variant) -> bool:
        auth = self._pick_auth(pick)
        if auth is None:
            return False
        returned = self.auth_helpers.increment(auth.id, params={"increment_amount": amount}, options=self.s.o)
        approved = self.model.cash >= amount
        assert returned.request_history[-1].approved is approved
        if approved:
            self.model.hold(amount)
            auth.held += amount
        else:
            assert returned.request_history[-1].reason == "insufficient_funds"
        self._expect_auth(returned, auth)
        return approved

    def finalize(self, amount, pick, variant) -> bool:
        auth = self._pick_auth(pick)
        if auth is None:
            return False
        final = max(1, auth.held * variant // 4) if variant < 4 else auth.held + amount
        more = final - auth.held
        if more > 0 and self.model.cash < more:
            self._refused(self.auth_helpers.finalize_amount, auth.id, params={"final_amount": final},
                          options=self.s.o)
            return False
        returned = self.auth_helpers.finalize_amount(auth.id, params={"final_amount": final}, options=self.s.o)
        self.model.release(auth, -more)
        self._expect_auth(returned, auth)
        return more > 0

    def refund(self, amount, pick, variant) -> bool:
        if not self.model.refundable:
            return False
        txn_id = sorted(self.model.refundable)[pick % len(self.model.refundable)]
        left = self.model.refundable[txn_id]
        if variant == 5 and self.model.refunds:
            self._refused(self.txn_helpers.refund, sorted(self.model.refunds)[0], options=self.s.o)
            return False
        if variant == 4 or left == 0:  # more than is left
            self._refused(self.txn_helpers.refund, txn_id, params={"refund_amount": left + amount}, options=self.s.o)
            return False
        refunded = left if variant == 0 else 1 + amount % left
        refund = self.txn_helpers.refund(txn_id, params={"refund_amount": refunded}, options=self.s.o)
        assert (refund.type, refund.amount) == ("refund", refunded)
        self.model.refundable[txn_id] -= refunded
        self.model.refunds.add(refund.id)
        self.model.cash += refunded
        return False

    def force_capture(self, amount, pick, variant) -> bool:
        txn = self.txn_helpers.create_force_capture(params={"card": self.card, "amount": amount}, options=self.s.o)
        assert (txn.type, txn.amount) == ("capture", -amount)
        self.model.cash -= amount
        self.model.refundable[txn.id] = amount
        return False

    def unlinked_refund(self, amount, pick, variant) -> bool:
        txn = self.txn_helpers.create_unlinked_refund(params={"card": self.card, "amount": amount}, options=self.s.o)
        assert (txn.type, txn.amount) == ("refund", amount)
        self.model.refunds.add(txn.id)
        self.model.cash += amount
        return False

    # -- the properties
    def check(self, moved_checked_money: bool) -> None:
        balance = self.c.v1.treasury.financial_accounts.retrieve(self.fa, options=self.s.o).balance
        shown = (balance.cash["usd"], balance.outbound_pending["usd"], balance.inbound_pending["usd"])
        assert shown == (self.model.cash, self.model.outbound_pending, 0), self.log
        assert self.model.outbound_pending == sum(a.held for a in self.model.auths if a.status == "pending")
        if moved_checked_money:
            assert shown[0] >= 0, self.log
        summed = [0, 0, 0]
        page = self.c.v1.treasury.transactions.list(params={"financial_account": self.fa, "limit": 100},
                                                   options=self.s.o)
        for trxn in page.auto_paging_iter():
            summed[0] += trxn.balance_impact.cash
            summed[1] += trxn.balance_impact.outbound_pending
            summed[2] += trxn.balance_impact.inbound_pending
        assert tuple(summed) == shown, self.log
        with self.s.server.runtime.engine.connect() as conn:
            assert audit(conn) == [], self.log


def _newest_capture(auth) -> str:
    captures = [t for t in auth.transactions if t.type == "capture"]
    return max(captures, key=lambda t: t.id).id


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(opening=OPENING_BALANCE, ops=OPS)
def test_random_money_movements_keep_the_books(shared, opening, ops):
    runner = Runner(shared)
    steps = ([("fund", opening, 0, 0)] if opening else []) + ops
    for name, amount, pick, variant in steps:
        runner.log.append(f"{name}({amount}, pick={pick}, variant={variant})")
        moved = getattr(runner, name)(amount, pick, variant)
        event(f"{name}{' (funds-checked money moved)' if moved and name in CHECKED else ''}")
        runner.check(moved and name in CHECKED)
