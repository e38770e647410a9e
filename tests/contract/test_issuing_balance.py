"""The Issuing balance without Treasury, through the SDK: top-ups, purchases on cards without a
financial account, /v1/balance and /v1/balance_transactions checked after every step."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
import stripe

from tests.flows import ADDRESS, activated_account, assert_audit_clean
from tests.webhook_receiver import Reply, WebhookReceiver

DAY = 86400


@dataclass
class Issuing:
    """One account (platform when ``acct`` is None) with a card that has no financial account."""

    client: stripe.StripeClient
    server: object
    acct: str | None
    card: str = ""
    expected: dict[str, int] = field(default_factory=dict)  # currency -> Issuing available

    @property
    def o(self) -> dict:
        return {"stripe_account": self.acct} if self.acct else {}

    def new_card(self, currency: str = "usd") -> str:
        holder = self.client.v1.issuing.cardholders.create(
            params={
                "name": "Jenny Rosen",
                "billing": {"address": ADDRESS},
                "individual": {"first_name": "Jenny", "last_name": "Rosen"},
            },
            options=self.o,
        )
        card = self.client.v1.issuing.cards.create(
            params={
                "cardholder": holder.id,
                "currency": currency,
                "type": "virtual",
                "status": "active",
            },
            options=self.o,
        )
        assert card.financial_account is None
        return card.id

    def topup(self, amount: int, **extra):
        params = {"amount": amount, "currency": "usd", "destination_balance": "issuing", **extra}
        return self.client.v1.topups.create(params=params, options=self.o)

    def authorize(self, amount: int, **extra):
        return self.client.v1.test_helpers.issuing.authorizations.create(
            params={"card": self.card, "amount": amount, **extra}, options=self.o
        )

    def helpers(self):
        return self.client.v1.test_helpers.issuing.authorizations

    def bts(self, **params) -> list:
        page = self.client.v1.balance_transactions.list(
            params={"limit": 100, **params}, options=self.o
        )
        return list(page.auto_paging_iter())

    def check(self, **changes: int) -> dict:
        """Apply ``changes`` (currency=delta) to the expected Issuing balance; /v1/balance shows
        it, and it equals the sum of the account's Issuing balance transactions."""
        for currency, delta in changes.items():
            self.expected[currency] = self.expected.get(currency, 0) + delta
        balance = self.client.v1.balance.retrieve(options=self.o)
        shown = {a.currency: a.amount for a in balance.issuing.available}
        for currency, amount in self.expected.items():
            assert shown.get(currency, 0) == amount, (currency, shown, self.expected)
        summed: dict[str, int] = {}
        for bt in self.bts():
            assert bt.net == bt.amount and bt.fee == 0 and bt.fee_details == []
            assert bt.status == "available" and bt.reporting_category
            if bt.balance_type == "issuing":
                summed[bt.currency] = summed.get(bt.currency, 0) + bt.amount
        for currency, amount in self.expected.items():
            assert summed.get(currency, 0) == amount, (currency, summed)
        assert_audit_clean(self.server)
        return shown


def _reason(auth) -> str:
    return auth.request_history[-1].reason


@pytest.fixture()
def connected(server) -> Issuing:
    client = server.client()
    world = Issuing(client, server, activated_account(client))
    world.card = world.new_card()
    return world


def test_a_fresh_account_has_an_empty_balance_and_no_balance_transactions(connected):
    w = connected
    balance = w.client.v1.balance.retrieve(options=w.o)
    assert balance.object == "balance" and balance.livemode is False
    assert [(a.amount, a.currency) for a in balance.available] == [(0, "usd")]
    assert [(a.amount, a.currency) for a in balance.pending] == [(0, "usd")]
    assert [(a.amount, a.currency) for a in balance.issuing.available] == [(0, "usd")]
    assert balance.connect_reserved[0].amount == 0
    assert balance.instant_available[0].net_available == []
    assert balance.refund_and_dispute_prefunding.available[0].amount == 0
    assert balance.available[0].source_types.card == 0
    assert w.bts() == []
    declined = w.authorize(100)
    assert (declined.approved, _reason(declined)) == (False, "insufficient_funds")
    assert declined.balance_transactions == [] and declined.treasury is None
    w.check(usd=0)


