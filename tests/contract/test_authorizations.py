"""Issuing authorizations on Treasury-funded cards, through the official SDK.

The test-helper purchase (approvals and every decline reason, in the decision
precedence), list/retrieve/update, and everything a merchant does afterwards:
capture (full, partial, over, multi), reverse, expire (helper and clock),
increment, finalize_amount, and the legacy approve/decline calls. After every
step the financial account's balances are checked against expected numbers
(stripe-surface.md §6.2) and against the sum of its Treasury transactions;
each test ends with the ledger's own audit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
import stripe

from tests.flows import activated_account, assert_audit_clean, assert_books

ADDRESS = {
    "line1": "1 Main St",
    "city": "San Francisco",
    "state": "CA",
    "postal_code": "94111",
    "country": "US",
}
DAY = 86400


def _opts(acct: str) -> dict:
    return {"stripe_account": acct}


@dataclass
class World:
    """One connected account with a financial account, a cardholder and an active card on it."""

    client: stripe.StripeClient
    server: object
    acct: str
    fa: str
    cardholder: str
    card: str

    @property
    def o(self) -> dict:
        return _opts(self.acct)

    # -- actions
    def fund(self, amount: int) -> None:
        self.client.v1.test_helpers.treasury.received_credits.create(
            params={
                "financial_account": self.fa,
                "amount": amount,
                "currency": "usd",
                "network": "ach",
            },
            options=self.o,
        )

    def authorize(self, amount: int | None = None, card: str | None = None, **extra):
        params = {"card": card or self.card, **extra}
        if amount is not None:
            params["amount"] = amount
        return self.client.v1.test_helpers.issuing.authorizations.create(
            params=params, options=self.o
        )

    def helpers(self):
        return self.client.v1.test_helpers.issuing.authorizations

    def capture(self, auth_id: str, **params):
        return self.helpers().capture(auth_id, params=params, options=self.o)

    def reverse(self, auth_id: str, **params):
        return self.helpers().reverse(auth_id, params=params, options=self.o)

    def retrieve(self, auth_id: str, **params):
        return self.client.v1.issuing.authorizations.retrieve(
            auth_id, params=params, options=self.o
        )

    def trxn(self, trxn_id: str):
        return self.client.v1.treasury.transactions.retrieve(
            trxn_id, params={"expand": ["entries"]}, options=self.o
        )

    def new_card(self, cardholder: str | None = None, **extra) -> str:
        params = {
            "cardholder": cardholder or self.cardholder,
            "financial_account": self.fa,
            "currency": "usd",
            "type": "virtual",
            "status": "active",
            **extra,
        }
        return self.client.v1.issuing.cards.create(params=params, options=self.o).id

    # -- checks
    def books(self, cash: int, outbound_pending: int = 0) -> None:
        """Balances as expected, and equal to the sum of the Treasury transactions' impacts."""
        assert_books(self.client, self.acct, self.fa, cash, outbound_pending)

    def audit_clean(self) -> None:
        assert_audit_clean(self.server)


def _cardholder(client, acct: str, **extra) -> str:
    params = {
        "name": "Jenny Rosen",
        "billing": {"address": ADDRESS},
        "type": "individual",
        "individual": {"first_name": "Jenny", "last_name": "Rosen"},
        **extra,
    }
    return client.v1.issuing.cardholders.create(params=params, options=_opts(acct)).id


def make_world(
    client, server, *, fund: int = 0, card: dict | None = None, cardholder: dict | None = None
) -> World:
    acct = activated_account(client)
    fa = client.v1.treasury.financial_accounts.create(
        params={"supported_currencies": ["usd"], "features": {"card_issuing": {"requested": True}}},
        options=_opts(acct),
    ).id
    holder = _cardholder(client, acct, **(cardholder or {}))
    world = World(client, server, acct, fa, holder, "")
    world.card = world.new_card(**(card or {}))
    if fund:
        world.fund(fund)
    return world


@pytest.fixture()
def world(client, server) -> World:
    return make_world(client, server, fund=10_000)


def _error(call, *args, **kwargs) -> stripe.StripeError:
    with pytest.raises(stripe.StripeError) as raised:
        call(*args, **kwargs)
    return raised.value


def _reason(auth) -> str:
    assert auth.approved is False and auth.status == "closed"
    return auth.request_history[-1].reason


# -- approval ----------------------------------------------------------------------


