"""External accounts (bank accounts and debit cards) of a connected account, through the SDK."""

from __future__ import annotations

import json
import typing

import pytest
import stripe

from openissuing.storage.uow import transaction
from tests.flows import activated_account, onboarded_account_params

BANK_HASH = {
    "object": "bank_account",
    "country": "US",
    "currency": "usd",
    "routing_number": "110000000",
    "account_number": "000123456789",
    "account_holder_name": "Jenny Rosen",
    "account_holder_type": "individual",
}


def _declared_fields(cls) -> set[str]:
    return {
        name
        for klass in cls.__mro__
        if klass.__module__.startswith("stripe._") and klass.__name__ in (cls.__name__,)
        for name in typing.get_type_hints(klass, include_extras=False)
        if not name.isupper() and not name.startswith("_")
    }


def _events(server, account_id: str, event_type: str) -> list[dict]:
    page = transaction(
        server.runtime.engine,
        lambda uow: uow.docs.list("event", account_id, filters={"type": event_type}, limit=100),
    )
    return page.records


def test_bank_account_from_a_hash_and_every_declared_field(server, client):
    acct = activated_account(client)
    account = client.v1.accounts.retrieve(acct)
    assert account.payouts_enabled is False and account.external_accounts.data == []
    bank = client.v1.accounts.external_accounts.create(
        acct, params={"external_account": BANK_HASH, "metadata": {"k": "v"}}
    )
    assert isinstance(bank, stripe.BankAccount)
    assert bank.id.startswith("ba_") and bank.object == "bank_account" and bank.account == acct
    assert (bank.last4, bank.routing_number, bank.bank_name) == (
        "6789",
        "110000000",
        "STRIPE TEST BANK",
    )
    assert (bank.country, bank.currency, bank.status) == ("US", "usd", "new")
    assert bank.account_holder_name == "Jenny Rosen" and bank.account_holder_type == "individual"
    assert bank.default_for_currency is True and bank.metadata.to_dict() == {"k": "v"}
    shown = bank.to_dict()
    missing = _declared_fields(stripe.BankAccount) - set(shown) - {"deleted"}
    assert missing == set()
    assert "000123456789" not in json.dumps(shown)
    # The number is not kept anywhere: not in the stored document either.
    stored = transaction(
        server.runtime.engine, lambda uow: uow.docs.get("bank_account", bank.id, acct)
    )
    assert "000123456789" not in json.dumps(stored)

    account = client.v1.accounts.retrieve(acct)
    assert account.payouts_enabled is True
    assert [e.id for e in account.external_accounts.data] == [bank.id]
    assert client.v1.accounts.external_accounts.retrieve(acct, bank.id).last4 == "6789"
    (created,) = _events(server, acct, "account.external_account.created")
    assert created["data"]["object"]["id"] == bank.id
    updates = _events(server, acct, "account.updated")
    assert updates[0]["data"]["previous_attributes"]["payouts_enabled"] is False


@pytest.mark.parametrize(
    ("token", "last4", "failure"),
    [
        ("btok_us_verified", "6789", None),
        ("btok_us_verified_noAccount", "1116", "no_account"),
        ("btok_us_verified_accountClosed", "1113", "account_closed"),
        ("btok_us_verified_insufficientFunds", "2227", "insufficient_funds"),
        ("btok_us_verified_debitNotAuthorized", "3335", "debit_not_authorized"),
        ("btok_us_verified_invalidCurrency", "4440", "invalid_currency"),
    ],
)
def test_test_bank_tokens_all_attach_and_carry_their_payout_outcome(
    server, client, token, last4, failure
):
    acct = activated_account(client)
    bank = client.v1.accounts.external_accounts.create(acct, params={"external_account": token})
    assert bank.last4 == last4 and bank.routing_number == "110000000"
    stored = transaction(
        server.runtime.engine, lambda uow: uow.docs.get("bank_account", bank.id, acct)
    )
    assert stored["_failure_code"] == failure


