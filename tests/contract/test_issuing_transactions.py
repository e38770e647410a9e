"""Issuing transactions on Treasury-funded cards, through the official SDK.

Captures (negative, settled by a ``card`` received debit), refunds (positive,
settled by a ``card`` received credit), force captures that may overdraw the
financial account, unlinked refunds, and list/retrieve/update. After every
step the balances are checked against expected numbers and against the sum of
the account's Treasury transactions; each test ends with the ledger's audit.
"""

from __future__ import annotations

import pytest
import stripe

from tests.flows import activated_account, assert_audit_clean, assert_books
from tests.refunds import refund as refund_made

ADDRESS = {
    "line1": "1 Main St",
    "city": "San Francisco",
    "state": "CA",
    "postal_code": "94111",
    "country": "US",
}


def _opts(acct: str) -> dict:
    return {"stripe_account": acct}


class Card:
    """A connected account's Treasury-funded card, with helpers for money movements and checks."""

    def __init__(self, client, server, fund: int) -> None:
        self.client, self.server = client, server
        self.acct = activated_account(client)
        self.o = _opts(self.acct)
        self.fa = client.v1.treasury.financial_accounts.create(
            params={
                "supported_currencies": ["usd"],
                "features": {"card_issuing": {"requested": True}},
            },
            options=self.o,
        ).id
        self.cardholder = client.v1.issuing.cardholders.create(
            params={
                "name": "Jenny Rosen",
                "billing": {"address": ADDRESS},
                "individual": {"first_name": "Jenny", "last_name": "Rosen"},
            },
            options=self.o,
        ).id
        self.card = self.new_card()
        if fund:
            client.v1.test_helpers.treasury.received_credits.create(
                params={
                    "financial_account": self.fa,
                    "amount": fund,
                    "currency": "usd",
                    "network": "ach",
                },
                options=self.o,
            )

    def new_card(self) -> str:
        return self.client.v1.issuing.cards.create(
            params={
                "cardholder": self.cardholder,
                "financial_account": self.fa,
                "currency": "usd",
                "type": "virtual",
                "status": "active",
            },
            options=self.o,
        ).id

    @property
    def auth_helpers(self):
        return self.client.v1.test_helpers.issuing.authorizations

    @property
    def txn_helpers(self):
        return self.client.v1.test_helpers.issuing.transactions

    def purchase(self, amount: int, capture: int | None = None, card: str | None = None):
        """Authorize and capture; returns (authorization, capture transaction)."""
        auth = self.auth_helpers.create(
            params={"card": card or self.card, "amount": amount}, options=self.o
        )
        assert auth.approved is True
        params = {} if capture is None else {"capture_amount": capture}
        captured = self.auth_helpers.capture(auth.id, params=params, options=self.o)
        return captured, captured.transactions[-1]

    def refund(self, txn_id: str, amount: int | None = None):
        params = {} if amount is None else {"refund_amount": amount}
        return refund_made(self.client, txn_id, params, self.o)

    def force_capture(self, amount: int, **extra):
        return self.txn_helpers.create_force_capture(
            params={"card": self.card, "amount": amount, **extra}, options=self.o
        )

    def unlinked_refund(self, amount: int, **extra):
        return self.txn_helpers.create_unlinked_refund(
            params={"card": self.card, "amount": amount, **extra}, options=self.o
        )

    def books(self, cash: int, outbound_pending: int = 0) -> None:
        assert_books(self.client, self.acct, self.fa, cash, outbound_pending)

    def audit_clean(self) -> None:
        assert_audit_clean(self.server)


@pytest.fixture()
def card(client, server) -> Card:
    return Card(client, server, fund=10_000)


def _error(call, *args, **kwargs) -> stripe.StripeError:
    with pytest.raises(stripe.StripeError) as raised:
        call(*args, **kwargs)
    return raised.value


def test_capture_transaction_is_negative_and_settled_by_a_received_debit(card):
    c = card
    auth, txn = c.purchase(3_000)
    assert txn.id.startswith("ipi_") and txn.object == "issuing.transaction"
    assert (txn.type, txn.amount, txn.currency) == ("capture", -3_000, "usd")
    assert (txn.merchant_amount, txn.merchant_currency) == (-3_000, "usd")
    assert (txn.authorization, txn.card, txn.cardholder) == (auth.id, c.card, c.cardholder)
    assert txn.merchant_data.to_dict() == auth.merchant_data.to_dict()
    assert txn.network_data.authorization_code == auth.request_history[0].authorization_code
    assert txn.treasury.received_credit is None and txn.metadata.to_dict() == {}
    c.books(cash=7_000)

    debit = c.client.v1.treasury.received_debits.retrieve(txn.treasury.received_debit, options=c.o)
    assert (debit.amount, debit.network, debit.status, debit.financial_account) == (
        3_000,
        "card",
        "succeeded",
        c.fa,
    )
    assert debit.linked_flows.issuing_transaction == txn.id
    assert debit.linked_flows.issuing_authorization == auth.id
    assert auth.treasury.received_debits == [debit.id]

    fetched = c.client.v1.issuing.transactions.retrieve(txn.id, options=c.o)
    assert fetched.to_dict() == txn.to_dict()
    expanded = c.client.v1.issuing.transactions.retrieve(
        txn.id, params={"expand": ["authorization", "card"]}, options=c.o
    )
    assert expanded.authorization.id == auth.id and expanded.card.id == c.card
    c.audit_clean()