def test_top_up_then_purchase_capture_refund_on_the_issuing_balance(connected):
    w = connected
    topup = w.topup(10_000, description="Fund cards", metadata={"batch": "1"})
    assert (topup.object, topup.status, topup.balance_transaction) == ("topup", "pending", None)
    assert topup.expected_availability_date == topup.created and topup.metadata.to_dict() == {
        "batch": "1"
    }
    # The next request sees it settled: succeeded, its balance transaction, the money available.
    topup = w.client.v1.topups.retrieve(topup.id, options=w.o)
    assert topup.status == "succeeded" and topup.balance_transaction.startswith("txn_")
    w.check(usd=10_000)
    [bt] = w.bts()
    assert (bt.type, bt.reporting_category, bt.balance_type, bt.amount, bt.source) == (
        "topup",
        "topup",
        "issuing",
        10_000,
        topup.id,
    )
    expanded = w.client.v1.balance_transactions.retrieve(
        bt.id, params={"expand": ["source"]}, options=w.o
    )
    assert expanded.source.id == topup.id and expanded.source.object == "topup"

    auth = w.authorize(3_000)
    assert auth.approved is True and auth.status == "pending" and auth.treasury is None
    [hold] = auth.balance_transactions
    assert (hold.type, hold.amount, hold.source, hold.balance_type) == (
        "issuing_authorization_hold",
        -3_000,
        auth.id,
        "issuing",
    )
    assert hold.reporting_category == "issuing_authorization_hold"
    w.check(usd=-3_000)

    # A partial capture closing the authorization: the hold is released, the capture debited.
    captured = w.helpers().capture(auth.id, params={"capture_amount": 2_500}, options=w.o)
    assert captured.status == "closed"
    kinds = [(b.type, b.amount) for b in captured.balance_transactions]
    assert kinds == [
        ("issuing_authorization_hold", -3_000),
        ("issuing_authorization_release", 3_000),
    ]
    [txn] = captured.transactions
    assert txn.amount == -2_500 and txn.treasury is None
    txn_bt = w.client.v1.balance_transactions.retrieve(txn.balance_transaction, options=w.o)
    assert (txn_bt.type, txn_bt.amount, txn_bt.source) == ("issuing_transaction", -2_500, txn.id)
    w.check(usd=3_000 - 2_500)
    assert {b.type for b in w.bts(type="issuing_transaction")} == {"issuing_transaction"}
    assert [b.id for b in w.bts(source=txn.id)] == [txn_bt.id]

    w.client.v1.test_helpers.issuing.transactions.refund(
        txn.id, params={"refund_amount": 1_000}, options=w.o
    )
    refund = w.client.v1.issuing.authorizations.retrieve(auth.id, options=w.o).transactions[-1]
    refund_bt = w.client.v1.balance_transactions.retrieve(refund.balance_transaction, options=w.o)
    assert (refund_bt.type, refund_bt.amount, refund.amount) == (
        "issuing_transaction",
        1_000,
        1_000,
    )
    assert refund.type == "refund" and refund_bt.source == refund.id
    w.check(usd=1_000)

    # An over-capture is never refused: the Issuing balance may go below what was held.
    big = w.authorize(4_000)
    w.check(usd=-4_000)
    w.helpers().capture(big.id, params={"capture_amount": 5_000}, options=w.o)
    w.check(usd=4_000 - 5_000)  # 10_000 - 2_500 + 1_000 - 5_000 = 3_500
    assert w.check()["usd"] == 3_500

    # More than the balance declines, and moves nothing.
    declined = w.authorize(3_501)
    assert (declined.approved, _reason(declined)) == (False, "insufficient_funds")
    assert declined.balance_transactions == []
    w.check()
    exact = w.authorize(3_500)
    assert exact.approved is True
    w.check(usd=-3_500)
    assert _reason(w.authorize(1)) == "insufficient_funds"
    w.helpers().reverse(exact.id, options=w.o)
    w.check(usd=3_500)