def test_approved_authorization_places_a_hold(world):
    w = world
    w.books(cash=10_000)
    auth = w.authorize(2_500)

    assert auth.id.startswith("iauth_") and auth.object == "issuing.authorization"
    assert (auth.status, auth.approved, auth.amount, auth.currency) == (
        "pending",
        True,
        2_500,
        "usd",
    )
    assert (auth.merchant_amount, auth.merchant_currency) == (2_500, "usd")
    assert auth.merchant_data.name == "Rocket Rides"
    assert (auth.merchant_data.category, auth.merchant_data.category_code) == (
        "taxicabs_limousines",
        "4121",
    )
    assert auth.authorization_method == "online" and auth.pending_request is None
    assert auth.card.id == w.card and auth.card.object == "issuing.card"
    assert auth.card.cardholder.id == w.cardholder and auth.cardholder == w.cardholder
    assert auth.transactions == [] and auth.balance_transactions == []
    [history] = auth.request_history
    assert (history.approved, history.reason, history.amount) == (True, "card_active", 2_500)
    assert re.fullmatch(r"S\d{6}", history.authorization_code)
    assert auth.treasury.received_debits == [] and auth.treasury.received_credits == []
    w.books(cash=7_500, outbound_pending=2_500)

    trxn = w.trxn(auth.treasury.transaction)
    assert (trxn.flow, trxn.flow_type, trxn.status, trxn.amount) == (
        auth.id,
        "issuing_authorization",
        "open",
        -2_500,
    )
    assert trxn.balance_impact.to_dict() == {
        "cash": -2_500,
        "inbound_pending": 0,
        "outbound_pending": 2_500,
    }
    [entry] = trxn.entries.data
    assert entry.type == "issuing_authorization_hold"
    assert entry.balance_impact.to_dict() == {
        "cash": -2_500,
        "inbound_pending": 0,
        "outbound_pending": 2_500,
    }
    details = w.client.v1.treasury.transactions.retrieve(
        trxn.id, params={"expand": ["flow_details"]}, options=w.o
    ).flow_details
    assert details.type == "issuing_authorization" and details.issuing_authorization.id == auth.id

    # Exactly the remaining cash can still be authorized.
    second = w.authorize(
        7_500, merchant_data={"category": "bakeries", "name": "Tartine", "country": "us"}
    )
    assert second.approved is True and second.merchant_data.category_code == "5462"
    assert second.merchant_data.country == "US"
    w.books(cash=0, outbound_pending=10_000)
    assert _reason(w.authorize(1)) == "insufficient_funds"
    w.books(cash=0, outbound_pending=10_000)
    w.audit_clean()


def test_declined_authorization_moves_nothing(world):
    w = world
    declined = w.authorize(10_001)
    assert (declined.status, declined.approved, declined.amount) == ("closed", False, 10_001)
    [history] = declined.request_history
    assert (history.approved, history.reason, history.authorization_code) == (
        False,
        "insufficient_funds",
        None,
    )
    assert history.reason_message
    assert declined.treasury is None
    w.books(cash=10_000)
    trxns = w.client.v1.treasury.transactions.list(
        params={"financial_account": w.fa}, options=w.o
    ).data
    assert [t.flow_type for t in trxns] == ["received_credit"]
    w.audit_clean()


def test_decline_reasons_follow_the_documented_precedence(client, server):
    """Start with every problem at once; fix them one by one and watch the next reason surface."""
    w = make_world(
        client,
        server,
        card={
            "status": "inactive",
            "spending_controls": {"blocked_categories": ["taxicabs_limousines"]},
        },
    )
    client.v1.issuing.cardholders.update(w.cardholder, params={"status": "inactive"}, options=w.o)
    client.v1.treasury.financial_accounts.update(
        w.fa, params={"platform_restrictions": {"outbound_flows": "restricted"}}, options=w.o
    )

    assert _reason(w.authorize(1_000)) == "card_inactive"
    client.v1.issuing.cards.update(w.card, params={"status": "active"}, options=w.o)
    assert _reason(w.authorize(1_000)) == "cardholder_inactive"
    client.v1.issuing.cardholders.update(w.cardholder, params={"status": "active"}, options=w.o)
    assert _reason(w.authorize(1_000)) == "not_allowed"
    client.v1.treasury.financial_accounts.update(
        w.fa, params={"platform_restrictions": {"outbound_flows": "unrestricted"}}, options=w.o
    )
    currency = w.authorize(1_000, currency="eur")
    assert _reason(currency) == "not_allowed" and currency.currency == "eur"
    assert _reason(w.authorize(1_000)) == "spending_controls"
    client.v1.issuing.cards.update(
        w.card, params={"spending_controls": {"blocked_categories": ["bakeries"]}}, options=w.o
    )
    assert _reason(w.authorize(1_000)) == "insufficient_funds"
    w.books(cash=0)
    w.fund(1_000)
    approved = w.authorize(1_000)
    assert approved.approved is True and approved.request_history[0].reason == "card_active"
    w.books(cash=0, outbound_pending=1_000)
    w.audit_clean()


