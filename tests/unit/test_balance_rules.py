"""The pure rules of top-ups, balance transactions and funding instructions, table-driven."""

from __future__ import annotations

import pytest

from openissuing.domain import balances as rules
from openissuing.domain.errors import InvalidRequest, InvalidStatusTransition

NOW = 1_700_000_000


def _topup(**params):
    return rules.new_topup("tu_1", {"amount": 500, "currency": "USD", **params}, NOW, {})


@pytest.mark.parametrize(
    ("source", "status", "code"),
    [
        (None, "succeeded", None),
        ("btok_us_verified", "succeeded", None),
        ("src_anything", "succeeded", None),
        ("btok_us_verified_noAccount", "failed", "no_account"),
        ("btok_us_verified_accountClosed", "failed", "account_closed"),
        ("btok_us_verified_insufficientFunds", "failed", "insufficient_funds"),
        ("btok_us_verified_debitNotAuthorized", "failed", "debit_not_authorized"),
        ("btok_us_verified_invalidCurrency", "failed", "invalid_currency"),
    ],
)
def test_a_top_up_settles_as_its_test_source_says(source, status, code):
    topup = _topup(**({"source": source} if source else {}))
    assert (topup["status"], topup["currency"], topup["balance_transaction"]) == (
        "pending",
        "usd",
        None,
    )
    settled, failure_code, message = rules.outcome(topup)
    assert (settled, failure_code) == (status, code)
    assert (message is None) is (code is None)
    assert (topup["source"] is None) is (source is None)


@pytest.mark.parametrize(
    ("status", "expected_at", "now", "due"),
    [
        ("pending", NOW, NOW, True),
        ("pending", NOW, NOW - 1, False),
        ("pending", NOW, NOW + 99, True),
        ("succeeded", NOW, NOW + 99, False),
        ("canceled", NOW, NOW + 99, False),
    ],
)
def test_a_top_up_is_due_once_pending_and_its_date_is_reached(status, expected_at, now, due):
    topup = {**_topup(), "status": status, "expected_availability_date": expected_at}
    assert rules.is_due(topup, now) is due


@pytest.mark.parametrize("status", ["succeeded", "failed", "canceled"])
def test_only_a_pending_top_up_can_be_canceled(status):
    rules.require_cancelable(_topup())
    with pytest.raises(InvalidStatusTransition) as raised:
        rules.require_cancelable({**_topup(), "status": status})
    assert raised.value.param == "topup" and status in raised.value.message


@pytest.mark.parametrize(
    ("given", "destination"),
    [
        ({}, "payments"),
        ({"destination_balance": "issuing"}, "issuing"),
        ({"destination_balance": "payments"}, "payments"),
    ],
)
def test_destination_balance(given, destination):
    assert rules.destination(given) == destination
    assert _topup(**given)["_destination_balance"] == destination


@pytest.mark.parametrize(("value", "param"), [("xyz", "currency"), ("jpy", "currency")])
def test_top_up_currencies(value, param):
    with pytest.raises(InvalidRequest) as raised:
        _topup(currency=value)
    assert raised.value.param == param
    assert _topup(currency="GBP")["currency"] == "gbp"


@pytest.mark.parametrize(
    ("kind", "amount", "category"),
    [
        ("issuing_authorization_hold", -300, "issuing_authorization_hold"),
        ("issuing_authorization_release", 300, "issuing_authorization_release"),
        ("issuing_transaction", -250, "issuing_transaction"),
        ("issuing_dispute", 250, "issuing_dispute"),
        ("topup", 1_000, "topup"),
    ],
)
def test_a_balance_transaction_says_what_moved(kind, amount, category):
    bt = rules.balance_transaction("txn_1", "issuing", kind, amount, "usd", "src", None, NOW)
    assert (bt["type"], bt["reporting_category"], bt["amount"], bt["net"], bt["fee"]) == (
        kind,
        category,
        amount,
        amount,
        0,
    )
    assert (bt["status"], bt["available_on"], bt["balance_type"]) == ("available", NOW, "issuing")
    assert rules.bt_keys(bt) == {"type": kind, "source": "src", "currency": "usd"}


@pytest.mark.parametrize(
    ("kind", "currency", "country", "address_type"),
    [("eu_bank_transfer", "eur", "DE", "iban"), ("gb_bank_transfer", "gbp", "GB", "sort_code")],
)
def test_funding_instructions_are_the_same_for_an_account_and_differ_between_accounts(
    kind, currency, country, address_type
):
    first = rules.funding_instructions("acct_a", kind, currency)
    assert first == rules.funding_instructions("acct_a", kind, currency)
    assert first != rules.funding_instructions("acct_b", kind, currency)
    assert first["bank_transfer"]["country"] == country
    assert first["bank_transfer"]["financial_addresses"][0]["type"] == address_type
    assert rules.bank_transfer_type_for(currency) == kind
    other = "gbp" if currency == "eur" else "eur"
    with pytest.raises(InvalidRequest) as raised:
        rules.funding_instructions("acct_a", kind, other)
    assert raised.value.param == "currency"


def test_usd_has_no_bank_transfer_funding_here():
    with pytest.raises(InvalidRequest) as raised:
        rules.bank_transfer_type_for("usd")
    assert raised.value.param == "currency"