def test_partial_captures_reversals_increments_and_expiry_release_the_hold(connected, server):
    w = connected
    w.topup(5_000)
    w.check(usd=5_000)
    auth = w.authorize(2_000)
    w.check(usd=-2_000)
    # Increment beyond the balance declines; within it grows the hold.
    grown = w.helpers().increment(auth.id, params={"increment_amount": 3_001}, options=w.o)
    assert grown.request_history[-1].reason == "insufficient_funds"
    w.check()
    grown = w.helpers().increment(auth.id, params={"increment_amount": 1_000}, options=w.o)
    assert grown.balance_transactions[-1].amount == -1_000
    w.check(usd=-1_000)
    # A partial capture that keeps it open, then a partial reversal.
    kept = w.helpers().capture(
        auth.id, params={"capture_amount": 1_000, "close_authorization": False}, options=w.o
    )
    assert kept.status == "pending"
    w.check(usd=0)  # the hold shrinks 3_000 -> 2_000 (+1_000), the capture debits 1_000
    reversed_ = w.helpers().reverse(auth.id, params={"reverse_amount": 500}, options=w.o)
    assert reversed_.balance_transactions[-1].type == "issuing_authorization_release"
    assert reversed_.balance_transactions[-1].amount == 500
    w.check(usd=500)
    # The rest expires with time: released in full.
    server.clock.advance(8 * DAY)
    expired = w.client.v1.issuing.authorizations.retrieve(auth.id, options=w.o)
    assert expired.status == "expired"
    assert expired.balance_transactions[-1].amount == 1_500
    w.check(usd=1_500)
    assert w.check()["usd"] == 4_000
    holds = sum(b.amount for b in expired.balance_transactions)
    assert holds == 0  # every hold it placed was released


def test_disputes_won_credit_the_issuing_balance_and_lost_ones_move_nothing(connected):
    w = connected
    w.topup(10_000)
    w.check(usd=10_000)
    first = w.helpers().capture(w.authorize(3_000).id, options=w.o).transactions[0]
    second = w.helpers().capture(w.authorize(2_000).id, options=w.o).transactions[0]
    w.check(usd=-5_000)
    won = w.client.v1.issuing.disputes.create(
        params={
            "transaction": first.id,
            "evidence": {"reason": "fraudulent", "fraudulent": {"explanation": "not me"}},
        },
        options=w.o,
    )
    assert won.treasury is None and won.balance_transactions == []
    w.client.v1.issuing.disputes.submit(won.id, options=w.o)
    won = w.client.v1.issuing.disputes.retrieve(won.id, options=w.o)
    assert won.status == "won"
    [credit] = won.balance_transactions
    assert (credit.type, credit.amount, credit.source, credit.reporting_category) == (
        "issuing_dispute",
        3_000,
        won.id,
        "issuing_dispute",
    )
    w.check(usd=3_000)
    lost = w.client.v1.issuing.disputes.create(
        params={
            "transaction": second.id,
            "evidence": {"reason": "fraudulent", "fraudulent": {"explanation": "losing_evidence"}},
        },
        options=w.o,
    )
    w.client.v1.issuing.disputes.submit(lost.id, options=w.o)
    lost = w.client.v1.issuing.disputes.retrieve(lost.id, options=w.o)
    assert lost.status == "lost" and lost.balance_transactions == []
    w.check()


def test_real_time_and_network_fallback_do_not_change_the_rules(connected):
    """Without a real-time endpoint the built-in checks decide; a card with no financial account
    is now approved from the Issuing balance, declined once it is short."""
    w = connected
    w.topup(1_000)
    w.check(usd=1_000)
    assert w.authorize(1_000).approved is True
    w.check(usd=-1_000)
    assert _reason(w.authorize(1)) == "insufficient_funds"
    w.check()


@pytest.fixture()
def decider():
    """The platform's real-time decision endpoint: approves every authorization request."""
    with WebhookReceiver() as running:
        headers = {"Content-Type": "application/json", "Stripe-Version": "2026-10-28.endive"}
        running.responder = lambda request: Reply(200, b'{"approved": true}', headers)
        yield running


def test_a_real_time_approval_holds_from_the_issuing_balance(connected, endpoints, decider):
    w = connected
    w.topup(1_000)
    w.check(usd=1_000)
    endpoints(decider, events=["issuing_authorization.request"], account=w.acct)
    auth = w.authorize(600)
    assert auth.approved is True and len(decider.requests) == 1
    assert [b.amount for b in auth.balance_transactions] == [-600]
    w.check(usd=-600)
    # The built-in checks decline before asking the platform: 400 left, 600 asked.
    assert _reason(w.authorize(600)) == "insufficient_funds" and len(decider.requests) == 1
    w.check()


def test_accounts_are_isolated(server):
    client = server.client()
    a = Issuing(client, server, activated_account(client))
    b = Issuing(client, server, activated_account(client))
    platform = Issuing(client, server, None)
    topup = a.topup(7_000)
    a.check(usd=7_000)
    b.check(usd=0)
    platform.check(usd=0)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.topups.retrieve(topup.id, options=b.o)
    assert raised.value.http_status == 404
    [bt] = a.bts()
    for other in (b, platform):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            client.v1.balance_transactions.retrieve(bt.id, options=other.o)
        assert raised.value.http_status == 404
        assert other.bts() == []
        assert client.v1.topups.list(options=other.o).data == []
    # The platform funds its own Issuing balance and spends it with its own cards.
    platform.card = platform.new_card()
    platform.topup(2_000)
    platform.check(usd=2_000)
    assert platform.authorize(1_500).approved is True
    platform.check(usd=-1_500)
    a.check()
    b.check()