def test_canceled_card_is_declined(world):
    w = world
    w.client.v1.issuing.cards.update(w.card, params={"status": "canceled"}, options=w.o)
    assert _reason(w.authorize(100)) == "card_canceled"
    w.books(cash=10_000)
    w.audit_clean()


def test_cardholder_missing_names_needs_verification(client, server):
    acct_world = make_world(client, server, fund=5_000)
    w = acct_world
    nameless = _cardholder(client, w.acct, individual={"dob": {"day": 1, "month": 1, "year": 1990}})
    holder = client.v1.issuing.cardholders.retrieve(nameless, options=w.o)
    assert holder.requirements.disabled_reason == "requirements.past_due"
    card = w.new_card(cardholder=nameless)
    assert _reason(w.authorize(100, card=card)) == "cardholder_verification_required"
    client.v1.issuing.cardholders.update(
        nameless, params={"individual": {"first_name": "Ada", "last_name": "Lovelace"}}, options=w.o
    )
    assert w.authorize(100, card=card).approved is True
    w.books(cash=4_900, outbound_pending=100)
    w.audit_clean()


def test_financial_account_without_active_card_issuing_is_account_disabled(world):
    w = world
    features = w.client.v1.treasury.financial_accounts.features.update(
        w.fa, params={"card_issuing": {"requested": False}}, options=w.o
    )
    assert features.card_issuing is None
    assert _reason(w.authorize(100)) == "account_disabled"
    w.books(cash=10_000)
    w.audit_clean()


# -- spending controls ---------------------------------------------------------------


def test_card_blocked_and_allowed_categories(client, server):
    w = make_world(
        client,
        server,
        fund=10_000,
        card={"spending_controls": {"blocked_categories": ["bakeries"]}},
    )
    assert _reason(w.authorize(100, merchant_data={"category": "bakeries"})) == "spending_controls"
    assert w.authorize(100).approved is True
    allowed = w.new_card(spending_controls={"allowed_categories": ["bakeries"]})
    assert _reason(w.authorize(100, card=allowed)) == "spending_controls"
    assert w.authorize(100, card=allowed, merchant_data={"category": "bakeries"}).approved is True
    w.books(cash=9_800, outbound_pending=200)
    w.audit_clean()


def test_card_per_authorization_limit(client, server):
    limit = {"spending_limits": [{"amount": 1_000, "interval": "per_authorization"}]}
    w = make_world(client, server, fund=10_000, card={"spending_controls": limit})
    assert _reason(w.authorize(1_001)) == "spending_controls"
    assert w.authorize(1_000).approved is True
    assert w.authorize(1_000).approved is True  # per authorization: earlier ones do not count
    w.books(cash=8_000, outbound_pending=2_000)
    w.audit_clean()


def test_card_daily_limit_counts_earlier_approvals_but_not_declines_or_reversals(client, server):
    limit = {"spending_limits": [{"amount": 3_000, "interval": "daily"}]}
    w = make_world(client, server, fund=10_000, card={"spending_controls": limit})
    first = w.authorize(2_000)
    assert first.approved is True
    assert _reason(w.authorize(1_500)) == "spending_controls"
    assert w.authorize(1_000).approved is True  # 2000 + 1000 = the limit exactly
    assert _reason(w.authorize(1)) == "spending_controls"
    w.books(cash=7_000, outbound_pending=3_000)
    # A reversal gives the spend back.
    w.reverse(first.id)
    w.books(cash=9_000, outbound_pending=1_000)
    assert w.authorize(1_500).approved is True
    w.books(cash=7_500, outbound_pending=2_500)
    w.audit_clean()