@pytest.mark.parametrize(
    ("details", "param", "code"),
    [
        ({"account_number": "000123456788"}, "external_account[account_number]", None),
        ({"account_number": "12"}, "external_account[account_number]", "account_number_invalid"),
        (
            {"routing_number": "110000001"},
            "external_account[routing_number]",
            "routing_number_invalid",
        ),
        ({"routing_number": "021000021"}, "external_account[account_number]", None),
        ({"country": "GB"}, "external_account[country]", None),
        ({"currency": "eur"}, "external_account[currency]", "invalid_currency"),
    ],
)
def test_bad_bank_details_are_refused_with_their_param(client, details, param, code):
    acct = activated_account(client)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.accounts.external_accounts.create(
            acct, params={"external_account": BANK_HASH | details}
        )
    assert refused.value.http_status == 400 and refused.value.param == param
    if code:
        assert refused.value.code == code
    assert client.v1.accounts.external_accounts.list(acct).data == []


def test_unknown_tokens_and_credit_cards(client):
    acct = activated_account(client)
    for token in ("btok_nope", "tok_nope", "nothing"):
        with pytest.raises(stripe.InvalidRequestError) as missing:
            client.v1.accounts.external_accounts.create(acct, params={"external_account": token})
        assert missing.value.http_status == 404 and missing.value.param == "external_account"
    with pytest.raises(stripe.InvalidRequestError) as credit:
        client.v1.accounts.external_accounts.create(acct, params={"external_account": "tok_visa"})
    assert credit.value.code == "invalid_card_type"


def test_debit_cards_defaults_and_delete_rules(server, client):
    acct = activated_account(client)
    first = client.v1.accounts.external_accounts.create(
        acct, params={"external_account": "btok_us_verified"}
    )
    card = client.v1.accounts.external_accounts.create(
        acct, params={"external_account": "tok_visa_debit"}
    )
    assert isinstance(card, stripe.Card) and card.id.startswith("card_")
    assert (card.brand, card.funding, card.last4, card.currency) == ("Visa", "debit", "5556", "usd")
    assert card.default_for_currency is False  # the bank account came first
    missing = _declared_fields(stripe.Card) - set(card.to_dict()) - {"deleted"}
    assert missing == set()
    raw = client.v1.accounts.external_accounts.create(
        acct,
        params={
            "external_account": {
                "object": "card",
                "number": "5200828282828210",
                "exp_month": 8,
                "exp_year": 2031,
            },
            "default_for_currency": True,
        },
    )
    assert raw.brand == "MasterCard" and raw.default_for_currency is True
    first = client.v1.accounts.external_accounts.retrieve(acct, first.id)
    assert first.default_for_currency is False  # one default per currency
    updated = _events(server, acct, "account.external_account.updated")
    assert [e["data"]["object"]["id"] for e in updated] == [first.id]

    everything = client.v1.accounts.external_accounts.list(acct)
    assert [e.id for e in everything.data] == [raw.id, card.id, first.id]
    assert [type(e) for e in everything.data] == [stripe.Card, stripe.Card, stripe.BankAccount]
    banks = client.v1.accounts.external_accounts.list(acct, params={"object": "bank_account"})
    assert [e.id for e in banks.data] == [first.id]
    cards = client.v1.accounts.external_accounts.list(acct, params={"object": "card"})
    assert [e.id for e in cards.data] == [raw.id, card.id]
    page = client.v1.accounts.external_accounts.list(acct, params={"limit": 1})
    assert [e.id for e in page.data] == [raw.id] and page.has_more
    page = client.v1.accounts.external_accounts.list(
        acct, params={"limit": 2, "starting_after": raw.id}
    )
    assert [e.id for e in page.data] == [card.id, first.id] and not page.has_more
    with pytest.raises(stripe.InvalidRequestError) as cursor:
        client.v1.accounts.external_accounts.list(acct, params={"starting_after": "ba_nope"})
    assert cursor.value.http_status == 404 and cursor.value.param == "starting_after"

    # The default for a currency goes only after another one is made the default.
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.accounts.external_accounts.delete(acct, raw.id)
    assert refused.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as unset:
        client.v1.accounts.external_accounts.update(
            acct, raw.id, params={"default_for_currency": False}
        )
    assert unset.value.param == "default_for_currency"
    made = client.v1.accounts.external_accounts.update(
        acct,
        first.id,
        params={
            "default_for_currency": True,
            "account_holder_name": "Jenny R.",
            "account_type": "checking",
            "metadata": {"n": "1"},
        },
    )
    assert made.default_for_currency is True and made.account_holder_name == "Jenny R."
    assert made.account_type == "checking" and made.metadata.to_dict() == {"n": "1"}
    assert client.v1.accounts.external_accounts.retrieve(acct, raw.id).default_for_currency is False
    gone = client.v1.accounts.external_accounts.delete(acct, raw.id)
    assert gone.deleted is True and gone.id == raw.id
    client.v1.accounts.external_accounts.delete(acct, card.id)
    (deleted_raw, deleted_card) = sorted(
        (
            e["data"]["object"]["id"]
            for e in _events(server, acct, "account.external_account.deleted")
        ),
        key=[raw.id, card.id].index,
    )
    assert (deleted_raw, deleted_card) == (raw.id, card.id)
    # The last one, default for the account's default currency, stays.
    with pytest.raises(stripe.InvalidRequestError) as last:
        client.v1.accounts.external_accounts.delete(acct, first.id)
    assert "default currency" in str(last.value)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.accounts.external_accounts.retrieve(acct, raw.id)
    assert missing.value.http_status == 404