def test_top_up_lifecycle_update_list_cancel_and_failures(connected, server):
    w = connected
    first = w.topup(1_000, statement_descriptor="Top-up", transfer_group="g1")
    updated = w.client.v1.topups.update(
        first.id, params={"description": "renamed", "metadata": {"k": "v"}}, options=w.o
    )
    assert (updated.description, updated.metadata.to_dict(), updated.status) == (
        "renamed",
        {"k": "v"},
        "succeeded",
    )
    assert (updated.statement_descriptor, updated.transfer_group) == ("Top-up", "g1")
    with pytest.raises(stripe.InvalidRequestError) as raised:
        w.client.v1.topups.cancel(first.id, options=w.o)
    assert raised.value.http_status == 400
    w.check(usd=1_000)

    # A pending top-up can be canceled: created "later" than the clock, it is not due yet.
    server.clock.advance(3_600)
    later = w.topup(2_000)
    server.clock.advance(-3_600)
    assert w.client.v1.topups.retrieve(later.id, options=w.o).status == "pending"
    canceled = w.client.v1.topups.cancel(later.id, options=w.o)
    assert (canceled.status, canceled.balance_transaction) == ("canceled", None)
    w.check()

    # A failing test bank token: the top-up fails and nothing moves.
    failing = w.topup(3_000, source="btok_us_verified_noAccount")
    failing = w.client.v1.topups.retrieve(failing.id, options=w.o)
    assert (failing.status, failing.failure_code) == ("failed", "no_account")
    assert failing.failure_message and failing.balance_transaction is None
    assert failing.source.object == "source"
    w.check()
    ok = w.topup(4_000, source="btok_us_verified")
    assert w.client.v1.topups.retrieve(ok.id, options=w.o).status == "succeeded"
    w.check(usd=4_000)

    listed = w.client.v1.topups.list(options=w.o).data
    assert [t.id for t in listed] == [ok.id, failing.id, later.id, first.id]
    assert [t.id for t in w.client.v1.topups.list(params={"status": "failed"}, options=w.o)] == [
        failing.id
    ]
    by_amount = w.client.v1.topups.list(params={"amount": {"gte": 2_000, "lt": 4_000}}, options=w.o)
    assert [t.id for t in by_amount.data] == [failing.id, later.id]
    assert [t.id for t in w.client.v1.topups.list(params={"amount": 1_000}, options=w.o)] == [
        first.id
    ]
    paged = w.client.v1.topups.list(params={"amount": {"gte": 1}, "limit": 2}, options=w.o)
    assert [t.id for t in paged.data] == [ok.id, failing.id] and paged.has_more is True
    rest = w.client.v1.topups.list(
        params={"amount": {"gte": 1}, "starting_after": failing.id}, options=w.o
    )
    assert [t.id for t in rest.data] == [later.id, first.id] and rest.has_more is False

    types = [e.type for e in w.client.v1.events.list(params={"limit": 100}, options=w.o).data]
    for expected in ("topup.created", "topup.succeeded", "topup.canceled", "topup.failed"):
        assert expected in types
    assert "balance.available" in types
    for bad in ({"amount": 0}, {"amount": -5}):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            w.topup(**bad)  # type: ignore[arg-type]
        assert raised.value.param == "amount"
    with pytest.raises(stripe.InvalidRequestError) as raised:
        w.topup(100, destination_balance="elsewhere")
    assert raised.value.param == "destination_balance"
    with pytest.raises(stripe.InvalidRequestError) as raised:
        w.topup(100, currency="xyz")
    assert raised.value.param == "currency"
    w.check()


def test_a_plain_top_up_funds_the_payments_balance_not_the_issuing_one(connected):
    w = connected
    plain = w.client.v1.topups.create(params={"amount": 2_500, "currency": "usd"}, options=w.o)
    plain = w.client.v1.topups.retrieve(plain.id, options=w.o)
    assert plain.status == "succeeded"
    balance = w.client.v1.balance.retrieve(options=w.o)
    assert balance.available[0].amount == 2_500 and balance.issuing.available[0].amount == 0
    bt = w.client.v1.balance_transactions.retrieve(plain.balance_transaction, options=w.o)
    assert (bt.balance_type, bt.type, bt.amount) == ("payments", "topup", 2_500)
    assert _reason(w.authorize(100)) == "insufficient_funds"
    w.check(usd=0)