def test_daily_limit_counts_what_was_captured_not_what_was_held(client, server):
    limit = {"spending_limits": [{"amount": 3_000, "interval": "daily"}]}
    w = make_world(client, server, fund=10_000, card={"spending_controls": limit})
    first = w.authorize(2_000)
    w.capture(first.id, capture_amount=500)
    w.books(cash=9_500)
    assert _reason(w.authorize(2_501)) == "spending_controls"
    second = w.authorize(2_500)
    assert second.approved is True
    w.books(cash=7_000, outbound_pending=2_500)
    w.audit_clean()


def test_limit_scoped_to_categories_leaves_other_categories_alone(client, server):
    limit = {"spending_limits": [{"amount": 500, "interval": "daily", "categories": ["bakeries"]}]}
    w = make_world(client, server, fund=10_000, card={"spending_controls": limit})
    assert _reason(w.authorize(600, merchant_data={"category": "bakeries"})) == "spending_controls"
    assert w.authorize(5_000).approved is True
    assert w.authorize(500, merchant_data={"category": "bakeries"}).approved is True
    w.books(cash=4_500, outbound_pending=5_500)
    w.audit_clean()


def test_cardholder_limits_span_all_their_cards(client, server):
    controls = {
        "spending_limits": [{"amount": 2_500, "interval": "daily"}],
        "spending_limits_currency": "usd",
    }
    w = make_world(client, server, fund=10_000, cardholder={"spending_controls": controls})
    other_card = w.new_card()
    assert w.authorize(2_000).approved is True
    declined = w.authorize(1_000, card=other_card)
    assert _reason(declined) == "spending_controls"
    assert "cardholder" in declined.request_history[0].reason_message
    assert w.authorize(500, card=other_card).approved is True
    w.books(cash=7_500, outbound_pending=2_500)
    w.audit_clean()


def test_merchant_country_controls(client, server):
    w = make_world(
        client,
        server,
        fund=10_000,
        card={"spending_controls": {"allowed_merchant_countries": ["US"]}},
    )
    assert _reason(w.authorize(100, merchant_data={"country": "CA"})) == "spending_controls"
    assert w.authorize(100, merchant_data={"country": "US"}).approved is True
    blocked = w.new_card(spending_controls={"blocked_merchant_countries": ["ca"]})
    assert (
        _reason(w.authorize(100, card=blocked, merchant_data={"country": "ca"}))
        == "spending_controls"
    )
    assert w.authorize(100, card=blocked).approved is True
    w.books(cash=9_800, outbound_pending=200)
    w.audit_clean()


# -- list, retrieve, update ------------------------------------------------------------


def test_list_retrieve_and_update_metadata(world):
    w = world
    other_card = w.new_card()
    first = w.authorize(1_000)
    second = w.authorize(2_000, card=other_card)
    declined = w.authorize(50_000)
    w.reverse(first.id)

    def ids(**params) -> list[str]:
        page = w.client.v1.issuing.authorizations.list(params=params, options=w.o)
        return [a.id for a in page.auto_paging_iter()]

    assert ids() == [declined.id, second.id, first.id]
    assert ids(card=w.card) == [declined.id, first.id]
    assert ids(card=other_card) == [second.id]
    assert ids(status="pending") == [second.id]
    assert ids(status="reversed") == [first.id]
    assert ids(status="closed") == [declined.id]
    assert ids(card=other_card, status="closed") == []
    assert ids(cardholder=w.cardholder) == [declined.id, second.id, first.id]
    page = w.client.v1.issuing.authorizations.list(params={"limit": 2}, options=w.o)
    assert len(page.data) == 2 and page.has_more is True

    fetched = w.retrieve(second.id)
    assert fetched.to_dict() == second.to_dict()
    expanded = w.retrieve(second.id, expand=["cardholder"])
    assert expanded.cardholder.id == w.cardholder

    updated = w.client.v1.issuing.authorizations.update(
        second.id, params={"metadata": {"order": "42", "note": "x"}}, options=w.o
    )
    assert updated.metadata.to_dict() == {"order": "42", "note": "x"}
    cleared = w.client.v1.issuing.authorizations.update(
        second.id, params={"metadata": {"note": ""}}, options=w.o
    )
    assert cleared.metadata.to_dict() == {"order": "42"}
    assert w.retrieve(second.id).metadata.to_dict() == {"order": "42"}
    w.books(cash=8_000, outbound_pending=2_000)

    missing = _error(w.retrieve, "iauth_nope")
    assert missing.http_status == 404 and missing.code == "resource_missing"
    other = activated_account(w.client)
    assert (
        _error(
            w.client.v1.issuing.authorizations.retrieve, second.id, options=_opts(other)
        ).http_status
        == 404
    )
    unknown_card = _error(w.authorize, 100, card="ic_nope")
    assert unknown_card.http_status == 404 and unknown_card.param == "card"
    w.audit_clean()