def test_the_last_default_of_another_currency_may_go(client):
    acct = activated_account(client)
    card = client.v1.accounts.external_accounts.create(
        acct,
        params={
            "external_account": {
                "object": "card",
                "number": "4000056655665556",
                "exp_month": 1,
                "exp_year": 2032,
                "currency": "cad",
            }
        },
    )
    assert card.default_for_currency is True and card.currency == "cad"
    assert client.v1.accounts.external_accounts.delete(acct, card.id).deleted is True
    account = client.v1.accounts.retrieve(acct)
    assert account.payouts_enabled is False and account.external_accounts.data == []


def test_external_accounts_are_isolated(server, client, make_sandbox):
    acct = activated_account(client)
    bank = client.v1.accounts.external_accounts.create(
        acct, params={"external_account": "btok_us_verified"}
    )
    other = make_sandbox("other").client()
    for call in (
        lambda: other.v1.accounts.external_accounts.retrieve(acct, bank.id),
        lambda: other.v1.accounts.external_accounts.list(acct),
        lambda: other.v1.accounts.external_accounts.create(
            acct, params={"external_account": "btok_us_verified"}
        ),
        lambda: other.v1.accounts.external_accounts.delete(acct, bank.id),
    ):
        with pytest.raises(stripe.InvalidRequestError) as missing:
            call()
        assert missing.value.http_status == 404
    sibling = activated_account(client)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.accounts.external_accounts.retrieve(sibling, bank.id)
    assert missing.value.http_status == 404
    own = server.client(stripe_account=acct)
    assert own.v1.accounts.external_accounts.retrieve(acct, bank.id).id == bank.id
    with pytest.raises(stripe.PermissionError):
        own.v1.accounts.external_accounts.create(
            acct, params={"external_account": "btok_us_verified"}
        )


def test_external_account_param_of_the_account_attaches_and_replaces_the_default(server, client):
    params = onboarded_account_params(external_account="btok_us_verified")
    account = client.v1.accounts.create(params=params)
    (first,) = account.external_accounts.data
    assert isinstance(first, stripe.BankAccount) and first.default_for_currency is True
    assert account.payouts_enabled is True
    account = client.v1.accounts.update(
        account.id, params={"external_account": "btok_us_verified_noAccount"}
    )
    (second,) = account.external_accounts.data
    assert second.id != first.id and second.last4 == "1116" and second.default_for_currency
    deleted = _events(server, account.id, "account.external_account.deleted")
    assert [e["data"]["object"]["id"] for e in deleted] == [first.id]
    with pytest.raises(stripe.InvalidRequestError) as bad:
        client.v1.accounts.update(account.id, params={"external_account": "btok_nope"})
    assert bad.value.param == "external_account"
    assert [e.id for e in client.v1.accounts.retrieve(account.id).external_accounts.data] == [
        second.id
    ]