def test_list_filters_and_metadata_update(card):
    c = card
    other = c.new_card()
    _, first = c.purchase(1_000)
    _, second = c.purchase(2_000, card=other)
    refund = c.refund(first.id, 400)
    c.books(cash=7_400)

    def ids(**params) -> list[str]:
        page = c.client.v1.issuing.transactions.list(params=params, options=c.o)
        return [t.id for t in page.auto_paging_iter()]

    assert ids() == [refund.id, second.id, first.id]
    assert ids(card=c.card) == [refund.id, first.id]
    assert ids(card=other) == [second.id]
    assert ids(type="capture") == [second.id, first.id]
    assert ids(type="refund") == [refund.id]
    assert ids(cardholder=c.cardholder, type="refund") == [refund.id]
    page = c.client.v1.issuing.transactions.list(params={"limit": 1}, options=c.o)
    assert [t.id for t in page.data] == [refund.id] and page.has_more is True

    updated = c.client.v1.issuing.transactions.update(
        first.id, params={"metadata": {"memo": "lunch"}}, options=c.o
    )
    assert updated.metadata.to_dict() == {"memo": "lunch"} and updated.amount == -1_000
    assert c.client.v1.issuing.transactions.retrieve(first.id, options=c.o).metadata.to_dict() == {
        "memo": "lunch"
    }
    emptied = c.client.v1.issuing.transactions.update(
        first.id, params={"metadata": ""}, options=c.o
    )
    assert emptied.metadata.to_dict() == {}

    missing = _error(c.client.v1.issuing.transactions.retrieve, "ipi_nope", options=c.o)
    assert missing.http_status == 404 and missing.code == "resource_missing"
    stranger = activated_account(c.client)
    assert (
        _error(
            c.client.v1.issuing.transactions.retrieve, first.id, options=_opts(stranger)
        ).http_status
        == 404
    )
    c.books(cash=7_400)
    c.audit_clean()


def test_refund_partially_then_the_remainder(card):
    c = card
    auth, capture = c.purchase(4_000)
    c.books(cash=6_000)

    partial = c.refund(capture.id, 1_500)
    assert (partial.type, partial.amount, partial.merchant_amount) == ("refund", 1_500, 1_500)
    assert partial.authorization == auth.id and partial.treasury.received_debit is None
    credit = c.client.v1.treasury.received_credits.retrieve(
        partial.treasury.received_credit, options=c.o
    )
    assert (credit.amount, credit.network, credit.status) == (1_500, "card", "succeeded")
    assert credit.linked_flows.issuing_transaction == partial.id
    assert credit.linked_flows.issuing_authorization == auth.id
    trxn = c.client.v1.treasury.transactions.retrieve(credit.transaction, options=c.o)
    assert (trxn.flow_type, trxn.status, trxn.amount) == ("received_credit", "posted", 1_500)
    c.books(cash=7_500)

    too_much = _error(c.refund, capture.id, 2_501)
    assert too_much.http_status == 400 and too_much.param == "refund_amount"
    c.books(cash=7_500)

    rest = c.refund(capture.id)
    assert rest.amount == 2_500
    c.books(cash=10_000)
    nothing_left = _error(c.refund, capture.id)
    assert nothing_left.http_status == 400
    of_a_refund = _error(c.refund, rest.id, 1)
    assert of_a_refund.http_status == 400 and of_a_refund.param == "transaction"

    linked = c.client.v1.issuing.authorizations.retrieve(auth.id, options=c.o)
    assert linked.treasury.received_credits == [
        partial.treasury.received_credit,
        rest.treasury.received_credit,
    ]
    assert {t.id for t in linked.transactions} == {capture.id, partial.id, rest.id}
    assert _error(c.refund, "ipi_nope").http_status == 404
    c.books(cash=10_000)
    c.audit_clean()