# -- capture ---------------------------------------------------------------------------


def test_full_capture_closes_the_authorization_and_debits_through_a_received_debit(world):
    w = world
    auth = w.authorize(4_000)
    w.books(cash=6_000, outbound_pending=4_000)
    captured = w.capture(auth.id)
    assert (captured.status, captured.approved, captured.amount) == ("closed", True, 4_000)
    [txn] = captured.transactions
    assert (txn.type, txn.amount, txn.authorization) == ("capture", -4_000, auth.id)
    [rd_id] = captured.treasury.received_debits
    assert txn.treasury.received_debit == rd_id and txn.treasury.received_credit is None
    w.books(cash=6_000)

    debit = w.client.v1.treasury.received_debits.retrieve(rd_id, options=w.o)
    assert (debit.network, debit.status, debit.amount) == ("card", "succeeded", 4_000)
    assert debit.linked_flows.issuing_authorization == auth.id
    assert debit.linked_flows.issuing_transaction == txn.id
    assert debit.initiating_payment_method_details.type == "issuing_card"
    assert debit.initiating_payment_method_details.issuing_card == w.card
    rd_trxn = w.trxn(debit.transaction)
    assert (rd_trxn.flow_type, rd_trxn.status, rd_trxn.amount) == (
        "received_debit",
        "posted",
        -4_000,
    )

    hold_trxn = w.trxn(auth.treasury.transaction)
    assert hold_trxn.status == "void" and hold_trxn.amount == 0
    assert hold_trxn.status_transitions.void_at is not None
    assert sorted(e.type for e in hold_trxn.entries.data) == [
        "issuing_authorization_hold",
        "issuing_authorization_release",
    ]

    again = _error(w.capture, auth.id)
    assert again.http_status == 400
    w.books(cash=6_000)
    w.audit_clean()


def test_partial_capture_releases_the_rest(world):
    w = world
    auth = w.authorize(4_000)
    captured = w.capture(auth.id, capture_amount=1_500)
    assert captured.status == "closed" and captured.transactions[0].amount == -1_500
    w.books(cash=8_500)
    w.audit_clean()


def test_over_capture_takes_the_larger_amount_even_below_zero(world):
    w = world
    auth = w.authorize(4_000)
    captured = w.capture(auth.id, capture_amount=5_000)
    assert captured.status == "closed" and captured.transactions[0].amount == -5_000
    w.books(cash=5_000)
    # A capture is never refused: the platform covers a negative balance.
    big = w.authorize(5_000)
    w.books(cash=0, outbound_pending=5_000)
    w.capture(big.id, capture_amount=7_000)
    w.books(cash=-2_000)
    assert _reason(w.authorize(1)) == "insufficient_funds"
    w.audit_clean()


def test_multi_capture_keeps_the_authorization_open_until_the_final_capture(world):
    w = world
    auth = w.authorize(5_000)
    first = w.capture(auth.id, capture_amount=2_000, close_authorization=False)
    assert first.status == "pending" and len(first.transactions) == 1
    w.books(cash=5_000, outbound_pending=3_000)
    assert w.trxn(auth.treasury.transaction).status == "open"
    second = w.capture(auth.id, capture_amount=1_000, close_authorization=False)
    assert second.status == "pending" and len(second.treasury.received_debits) == 2
    w.books(cash=5_000, outbound_pending=2_000)
    final = w.capture(auth.id, capture_amount=1_500)
    assert final.status == "closed"
    assert sorted(t.amount for t in final.transactions) == [-2_000, -1_500, -1_000]
    w.books(cash=5_500)
    hold_trxn = w.trxn(auth.treasury.transaction)
    assert hold_trxn.status == "void" and hold_trxn.amount == 0
    w.audit_clean()


