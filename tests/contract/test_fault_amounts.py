"""Issue 11, fault 1: amounts beyond Stripe's ceiling are a 400 naming the param, on every
database, and nothing moves — before, 2**63-1 was accepted and overflowed the ledger."""

from __future__ import annotations

import pytest
import stripe

from openissuing.api.params import MAX_AMOUNT
from tests.contract.test_issuing_transactions import Card

HUGE = 2**63 - 1


@pytest.fixture()
def funded(client, server) -> Card:
    return Card(client, server, fund=10_000)


def _refused(call, *args, **params) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        call(*args, **params)
    return raised.value


def _assert_too_large(error: stripe.InvalidRequestError, param: str) -> None:
    assert error.http_status == 400
    assert error.code == "amount_too_large"
    assert error.param == param
    assert error.user_message == "Amount must be no more than $999,999.99"


@pytest.mark.parametrize("amount", [HUGE, MAX_AMOUNT + 1])
def test_huge_received_credit_is_refused_and_moves_nothing(funded, amount):
    credits = funded.client.v1.test_helpers.treasury.received_credits
    params = {"financial_account": funded.fa, "amount": amount, "currency": "usd"}
    error = _refused(credits.create, params={**params, "network": "ach"}, options=funded.o)
    _assert_too_large(error, "amount")
    funded.books(cash=10_000)
    funded.audit_clean()


def test_the_largest_amount_stripe_takes_is_accepted(funded):
    credits = funded.client.v1.test_helpers.treasury.received_credits
    credits.create(
        params={
            "financial_account": funded.fa,
            "amount": MAX_AMOUNT,
            "currency": "usd",
            "network": "ach",
        },
        options=funded.o,
    )
    funded.books(cash=10_000 + MAX_AMOUNT)
    funded.audit_clean()


def test_huge_card_amounts_are_refused(funded):
    _assert_too_large(_refused(funded.unlinked_refund, amount=HUGE), "amount")
    _assert_too_large(_refused(funded.force_capture, amount=HUGE), "amount")
    auth = funded.auth_helpers.create(params={"card": funded.card, "amount": 100}, options=funded.o)
    _assert_too_large(
        _refused(
            funded.auth_helpers.capture,
            auth.id,
            params={"capture_amount": HUGE},
            options=funded.o,
        ),
        "capture_amount",
    )
    _assert_too_large(
        _refused(
            funded.auth_helpers.create,
            params={"card": funded.card, "amount": 100, "amount_details": {"atm_fee": HUGE}},
            options=funded.o,
        ),
        "amount_details[atm_fee]",
    )
    funded.books(cash=10_000 - 100, outbound_pending=100)
    funded.audit_clean()


def test_huge_spending_limit_is_refused(funded):
    error = _refused(
        funded.client.v1.issuing.cards.update,
        funded.card,
        params={"spending_controls": {"spending_limits": [{"amount": HUGE, "interval": "daily"}]}},
        options=funded.o,
    )
    _assert_too_large(error, "spending_controls[spending_limits][0][amount]")