def test_refund_more_than_captured_is_refused(card):
    c = card
    _, capture = c.purchase(2_000, capture=1_200)  # partial capture: only 1200 was taken
    c.books(cash=8_800)
    error = _error(c.refund, capture.id, 1_201)
    assert error.http_status == 400 and error.param == "refund_amount"
    assert _error(c.refund, capture.id, 0).http_status == 400
    assert c.refund(capture.id, 1_200).amount == 1_200
    c.books(cash=10_000)
    c.audit_clean()


def test_force_capture_may_overdraw_and_the_platform_covers_it(client, server):
    c = Card(client, server, fund=1_000)
    forced = c.force_capture(
        2_500, merchant_data={"name": "Late Diner", "category": "eating_places_restaurants"}
    )
    assert (forced.type, forced.amount, forced.authorization) == ("capture", -2_500, None)
    assert (
        forced.merchant_data.name == "Late Diner" and forced.network_data.authorization_code is None
    )
    debit = c.client.v1.treasury.received_debits.retrieve(
        forced.treasury.received_debit, options=c.o
    )
    assert debit.status == "succeeded" and debit.network == "card"
    assert debit.linked_flows.issuing_authorization is None
    assert debit.linked_flows.issuing_transaction == forced.id
    c.books(cash=-1_500)

    # Nothing else may overdraw it further.
    declined = c.auth_helpers.create(params={"card": c.card, "amount": 1}, options=c.o)
    assert declined.approved is False and declined.request_history[0].reason == "insufficient_funds"
    ach = c.client.v1.test_helpers.treasury.received_debits.create(
        params={"financial_account": c.fa, "amount": 1, "currency": "usd", "network": "ach"},
        options=c.o,
    )
    assert ach.status == "failed" and ach.failure_code == "insufficient_funds"
    c.books(cash=-1_500)

    # A force capture can be refunded like any capture.
    refund = c.refund(forced.id, 2_000)
    assert refund.authorization is None and refund.amount == 2_000
    credit = c.client.v1.treasury.received_credits.retrieve(
        refund.treasury.received_credit, options=c.o
    )
    assert credit.linked_flows.issuing_authorization is None
    c.books(cash=500)
    assert _error(c.force_capture, 0).http_status == 400
    unknown = _error(
        c.txn_helpers.create_force_capture, params={"card": "ic_nope", "amount": 1}, options=c.o
    )
    assert unknown.http_status == 404 and unknown.param == "card"
    c.books(cash=500)
    c.audit_clean()


def test_unlinked_refund_credits_the_account(card):
    c = card
    refund = c.unlinked_refund(1_234)
    assert (refund.type, refund.amount, refund.authorization) == ("refund", 1_234, None)
    credit = c.client.v1.treasury.received_credits.retrieve(
        refund.treasury.received_credit, options=c.o
    )
    assert (credit.amount, credit.network, credit.status) == (1_234, "card", "succeeded")
    assert credit.linked_flows.issuing_transaction == refund.id
    assert credit.linked_flows.issuing_authorization is None
    assert credit.initiating_payment_method_details.type == "issuing_card"
    c.books(cash=11_234)
    assert _error(c.refund, refund.id, 1).http_status == 400  # a refund is not refundable
    assert _error(c.unlinked_refund, -5).http_status == 400
    c.books(cash=11_234)
    c.audit_clean()


def test_card_money_in_a_currency_the_account_does_not_hold_is_refused(card):
    c = card
    error = _error(c.force_capture, 100, currency="eur")
    assert error.http_status == 400
    error = _error(c.unlinked_refund, 100, currency="eur")
    assert error.http_status == 400
    c.books(cash=10_000)
    c.audit_clean()


def test_refund_helper_answers_with_the_capture_named_in_the_url(card):
    """Stripe's reference: the answer is the capture; the refund is reached from the authorization
    (its ``transactions``) and from the ``issuing_transaction.created`` event."""
    c = card
    auth, capture = c.purchase(2_000)
    answered = c.txn_helpers.refund(capture.id, params={"refund_amount": 700}, options=c.o)
    assert (answered.id, answered.type, answered.amount) == (capture.id, "capture", -2_000)
    linked = c.client.v1.issuing.authorizations.retrieve(auth.id, options=c.o)
    refunds = [t for t in linked.transactions if t.id != capture.id]
    assert len(refunds) == 1
    made = c.client.v1.issuing.transactions.retrieve(refunds[0].id, options=c.o)
    assert (made.type, made.amount, made.authorization) == ("refund", 700, auth.id)
    created = c.client.v1.events.list(
        params={"type": "issuing_transaction.created", "limit": 1}, options=c.o
    ).data[0]
    assert created.data.object["id"] == made.id
    c.books(cash=8_700)
    c.audit_clean()