def test_capture_of_everything_left_closes_the_authorization_even_when_asked_to_keep_it_open(world):
    w = world
    auth = w.authorize(5_000)
    w.capture(auth.id, capture_amount=2_000, close_authorization=False)
    rest = w.capture(auth.id, capture_amount=3_500, close_authorization=False)  # more than is left
    assert rest.status == "closed"
    w.books(cash=4_500)
    hold_trxn = w.trxn(auth.treasury.transaction)
    assert (hold_trxn.status, hold_trxn.amount) == ("void", 0)
    assert _error(w.capture, auth.id, capture_amount=1).http_status == 400
    w.audit_clean()


def test_multi_capture_then_reverse_the_remainder(world):
    w = world
    auth = w.authorize(5_000)
    w.capture(auth.id, capture_amount=2_000, close_authorization=False)
    w.books(cash=5_000, outbound_pending=3_000)
    reversed_ = w.reverse(auth.id)
    # Something was captured, so the authorization is closed rather than reversed.
    assert reversed_.status == "closed" and reversed_.amount == 2_000
    w.books(cash=8_000)
    w.audit_clean()


# -- reverse, expire, increment, finalize ----------------------------------------------


def test_full_reverse_releases_the_hold(world):
    w = world
    auth = w.authorize(3_000)
    reversed_ = w.reverse(auth.id)
    assert (reversed_.status, reversed_.amount, reversed_.approved) == ("reversed", 0, True)
    w.books(cash=10_000)
    trxn = w.trxn(auth.treasury.transaction)
    assert trxn.status == "void" and trxn.amount == 0
    assert _error(w.reverse, auth.id).http_status == 400
    assert _error(w.capture, auth.id).http_status == 400
    w.audit_clean()


def test_partial_reverse_keeps_the_authorization_pending(world):
    w = world
    auth = w.authorize(3_000)
    partly = w.reverse(auth.id, reverse_amount=1_000)
    assert (partly.status, partly.amount) == ("pending", 2_000)
    w.books(cash=8_000, outbound_pending=2_000)
    trxn = w.trxn(auth.treasury.transaction)
    assert trxn.status == "open" and trxn.amount == -2_000
    release = [e for e in trxn.entries.data if e.type == "issuing_authorization_release"]
    assert [e.balance_impact.cash for e in release] == [1_000]
    too_much = _error(w.reverse, auth.id, reverse_amount=2_001)
    assert too_much.http_status == 400 and too_much.param == "reverse_amount"
    w.books(cash=8_000, outbound_pending=2_000)
    w.capture(auth.id)
    w.books(cash=8_000)
    w.audit_clean()


def test_expire_helper_releases_the_hold(world):
    w = world
    auth = w.authorize(3_000)
    expired = w.helpers().expire(auth.id, options=w.o)
    assert expired.status == "expired"
    w.books(cash=10_000)
    assert w.trxn(auth.treasury.transaction).status == "void"
    assert _error(w.helpers().expire, auth.id, options=w.o).http_status == 400
    assert _error(w.capture, auth.id).http_status == 400
    w.audit_clean()


def test_authorizations_expire_with_the_clock_except_long_lived_merchants(world):
    w = world
    auth = w.authorize(3_000)
    hotel = w.authorize(2_000, merchant_data={"category": "hotels_motels_and_resorts"})
    w.books(cash=5_000, outbound_pending=5_000)
    w.server.clock.advance(7 * DAY + 1)
    fetched = w.retrieve(auth.id)
    assert fetched.status == "expired"
    w.books(cash=8_000, outbound_pending=2_000)
    assert w.retrieve(hotel.id).status == "pending"
    w.server.clock.advance(DAY)  # eight days later: a hotel may still capture
    assert w.retrieve(hotel.id).status == "pending"
    captured = w.capture(hotel.id, capture_amount=2_200)
    assert captured.status == "closed"
    w.books(cash=7_800)
    w.audit_clean()


def test_expired_holds_do_not_block_new_spending(world):
    """Expiry is lazy; whatever touches the balance next must see the hold released."""
    w = world
    w.authorize(10_000)
    w.books(cash=0, outbound_pending=10_000)
    w.server.clock.advance(7 * DAY + 1)
    assert w.authorize(4_000).approved is True
    w.books(cash=6_000, outbound_pending=4_000)
    debit = w.client.v1.test_helpers.treasury.received_debits.create(
        params={"financial_account": w.fa, "amount": 1_000, "currency": "usd", "network": "ach"},
        options=w.o,
    )
    assert debit.status == "succeeded"
    w.books(cash=5_000, outbound_pending=4_000)
    w.audit_clean()


