"""Random sequences of money movements through the real HTTP API, against a reference model.

Each hypothesis example gets a fresh financial account and card (in one
module-wide onboarded account) and runs up to 12 operations: an opening
received credit, then random received credits and debits, authorizations,
captures (full, partial, over; closing or not), reversals (partial, full),
expiry (test helper, and the clock moving seven days on), increments,
finalize_amount, refunds, force captures, unlinked refunds, and Issuing
disputes: opened on a random transaction for a random (valid or invalid)
amount, updated, submitted to be won or lost, or left unsubmitted while the
clock moves past the 110-day deadline. ``Model`` is a deliberately naive
bookkeeper: cash, outbound_pending, each authorization's held amount and
status, each capture's amount, and each dispute's amount and status.

The dispute model (README, "Issuing disputes in test mode"): a transaction
can be disputed only if it is a capture still inside its 110-day window, has
no open (unsubmitted) dispute, and the amount is between 1 and what is left
disputable (the captured amount less its disputes that did not expire;
refunds don't matter). Exactly those creations are refused (400, with the
codes the README names). A won dispute (its explanation lacks
``losing_evidence``) adds its amount to cash; a lost or expired one moves
nothing. At the end of each example the API's disputes, the transactions'
``dispute`` links and the financial account's debit reversals are compared
with the model (``Runner.finish``).

After EVERY step (LEDGER.md, "Properties to hold at every commit"):
1. the API's balances equal the model's;
2. cash is never below zero after an authorization, increment, finalize or
   received debit moved money (only captures and force captures overdraw);
3. the sum of the FA's Treasury transactions' ``balance_impact`` equals the balance;
4. ``audit()`` finds nothing (per currency debits = credits, totals = transfers);
5. per transaction, the model's non-expired disputes claim at most the captured amount and at
   most one is open (so the refusals checked above are the model's, not luck).

After a clock jump the first request is a GET, whose read transaction must write the expiries;
the tests at the end of this module make another connection commit right then (a flake these
random runs found: such GETs answered 500 until storage/uow.py retried driver errors).
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
from tests.refunds import refund as refund_made

ADDRESS = {
    "line1": "1 Main St",
    "city": "Austin",
    "state": "TX",
    "postal_code": "78701",
    "country": "US",
}
MAX_STEPS = 12
DISPUTE_WINDOW_SECONDS = 110 * 86400
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


def onboard(server) -> Shared:
    """An onboarded connected account and a cardholder, shared by a module's examples."""
    client = server.client()
    acct = activated_account(client)
    holder = client.v1.issuing.cardholders.create(
        params={
            "name": "Prop Tester",
            "billing": {"address": ADDRESS},
            "individual": {"first_name": "Prop", "last_name": "Tester"},
        },
        options={"stripe_account": acct},
    )
    return Shared(client, server, acct, holder.id)


@pytest.fixture(scope="module")
def shared(module_server) -> Shared:
    return onboard(module_server)


# -- the reference model ---------------------------------------------------------------


@dataclass
class Auth:
    id: str
    held: int
    status: str = "pending"
    captured: int = 0


@dataclass
class Dispute:
    id: str
    txn: str
    amount: int
    losing: bool  # its explanation says ``losing_evidence``
    status: str = "unsubmitted"


@dataclass
class Model:
    cash: int = 0
    outbound_pending: int = 0
    auths: list[Auth] = field(default_factory=list)
    # capture transaction id -> what is still refundable
    refundable: dict[str, int] = field(default_factory=dict)
    refunds: set[str] = field(default_factory=set)
    # capture transaction id -> the captured amount (what disputes may claim; refunds don't matter)
    captured: dict[str, int] = field(default_factory=dict)
    # captures created before the clock moved 110 days on: no longer disputable
    out_of_window: set[str] = field(default_factory=set)
    disputes: list[Dispute] = field(default_factory=list)

    def disputable(self, txn: str, *, besides: Dispute | None = None) -> int:
        claimed = sum(
            d.amount
            for d in self.disputes
            if d.txn == txn and d.status != "expired" and d is not besides
        )
        return self.captured[txn] - claimed

    def dispute_refusal(self, txn: str, amount: int | None) -> set[str | None]:
        """The error codes a dispute creation may be refused with; empty when it must succeed."""
        if txn in self.refunds:
            return {None}  # only captures can be disputed
        codes: set[str | None] = set()
        if txn in self.out_of_window:
            codes.add(None)
        if any(d.txn == txn and d.status == "unsubmitted" for d in self.disputes):
            codes.add("charge_disputed")
        left = self.disputable(txn)
        if left == 0:
            codes.add("charge_disputed")
        if amount is not None and amount <= 0:
            codes.add("amount_too_small")
        if amount is not None and amount > left:
            codes.add("amount_too_large")
        return codes

    def hold(self, amount: int) -> None:
        self.cash -= amount
        self.outbound_pending += amount

    def release(self, auth: Auth, amount: int) -> None:
        auth.held -= amount
        self.cash += amount
        self.outbound_pending -= amount