def _raw(client, method: str, path: str, acct: str | None, **params) -> dict:
    if acct:
        params["stripe_account"] = acct
    return json.loads(client.raw_request(method, path, **params).body)


def test_funding_instructions_and_the_fund_balance_test_helper(server):
    client = server.client()
    w = Issuing(client, server, activated_account(client))
    made = _raw(
        client,
        "post",
        "/v1/issuing/funding_instructions",
        w.acct,
        bank_transfer={"type": "eu_bank_transfer"},
        currency="eur",
        funding_type="bank_transfer",
    )
    assert made["object"] == "funding_instructions" and "id" not in made
    assert (made["currency"], made["funding_type"], made["livemode"]) == (
        "eur",
        "bank_transfer",
        False,
    )
    [address] = made["bank_transfer"]["financial_addresses"]
    assert address["type"] == "iban" and address["iban"]["iban"].startswith("DE")
    assert address["supported_networks"] == ["sepa"]
    again = _raw(
        client,
        "post",
        "/v1/issuing/funding_instructions",
        w.acct,
        bank_transfer={"type": "eu_bank_transfer"},
        currency="eur",
        funding_type="bank_transfer",
    )
    assert again == made
    gb = _raw(
        client,
        "post",
        "/v1/issuing/funding_instructions",
        w.acct,
        bank_transfer={"type": "gb_bank_transfer"},
        currency="gbp",
        funding_type="bank_transfer",
    )
    assert gb["bank_transfer"]["financial_addresses"][0]["sort_code"]["sort_code"]
    listed = _raw(client, "get", "/v1/issuing/funding_instructions", w.acct)
    assert [i["currency"] for i in listed["data"]] == ["gbp", "eur"]
    assert listed["url"] == "/v1/issuing/funding_instructions"

    for params, param in (
        ({"bank_transfer": {"type": "eu_bank_transfer"}, "currency": "gbp"}, "currency"),
        ({"bank_transfer": {"type": "us_bank_transfer"}, "currency": "usd"}, "bank_transfer[type]"),
        ({"bank_transfer": {"type": "eu_bank_transfer"}, "currency": "eur", "x": 1}, "x"),
        ({"currency": "eur"}, "bank_transfer"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            _raw(
                client,
                "post",
                "/v1/issuing/funding_instructions",
                w.acct,
                funding_type="bank_transfer",
                **params,
            )
        assert (raised.value.http_status, raised.value.param) == (400, param)

    funded = _raw(
        client,
        "post",
        "/v1/test_helpers/issuing/fund_balance",
        w.acct,
        amount=4_242,
        currency="eur",
    )
    assert funded == made
    w.check(eur=4_242, usd=0)
    [bt] = w.bts(currency="eur")
    assert (bt.type, bt.balance_type, bt.currency) == ("topup", "issuing", "eur")
    topup = w.client.v1.topups.retrieve(bt.source, options=w.o)
    assert (topup.status, topup.amount, topup.currency) == ("succeeded", 4_242, "eur")
    # Per currency: the euros fund nothing in dollars (and cards here are issued in usd only).
    w.card = w.new_card()
    assert _reason(w.authorize(100)) == "insufficient_funds"
    w.check()
    for amount, currency, param in ((0, "eur", "amount"), (100, "usd", "currency")):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            _raw(
                client,
                "post",
                "/v1/test_helpers/issuing/fund_balance",
                w.acct,
                amount=amount,
                currency=currency,
            )
        assert raised.value.param == param


def test_payout_filter_and_unknown_ids(connected):
    w = connected
    with pytest.raises(stripe.InvalidRequestError) as raised:
        w.client.v1.balance_transactions.list(params={"payout": "po_nothing"}, options=w.o)
    assert (raised.value.http_status, raised.value.param) == (404, "payout")
    for call in (
        lambda: w.client.v1.balance_transactions.retrieve("txn_nothing", options=w.o),
        lambda: w.client.v1.topups.retrieve("tu_nothing", options=w.o),
        lambda: w.client.v1.topups.cancel("tu_nothing", options=w.o),
    ):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            call()
        assert raised.value.http_status == 404