def test_financial_account_balance_releases_overdue_holds_by_itself(world):
    w = world
    w.authorize(3_000)
    w.server.clock.advance(7 * DAY + 1)
    w.books(cash=10_000)


def test_every_overdue_hold_is_released_at_once(client, server):
    """More overdue authorizations than one expiry batch: none may still hold cash afterwards."""
    w = make_world(client, server, fund=120)
    for _ in range(120):
        assert w.authorize(1).approved is True
    w.books(cash=0, outbound_pending=120)
    w.server.clock.advance(7 * DAY + 1)
    w.books(cash=120)
    pending = w.client.v1.issuing.authorizations.list(params={"status": "pending"}, options=w.o)
    assert pending.data == []
    w.audit_clean()


def test_increment_is_approved_only_when_funds_allow(world):
    w = world
    auth = w.authorize(4_000)
    up = w.helpers().increment(auth.id, params={"increment_amount": 1_000}, options=w.o)
    assert (up.status, up.amount, up.approved) == ("pending", 5_000, True)
    assert [(h.approved, h.reason) for h in up.request_history] == [
        (True, "card_active"),
        (True, "card_active"),
    ]
    assert up.request_history[1].amount == 5_000
    w.books(cash=5_000, outbound_pending=5_000)
    trxn = w.trxn(auth.treasury.transaction)
    assert trxn.amount == -5_000 and trxn.status == "open"

    refused = w.helpers().increment(auth.id, params={"increment_amount": 5_001}, options=w.o)
    assert (refused.status, refused.amount) == ("pending", 5_000)
    last = refused.request_history[-1]
    assert (last.approved, last.reason, last.authorization_code) == (
        False,
        "insufficient_funds",
        None,
    )
    assert len(refused.request_history) == 3
    w.books(cash=5_000, outbound_pending=5_000)

    exact = w.helpers().increment(auth.id, params={"increment_amount": 5_000}, options=w.o)
    assert exact.amount == 10_000
    w.books(cash=0, outbound_pending=10_000)
    w.capture(auth.id)
    w.books(cash=0)
    w.audit_clean()


def test_increment_past_a_spending_limit_is_declined(client, server):
    limit = {"spending_limits": [{"amount": 1_000, "interval": "daily"}]}
    w = make_world(client, server, fund=10_000, card={"spending_controls": limit})
    auth = w.authorize(800)
    up = w.helpers().increment(auth.id, params={"increment_amount": 500}, options=w.o)
    assert (up.amount, up.request_history[-1].approved) == (800, False)
    assert up.request_history[-1].reason == "spending_controls"
    w.books(cash=9_200, outbound_pending=800)


def test_finalize_amount_moves_the_hold_to_the_final_amount(world):
    w = world
    fuel = {"category": "automated_fuel_dispensers"}
    auth = w.authorize(8_000, merchant_data=fuel)
    final = w.helpers().finalize_amount(auth.id, params={"final_amount": 4_500}, options=w.o)
    assert (final.status, final.amount) == ("pending", 4_500)
    w.books(cash=5_500, outbound_pending=4_500)
    w.capture(auth.id)
    w.books(cash=5_500)
    w.audit_clean()


def test_finalize_amount_never_spends_cash_that_is_not_there(world):
    w = world
    auth = w.authorize(10_000, merchant_data={"category": "automated_fuel_dispensers"})
    w.books(cash=0, outbound_pending=10_000)
    error = _error(
        w.helpers().finalize_amount, auth.id, params={"final_amount": 12_000}, options=w.o
    )
    assert error.http_status == 400
    w.books(cash=0, outbound_pending=10_000)
    assert w.retrieve(auth.id).amount == 10_000
    w.audit_clean()


def test_actions_on_bad_amounts_and_unknown_authorizations(world):
    w = world
    auth = w.authorize(1_000)
    assert _error(w.reverse, auth.id, reverse_amount=0).http_status == 400
    assert _error(w.capture, auth.id, capture_amount=0).http_status == 400
    assert (
        _error(
            w.helpers().increment, auth.id, params={"increment_amount": 0}, options=w.o
        ).http_status
        == 400
    )
    assert _error(w.capture, "iauth_nope").http_status == 404
    assert _error(w.reverse, "iauth_nope").http_status == 404
    assert _error(w.helpers().expire, "iauth_nope", options=w.o).http_status == 404
    w.books(cash=9_000, outbound_pending=1_000)
    w.audit_clean()