# -- operations: (name, amount, pick, variant) --------------------------------------------

OP_NAMES = [
    "fund",
    "fund",
    "debit",
    "authorize",
    "authorize",
    "authorize",
    "capture",
    "capture",
    "reverse",
    "expire",
    "increment",
    "finalize",
    "refund",
    "force_capture",
    "unlinked_refund",
    "advance_clock",
    "dispute",
    "dispute",
    "submit_dispute",
    "dispute_deadline",
]


def ops(names: list[str]):
    return st.lists(
        st.tuples(
            st.sampled_from(names),
            st.integers(min_value=1, max_value=6_000),
            st.integers(min_value=0, max_value=50),
            st.integers(min_value=0, max_value=5),
        ),
        min_size=4,
        max_size=MAX_STEPS - 1,
    )


OPS = ops(OP_NAMES)
# Most examples start with some money, so that authorizations are approved and can be acted on.
OPENING_BALANCE = st.one_of(st.just(0), st.integers(min_value=1, max_value=20_000))
# Ops that are funds-checked: if they moved money, cash must still be >= 0.
CHECKED = {"debit", "authorize", "increment", "finalize"}


class Runner:
    def __init__(self, shared: Shared) -> None:
        self.s, self.c = shared, shared.client
        self.fa = self.c.v1.treasury.financial_accounts.create(
            params={
                "supported_currencies": ["usd"],
                "features": {"card_issuing": {"requested": True}},
            },
            options=shared.o,
        ).id
        self.card = self.c.v1.issuing.cards.create(
            params={
                "cardholder": shared.cardholder,
                "financial_account": self.fa,
                "currency": "usd",
                "type": "virtual",
                "status": "active",
            },
            options=shared.o,
        ).id
        self.model = Model()
        self.log: list[str] = []
        self.advanced = False
        self.deadline_passed = False

    @property
    def auth_helpers(self):
        return self.c.v1.test_helpers.issuing.authorizations

    @property
    def txn_helpers(self):
        return self.c.v1.test_helpers.issuing.transactions

    @property
    def disputes(self):
        return self.c.v1.issuing.disputes

    def _refused(self, call, *args, **kwargs) -> stripe.InvalidRequestError:
        with pytest.raises(stripe.InvalidRequestError) as raised:
            call(*args, **kwargs)
        assert raised.value.http_status == 400
        event("refused with 400")
        return raised.value

    def _pick_auth(self, pick: int, pending_only: bool = True) -> Auth | None:
        candidates = [a for a in self.model.auths if a.status == "pending" or not pending_only]
        return candidates[pick % len(candidates)] if candidates else None

    def _expect_auth(self, returned, auth: Auth) -> None:
        """Status and amount as modelled; its Treasury transaction holds exactly what is held."""
        assert returned.status == auth.status, (returned.status, auth, self.log)
        if auth.status == "pending":
            assert returned.amount == auth.captured + auth.held
        trxn = self.c.v1.treasury.transactions.retrieve(
            returned.treasury.transaction, options=self.s.o
        )
        assert trxn.amount == -auth.held and trxn.balance_impact.outbound_pending == auth.held, (
            self.log
        )
        assert trxn.status == ("open" if auth.status == "pending" else "void"), self.log

    # Each op returns True when it moved money through a funds-checked path.
    def fund(self, amount, pick, variant) -> bool:
        self.c.v1.test_helpers.treasury.received_credits.create(
            params={
                "financial_account": self.fa,
                "amount": amount,
                "currency": "usd",
                "network": ["ach", "rtp", "us_domestic_wire"][variant % 3],
            },
            options=self.s.o,
        )
        self.model.cash += amount
        return False

    def debit(self, amount, pick, variant) -> bool:
        debit = self.c.v1.test_helpers.treasury.received_debits.create(
            params={
                "financial_account": self.fa,
                "amount": amount,
                "currency": "usd",
                "network": "ach",
            },
            options=self.s.o,
        )
        if self.model.cash >= amount:
            assert debit.status == "succeeded"
            self.model.cash -= amount
            return True
        assert (debit.status, debit.failure_code) == ("failed", "insufficient_funds")
        return False

    def authorize(self, amount, pick, variant) -> bool:
        auth = self.auth_helpers.create(
            params={"card": self.card, "amount": amount}, options=self.s.o
        )
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
        captured = (
            auth.held
            if variant == 0
            else (max(1, auth.held * variant // 3) if variant < 3 else auth.held + amount)
        )
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
        txn_id = _newest_capture(returned)
        self.model.refundable[txn_id] = captured
        self.model.captured[txn_id] = captured
        self._expect_auth(returned, auth)
        return False

    def reverse(self, amount, pick, variant) -> bool:
        auth = self._pick_auth(pick, pending_only=variant != 5)
        if auth is None:
            return False
        if auth.status != "pending":
            self._refused(self.auth_helpers.reverse, auth.id, options=self.s.o)
            return False
        reversed_amount = (
            auth.held if variant % 2 == 0 or auth.held == 1 else 1 + amount % (auth.held - 1)
        )
        returned = self.auth_helpers.reverse(
            auth.id, params={"reverse_amount": reversed_amount}, options=self.s.o
        )
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
            self._expect_auth(
                self.c.v1.issuing.authorizations.retrieve(auth.id, options=self.s.o), auth
            )
        return False

    def increment(self, amount, pick, variant) -> bool:
        auth = self._pick_auth(pick)
        if auth is None:
            return False
        returned = self.auth_helpers.increment(
            auth.id, params={"increment_amount": amount}, options=self.s.o
        )
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
            self._refused(
                self.auth_helpers.finalize_amount,
                auth.id,
                params={"final_amount": final},
                options=self.s.o,
            )
            return False
        returned = self.auth_helpers.finalize_amount(
            auth.id, params={"final_amount": final}, options=self.s.o
        )
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
            self._refused(
                self.txn_helpers.refund,
                txn_id,
                params={"refund_amount": left + amount},
                options=self.s.o,
            )
            return False
        refunded = left if variant == 0 else 1 + amount % left
        refund = refund_made(self.c, txn_id, {"refund_amount": refunded}, self.s.o)
        assert (refund.type, refund.amount) == ("refund", refunded)
        self.model.refundable[txn_id] -= refunded
        self.model.refunds.add(refund.id)
        self.model.cash += refunded
        return False

    def force_capture(self, amount, pick, variant) -> bool:
        txn = self.txn_helpers.create_force_capture(
            params={"card": self.card, "amount": amount}, options=self.s.o
        )
        assert (txn.type, txn.amount) == ("capture", -amount)
        self.model.cash -= amount
        self.model.refundable[txn.id] = amount
        self.model.captured[txn.id] = amount
        return False

    def unlinked_refund(self, amount, pick, variant) -> bool:
        txn = self.txn_helpers.create_unlinked_refund(
            params={"card": self.card, "amount": amount}, options=self.s.o
        )
        assert (txn.type, txn.amount) == ("refund", amount)
        self.model.refunds.add(txn.id)
        self.model.cash += amount
        return False

    # -- disputes
    def dispute(self, amount, pick, variant) -> bool:
        """Open a dispute; variant: 0 no amount (all that is left), 1 all that is left, 2 part
        of it, 3 more than is left, 4 zero, 5 dispute a refund. Evidence loses when
        ``amount + pick`` is odd."""
        if variant == 5 and self.model.refunds:
            txn = sorted(self.model.refunds)[pick % len(self.model.refunds)]
        elif self.model.captured:
            txn = sorted(self.model.captured)[pick % len(self.model.captured)]
        else:
            return False
        left = self.model.disputable(txn) if txn in self.model.captured else 0
        requested = {
            0: None,
            1: left,
            2: 1 + amount % (left - 1) if left > 1 else 1,
            3: left + amount,
            4: 0,
            5: left,
        }[variant]
        losing = (amount + pick) % 2 == 1
        params = {"transaction": txn, "evidence": _evidence(losing, amount)}
        if requested is not None:
            params["amount"] = requested
        expected_refusal = self.model.dispute_refusal(txn, requested)
        if expected_refusal:
            error = self._refused(self.disputes.create, params=params, options=self.s.o)
            assert error.code in expected_refusal, (
                error.code,
                error.user_message,
                expected_refusal,
                self.log,
            )
            event(f"dispute refused: {error.code}")
            return False
        created = self.disputes.create(params=params, options=self.s.o)
        disputed = left if requested is None else requested
        assert (created.status, created.amount, created.transaction) == (
            "unsubmitted",
            disputed,
            txn,
        ), self.log
        assert (
            created.treasury.received_debit is not None and created.treasury.debit_reversal is None
        )
        self.model.disputes.append(Dispute(created.id, txn, disputed, losing))
        event(
            "dispute opened" + (" in part" if disputed < self.model.captured[txn] else " in full")
        )
        return False

    def submit_dispute(self, amount, pick, variant) -> bool:
        """Submit an unsubmitted dispute; variant 3 first switches its evidence to losing, 4 to
        winning with a new (valid) amount, 5 picks among all disputes (a closed one must be
        refused)."""
        candidates = [d for d in self.model.disputes if d.status == "unsubmitted" or variant == 5]
        if not candidates:
            return False
        dispute = candidates[pick % len(candidates)]
        if dispute.status != "unsubmitted":
            if amount % 2:
                error = self._refused(
                    self.disputes.update, dispute.id, params={"amount": 1}, options=self.s.o
                )
            else:
                error = self._refused(self.disputes.submit, dispute.id, options=self.s.o)
            assert error.code == "status_transition_invalid", (error.code, self.log)
            return False
        if variant in (3, 4):
            params = {
                "evidence": {"fraudulent": {"explanation": _explanation(variant == 3, amount)}}
            }
            if variant == 4:
                params["amount"] = 1 + amount % self.model.disputable(dispute.txn, besides=dispute)
            updated = self.disputes.update(dispute.id, params=params, options=self.s.o)
            dispute.losing = variant == 3
            dispute.amount = params.get("amount", dispute.amount)
            assert (updated.status, updated.amount) == ("unsubmitted", dispute.amount), self.log
        submitted = self.disputes.submit(dispute.id, options=self.s.o)
        assert submitted.status == "submitted", self.log
        dispute.status = "lost" if dispute.losing else "won"
        if dispute.status == "won":
            self.model.cash += dispute.amount
        after = self.disputes.retrieve(dispute.id, options=self.s.o)
        assert (after.status, after.amount) == (dispute.status, dispute.amount), self.log
        assert after.loss_reason == ("other" if dispute.losing else None), self.log
        assert (after.treasury.debit_reversal is not None) is (dispute.status == "won"), self.log
        event(f"dispute {dispute.status}")
        return False

    def dispute_deadline(self, amount, pick, variant) -> bool:
        """The clock moves past the 110-day deadline while a dispute is unsubmitted: it expires,
        every earlier transaction is out of the window, every open authorization has expired.
        (At most once per example, and only with a dispute to expire, to bound the clock's
        drift.)"""
        if self.deadline_passed or not any(d.status == "unsubmitted" for d in self.model.disputes):
            return False
        self.deadline_passed = True
        self.s.server.clock.advance(DISPUTE_WINDOW_SECONDS + 1)
        for auth in self.model.auths:
            if auth.status == "pending":
                self.model.release(auth, auth.held)
                auth.status = "expired"
        expired = [d for d in self.model.disputes if d.status == "unsubmitted"]
        for dispute in expired:
            dispute.status = "expired"
        self.model.out_of_window.update(self.model.captured)
        dispute = expired[pick % len(expired)]
        # The first request after the jump is a GET: its read transaction has to write the expiries.
        assert self.disputes.retrieve(dispute.id, options=self.s.o).status == "expired", self.log
        noted = self.disputes.update(
            dispute.id, params={"metadata": {"note": "too late"}}, options=self.s.o
        )
        assert (noted.status, noted.metadata.note) == ("expired", "too late"), (
            self.log
        )  # metadata always
        event("dispute expired")
        return False

    # -- the properties
    def check(self, moved_checked_money: bool) -> None:
        balance = self.c.v1.treasury.financial_accounts.retrieve(self.fa, options=self.s.o).balance
        shown = (
            balance.cash["usd"],
            balance.outbound_pending["usd"],
            balance.inbound_pending["usd"],
        )
        assert shown == (self.model.cash, self.model.outbound_pending, 0), self.log
        assert self.model.outbound_pending == sum(
            a.held for a in self.model.auths if a.status == "pending"
        )
        if moved_checked_money:
            assert shown[0] >= 0, self.log
        summed = [0, 0, 0]
        page = self.c.v1.treasury.transactions.list(
            params={"financial_account": self.fa, "limit": 100}, options=self.s.o
        )
        for trxn in page.auto_paging_iter():
            summed[0] += trxn.balance_impact.cash
            summed[1] += trxn.balance_impact.outbound_pending
            summed[2] += trxn.balance_impact.inbound_pending
        assert tuple(summed) == shown, self.log
        with self.s.server.runtime.engine.connect() as conn:
            assert audit(conn) == [], self.log
        for txn in {d.txn for d in self.model.disputes}:
            ours = [d for d in self.model.disputes if d.txn == txn]
            assert sum(d.amount for d in ours if d.status != "expired") <= self.model.captured[txn]
            assert sum(d.status == "unsubmitted" for d in ours) <= 1

    def finish(self) -> None:
        """After the last step: every dispute, dispute link and debit reversal is as modelled."""
        for txn in sorted({d.txn for d in self.model.disputes}):
            ours = [d for d in self.model.disputes if d.txn == txn]
            page = self.disputes.list(params={"transaction": txn, "limit": 100}, options=self.s.o)
            listed = {d.id: (d.status, d.amount) for d in page.auto_paging_iter()}
            assert listed == {d.id: (d.status, d.amount) for d in ours}, self.log
            linked = self.c.v1.issuing.transactions.retrieve(txn, options=self.s.o).dispute
            assert linked == ours[-1].id, self.log
        page = self.c.v1.treasury.debit_reversals.list(
            params={"financial_account": self.fa, "limit": 100}, options=self.s.o
        )
        reversals = {}
        for reversal in page.auto_paging_iter():
            assert (reversal.network, reversal.status) == ("card", "succeeded"), self.log
            reversals[reversal.linked_flows.issuing_dispute] = reversal.amount
        assert reversals == {d.id: d.amount for d in self.model.disputes if d.status == "won"}, (
            self.log
        )


def _explanation(losing: bool, amount: int) -> str:
    if losing:
        return "Card reported stolen. losing_evidence"
    return "Card reported stolen. winning_evidence" if amount % 2 else "I never made this purchase."


def _evidence(losing: bool, amount: int) -> dict:
    return {"reason": "fraudulent", "fraudulent": {"explanation": _explanation(losing, amount)}}


def _newest_capture(auth) -> str:
    captures = [t for t in auth.transactions if t.type == "capture"]
    return max(captures, key=lambda t: t.id).id


def run(shared: Shared, opening: int, ops: list[tuple[str, int, int, int]]) -> Runner:
    runner = Runner(shared)
    steps = ([("fund", opening, 0, 0)] if opening else []) + ops
    for name, amount, pick, variant in steps:
        runner.log.append(f"{name}({amount}, pick={pick}, variant={variant})")
        moved = getattr(runner, name)(amount, pick, variant)
        event(f"{name}{' (funds-checked money moved)' if moved and name in CHECKED else ''}")
        runner.check(moved and name in CHECKED)
    runner.finish()
    return runner


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(opening=OPENING_BALANCE, ops=OPS)
def test_random_money_movements_keep_the_books(shared, opening, ops):
    run(shared, opening, ops)


# -- a race the random runs hit (rarely, under load): reads that must write ------------------------


def _commit_elsewhere_once(engine, row_id: str, done: list[str], tag: str) -> None:
    """Once: another connection commits a real write (that leaves the row as it was) while the
    request's read transaction is open, so SQLite refuses that transaction's first write
    (``database is locked``, SQLITE_BUSY_SNAPSHOT, which busy_timeout does not wait out)."""
    if done:
        return
    done.append(tag)
    with engine.begin() as other:
        other.exec_driver_sql("UPDATE objects SET created = created + 1 WHERE id = ?", (row_id,))
        other.exec_driver_sql("UPDATE objects SET created = created - 1 WHERE id = ?", (row_id,))


def _sqlite_only(shared: Shared):
    engine = shared.server.runtime.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's snapshot upgrade; PostgreSQL reads at READ COMMITTED")
    return engine


def test_a_read_that_must_expire_a_hold_survives_a_concurrent_commit(shared, monkeypatch):
    """The GET right after the clock jumped expires overdue holds inside its read transaction
    (api/pipeline.py). If the webhook dispatcher (or any connection) commits in between, the
    write is refused; the unit of work must run the request again as a writer, not answer 500
    (it did, while storage/uow.py retried only SQLAlchemy-wrapped errors and storage/raw.py
    raised the bare sqlite3.OperationalError)."""
    engine = _sqlite_only(shared)
    from openissuing.services import authorizations as authorization_service

    runner = Runner(shared)
    runner.fund(1_000, 0, 0)
    assert runner.authorize(400, 0, 0)
    shared.server.clock.advance(7 * 86400 + 1)
    original, interleaved = authorization_service.expire, []

    def expire_after_another_commit(uow, scope, record):
        _commit_elsewhere_once(engine, runner.fa, interleaved, record["id"])
        return original(uow, scope, record)

    monkeypatch.setattr(authorization_service, "expire", expire_after_another_commit)
    balance = runner.c.v1.treasury.financial_accounts.retrieve(runner.fa, options=shared.o).balance
    assert interleaved
    assert (balance.cash["usd"], balance.outbound_pending["usd"]) == (1_000, 0)
    auth = runner.c.v1.issuing.authorizations.retrieve(runner.model.auths[0].id, options=shared.o)
    assert auth.status == "expired"


def test_a_read_that_must_expire_a_dispute_survives_a_concurrent_commit(shared, monkeypatch):
    """The same race in services/disputes.py: retrieving a dispute past its deadline expires it
    inside the GET's read transaction."""
    engine = _sqlite_only(shared)
    from openissuing.services import disputes as dispute_service

    runner = Runner(shared)
    runner.force_capture(700, 0, 0)
    (txn,) = runner.model.captured
    dispute = runner.disputes.create(
        params={"transaction": txn, "evidence": _evidence(False, 1)}, options=shared.o
    )
    assert (dispute.status, dispute.amount) == ("unsubmitted", 700)
    # Every request applies what is due first (services.due), so a POST just before the
    # deadline expires every overdue hold of the account (holds last at most 31 days), and the
    # dispute's own expiry is left for the GET, the first request after its deadline.
    shared.server.clock.advance(DISPUTE_WINDOW_SECONDS - 86400)
    runner.c.v1.treasury.financial_accounts.update(
        runner.fa, params={"metadata": {"k": "v"}}, options=shared.o
    )
    shared.server.clock.advance(86400 + 1)
    original, interleaved = dispute_service._save, []

    def save_after_another_commit(uow, scope, before, record, event_type):
        _commit_elsewhere_once(engine, runner.fa, interleaved, record["id"])
        return original(uow, scope, before, record, event_type)

    monkeypatch.setattr(dispute_service, "_save", save_after_another_commit)
    retrieved = runner.disputes.retrieve(dispute.id, options=shared.o)
    assert interleaved
    assert retrieved.status == "expired"
    runner.check(False)