def test_closed_authorizations_cannot_be_incremented_or_finalized(world):
    w = world
    declined = w.authorize(20_000)
    captured = w.capture(w.authorize(1_000).id)
    for auth in (declined, captured):
        assert (
            _error(
                w.helpers().increment, auth.id, params={"increment_amount": 1}, options=w.o
            ).http_status
            == 400
        )
        assert (
            _error(
                w.helpers().finalize_amount, auth.id, params={"final_amount": 1}, options=w.o
            ).http_status
            == 400
        )
        assert _error(w.reverse, auth.id).http_status == 400
        assert _error(w.helpers().expire, auth.id, options=w.o).http_status == 400
    w.books(cash=9_000)
    w.audit_clean()


def test_amount_defaults_to_the_merchant_amount_and_must_be_positive(world):
    w = world
    auth = w.authorize(merchant_amount=1_200)
    assert (auth.approved, auth.amount, auth.merchant_amount) == (True, 1_200, 1_200)
    w.books(cash=8_800, outbound_pending=1_200)
    assert _error(w.authorize, 0).http_status == 400
    assert _error(w.authorize).http_status == 400
    w.books(cash=8_800, outbound_pending=1_200)
    w.audit_clean()


def test_approve_or_decline_a_decided_authorization_is_refused(world):
    w = world
    approved = w.authorize(1_000)
    declined = w.authorize(99_999)
    for auth in (approved, declined):
        for call in (
            w.client.v1.issuing.authorizations.approve,
            w.client.v1.issuing.authorizations.decline,
        ):
            error = _error(call, auth.id, options=w.o)
            assert error.http_status == 400 and error.param == "authorization"
    assert w.retrieve(approved.id).status == "pending"
    w.books(cash=9_000, outbound_pending=1_000)
    w.audit_clean()


def test_a_purchase_that_loses_the_race_for_the_cash_runs_again_and_declines(world, monkeypatch):
    """The hold is placed last, after an unlocked pre-check (services.money.execute_last). Make
    the pre-check stale once, as if another purchase took the cash in between: the locked check
    refuses, the unit of work rolls back and runs again, and the re-run declines — nothing of
    the first attempt survives (no savepoint, no record restored in place)."""
    from openissuing.services import authorizations as service

    w, real, calls = world, service._available, []

    def stale_once(uow, fa_id, currency):
        calls.append(fa_id)
        return 10**9 if len(calls) == 1 else real(uow, fa_id, currency)

    monkeypatch.setattr(service, "_available", stale_once)
    declined = w.authorize(10_001)
    assert len(calls) == 2
    assert (declined.status, declined.approved, declined.request_history[-1].reason) == (
        "closed",
        False,
        "insufficient_funds",
    )
    assert declined.treasury is None and len(declined.request_history) == 1
    w.books(cash=10_000)
    trxns = w.client.v1.treasury.transactions.list(
        params={"financial_account": w.fa}, options=w.o
    ).data
    assert [t.flow_type for t in trxns] == ["received_credit"]
    w.audit_clean()


def test_a_ledger_rejection_other_than_insufficient_funds_is_a_500_not_a_decline(
    world, monkeypatch
):
    """Only exceeds_available is a customer outcome; any other ledger result is a bug in the
    flow (services.money.LedgerBug): a logged 500, and the unit of work moves nothing."""
    from openissuing.domain.ledger import money as movements
    from openissuing.services import authorizations as service

    w = world
    auth = w.authorize(1_000)
    w.books(cash=9_000, outbound_pending=1_000)

    def void_a_hold_that_does_not_exist(pair, record, change):
        return movements.release(pair, movements.Hold("no_such_hold", 1_000), record["id"])

    monkeypatch.setattr(service, "_hold_batch", void_a_hold_that_does_not_exist)
    with pytest.raises(stripe.APIError) as raised:
        w.reverse(auth.id)
    assert raised.value.http_status == 500
    monkeypatch.undo()
    again = w.client.v1.issuing.authorizations.retrieve(auth.id, options=w.o)
    assert (again.status, again.amount) == ("pending", 1_000)
    w.books(cash=9_000, outbound_pending=1_000)
    w.audit_clean()
