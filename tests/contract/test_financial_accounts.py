"""Treasury financial accounts and their features, through the official SDK."""

from __future__ import annotations

import json

import pytest
import stripe

from openissuing.storage.uow import transaction
from tests.flows import activated_account, onboarded_account_params

ADDRESS = {
    "line1": "1 Main St",
    "city": "San Francisco",
    "state": "CA",
    "postal_code": "94111",
    "country": "US",
}
ZERO = {"usd": 0}
FA_FIELDS = {
    "active_features",
    "balance",
    "country",
    "created",
    "features",
    "financial_addresses",
    "id",
    "is_default",
    "livemode",
    "metadata",
    "nickname",
    "object",
    "pending_features",
    "platform_restrictions",
    "restricted_features",
    "status",
    "status_details",
    "supported_currencies",
}


def on(account: str) -> dict:
    return {"stripe_account": account}


def create_fa(client, account: str, **params):
    params.setdefault("supported_currencies", ["usd"])
    return client.v1.treasury.financial_accounts.create(params=params, options=on(account))


def events_of(server, account: str, event_type: str) -> list[dict]:
    def read(uow):
        return uow.docs.list("event", account, filters={"type": event_type}, limit=None).records

    return transaction(server.runtime.engine, read, write=False)


def account_without_card_issuing_terms(client) -> str:
    """A connected account that requested card_issuing but has not accepted its terms: card_issuing
    inactive."""
    params = onboarded_account_params()
    del params["settings"]["card_issuing"]
    account = client.v1.accounts.create(params=params)
    assert account.capabilities.card_issuing == "inactive"
    assert account.capabilities.treasury == "active"
    return account.id


def test_create_on_activated_account(client, server):
    account = activated_account(client)
    fa = create_fa(
        client,
        account,
        features={
            "card_issuing": {"requested": True},
            "financial_addresses": {"aba": {"requested": True}},
        },
        nickname="Operating",
        metadata={"team": "ops"},
    )
    assert fa.id.startswith("fa_")
    assert fa.object == "treasury.financial_account"
    assert set(fa.to_dict()) == FA_FIELDS
    assert fa.status == "open" and fa.status_details.closed is None
    assert fa.active_features == ["card_issuing", "financial_addresses.aba"]
    assert fa.pending_features == [] and fa.restricted_features == []
    assert fa.balance.cash.to_dict() == ZERO
    assert fa.balance.inbound_pending.to_dict() == ZERO
    assert fa.balance.outbound_pending.to_dict() == ZERO
    assert fa.features is None  # opt-in via expand
    assert fa.country == "US" and fa.supported_currencies == ["usd"] and fa.livemode is False
    assert fa.nickname == "Operating" and fa.metadata.to_dict() == {"team": "ops"}
    assert fa.is_default is True
    assert fa.platform_restrictions.to_dict() == {"inbound_flows": None, "outbound_flows": None}
    (address,) = fa.financial_addresses
    assert address.type == "aba" and address.supported_networks == ["ach", "us_domestic_wire"]
    assert address.aba.account_number is None
    assert address.aba.account_holder_name == "Jenny Rosen"
    assert address.aba.routing_number == "101000091" and address.aba.bank_name == "Stripe Test Bank"
    assert len(address.aba.account_number_last4) == 4

    fetched = client.v1.treasury.financial_accounts.retrieve(fa.id, options=on(account))
    assert fetched.to_dict() == fa.to_dict()
    second = create_fa(client, account)
    assert (
        second.is_default is False
        and second.active_features == []
        and second.financial_addresses == []
    )

    created = events_of(server, account, "treasury.financial_account.created")
    assert {e["data"]["object"]["id"] for e in created} == {fa.id, second.id}
    assert all(e["account"] == account for e in created)
    # Events render their object through the financial account serializer (no private fields).
    listed = client.v1.events.list(
        params={"type": "treasury.financial_account.created"}, options=on(account)
    )
    rendered = {e.data.object.id: e.data.object for e in listed.data}
    assert set(rendered[fa.id].to_dict()) == FA_FIELDS


def test_expand_features_and_account_number(client, server):
    account = activated_account(client)
    fa = create_fa(client, account, features={"financial_addresses": {"aba": {"requested": True}}})
    expanded = client.v1.treasury.financial_accounts.retrieve(
        fa.id,
        params={"expand": ["features", "financial_addresses.aba.account_number"]},
        options=on(account),
    )
    assert expanded.features.object == "treasury.financial_account_features"
    assert expanded.features.financial_addresses.aba.status == "active"
    assert expanded.features.card_issuing is None
    number = expanded.financial_addresses[0].aba.account_number
    assert number.isdigit() and number.endswith(
        expanded.financial_addresses[0].aba.account_number_last4
    )
    # Only that exact path reveals the number, and it never leaks into lists.
    plain = client.v1.treasury.financial_accounts.retrieve(
        fa.id, params={"expand": ["features"]}, options=on(account)
    )
    assert plain.financial_addresses[0].aba.account_number is None
    listed = client.v1.treasury.financial_accounts.list(
        params={"expand": ["data.features", "data.financial_addresses.aba.account_number"]},
        options=on(account),
    )
    assert listed.data[0].features.financial_addresses.aba.status == "active"
    assert listed.data[0].financial_addresses[0].aba.account_number is None
    # The number is stored encrypted, never in the clear.
    raw = transaction(
        server.runtime.engine,
        lambda uow: uow.docs.get("treasury.financial_account", fa.id, account),
        write=False,
    )
    assert number not in json.dumps(raw)


def test_card_issuing_follows_the_capability(client, server):
    account = account_without_card_issuing_terms(client)
    fa = create_fa(
        client,
        account,
        features={"card_issuing": {"requested": True}, "intra_stripe_flows": {"requested": True}},
    )
    assert fa.active_features == ["intra_stripe_flows"]
    assert fa.restricted_features == ["card_issuing"]
    features = client.v1.treasury.financial_accounts.features.retrieve(fa.id, options=on(account))
    assert features.card_issuing.status == "restricted"
    detail = features.card_issuing.status_details[0]
    assert (detail.code, detail.resolution, detail.restriction) == (
        "requirements_past_due",
        "provide_information",
        None,
    )

    # Accepting the Issuing terms activates the capability; the feature follows.
    updated = client.v1.accounts.update(
        account,
        params={
            "settings": {
                "card_issuing": {"tos_acceptance": {"date": 1_700_000_000, "ip": "203.0.113.7"}}
            }
        },
    )
    assert updated.capabilities.card_issuing == "active"
    fa = client.v1.treasury.financial_accounts.retrieve(fa.id, options=on(account))
    assert fa.active_features == ["card_issuing", "intra_stripe_flows"]
    assert fa.restricted_features == []
    (event,) = events_of(server, account, "treasury.financial_account.features_status_updated")
    assert event["account"] == account and event["data"]["object"]["id"] == fa.id
    assert event["data"]["previous_attributes"]["active_features"] == ["intra_stripe_flows"]


def test_create_refused_without_connected_account_or_treasury(client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.treasury.financial_accounts.create(params={"supported_currencies": ["usd"]})
    assert raised.value.http_status == 400
    assert "Stripe-Account" in raised.value.user_message

    params = onboarded_account_params(
        capabilities={"card_issuing": {"requested": True}, "transfers": {"requested": True}}
    )
    no_treasury = client.v1.accounts.create(params=params).id
    with pytest.raises(stripe.InvalidRequestError) as raised:
        create_fa(client, no_treasury)
    assert raised.value.http_status == 400
    assert "treasury" in raised.value.user_message


def test_create_validates_params(client):
    account = activated_account(client)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        create_fa(client, account, supported_currencies=["eur"])
    assert raised.value.http_status == 400
    assert raised.value.code.startswith("parameter_invalid")
    assert raised.value.param == "supported_currencies"
    assert "usd" in raised.value.user_message
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.treasury.financial_accounts.create(params={"nickname": "x"}, options=on(account))
    assert (raised.value.code, raised.value.param) == ("parameter_missing", "supported_currencies")
    with pytest.raises(stripe.InvalidRequestError) as raised:
        create_fa(client, account, platform_restrictions={"inbound_flows": "sometimes"})
    assert raised.value.http_status == 400


def test_features_retrieve_and_update(client, server):
    account = activated_account(client)
    fa = create_fa(client, account, features={"card_issuing": {"requested": True}})
    updated = client.v1.treasury.financial_accounts.features.update(
        fa.id,
        params={
            "card_issuing": {"requested": False},
            "outbound_payments": {"ach": {"requested": True}},
            "deposit_insurance": {"requested": True},
        },
        options=on(account),
    )
    assert updated.object == "treasury.financial_account_features"
    assert updated.card_issuing is None
    assert updated.outbound_payments.ach.to_dict() == {
        "requested": True,
        "status": "active",
        "status_details": [],
    }
    assert updated.outbound_payments.us_domestic_wire is None
    assert updated.deposit_insurance.status == "active"
    assert (
        client.v1.treasury.financial_accounts.features.retrieve(
            fa.id, options=on(account)
        ).to_dict()
        == updated.to_dict()
    )
    fa = client.v1.treasury.financial_accounts.retrieve(fa.id, options=on(account))
    assert fa.active_features == ["deposit_insurance", "outbound_payments.ach"]
    assert "card_issuing" not in fa.pending_features + fa.restricted_features

    # The same requests through the financial account's own update endpoint.
    fa = client.v1.treasury.financial_accounts.update(
        fa.id,
        params={
            "features": {
                "card_issuing": {"requested": True},
                "deposit_insurance": {"requested": False},
            }
        },
        options=on(account),
    )
    assert fa.active_features == ["card_issuing", "outbound_payments.ach"]
    assert (
        len(events_of(server, account, "treasury.financial_account.features_status_updated")) == 2
    )


def test_platform_restrictions_and_other_updates(client):
    account = activated_account(client)
    fa = create_fa(
        client,
        account,
        features={
            "outbound_transfers": {"ach": {"requested": True}},
            "card_issuing": {"requested": True},
        },
    )
    fa = client.v1.treasury.financial_accounts.update(
        fa.id,
        params={
            "platform_restrictions": {"outbound_flows": "restricted"},
            "nickname": "Savings",
            "metadata": {"a": "1"},
            "forwarding_settings": {"type": "financial_account", "financial_account": "fa_other"},
        },
        options=on(account),
    )
    assert (
        fa.platform_restrictions.outbound_flows == "restricted"
        and fa.platform_restrictions.inbound_flows is None
    )
    assert fa.active_features == ["card_issuing"]
    assert fa.restricted_features == ["outbound_transfers.ach"]
    assert fa.nickname == "Savings" and fa.metadata.to_dict() == {"a": "1"}
    features = client.v1.treasury.financial_accounts.features.retrieve(fa.id, options=on(account))
    detail = features.outbound_transfers.ach.status_details[0]
    assert (detail.code, detail.resolution, detail.restriction) == (
        "restricted_by_platform",
        "remove_restriction",
        "outbound_flows",
    )

    fa = client.v1.treasury.financial_accounts.update(
        fa.id,
        params={"platform_restrictions": {"outbound_flows": "unrestricted"}, "nickname": ""},
        options=on(account),
    )
    assert fa.active_features == ["card_issuing", "outbound_transfers.ach"]
    assert fa.nickname is None


def test_close(client, server):
    account = activated_account(client)
    fa = create_fa(client, account, features={"card_issuing": {"requested": True}})
    closed = client.v1.treasury.financial_accounts.close(fa.id, options=on(account))
    assert closed.status == "closed"
    assert closed.status_details.closed.reasons == ["closed_by_platform"]
    assert closed.active_features == [] and closed.restricted_features == ["card_issuing"]
    features = client.v1.treasury.financial_accounts.features.retrieve(fa.id, options=on(account))
    assert features.card_issuing.status_details[0].code == "financial_account_closed"
    (event,) = events_of(server, account, "treasury.financial_account.closed")
    assert event["data"]["object"]["status"] == "closed"

    for attempt in (
        lambda: client.v1.treasury.financial_accounts.update(
            fa.id, params={"nickname": "x"}, options=on(account)
        ),
        lambda: client.v1.treasury.financial_accounts.features.update(
            fa.id, params={"card_issuing": {"requested": True}}, options=on(account)
        ),
        lambda: client.v1.treasury.financial_accounts.close(fa.id, options=on(account)),
    ):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            attempt()
        assert raised.value.http_status == 400
        assert "closed" in raised.value.user_message

    listed = client.v1.treasury.financial_accounts.list(
        params={"status": "closed"}, options=on(account)
    )
    assert [f.id for f in listed.data] == [fa.id]
    assert (
        client.v1.treasury.financial_accounts.list(
            params={"status": "open"}, options=on(account)
        ).data
        == []
    )


def test_close_refused_while_a_card_is_live(client):
    account = activated_account(client)
    fa = create_fa(client, account, features={"card_issuing": {"requested": True}})
    cardholder = client.v1.issuing.cardholders.create(
        params={
            "name": "Jenny Rosen",
            "type": "individual",
            "billing": {"address": ADDRESS},
            "individual": {"first_name": "Jenny", "last_name": "Rosen"},
        },
        options=on(account),
    )
    card = client.v1.issuing.cards.create(
        params={
            "cardholder": cardholder.id,
            "financial_account": fa.id,
            "currency": "usd",
            "type": "virtual",
            "status": "active",
        },
        options=on(account),
    )
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.treasury.financial_accounts.close(fa.id, options=on(account))
    assert raised.value.http_status == 400
    assert card.id in raised.value.user_message
    client.v1.issuing.cards.update(card.id, params={"status": "canceled"}, options=on(account))
    assert (
        client.v1.treasury.financial_accounts.close(fa.id, options=on(account)).status == "closed"
    )


def test_close_refused_with_a_balance(client):
    account = activated_account(client)
    fa = create_fa(client, account, features={"financial_addresses": {"aba": {"requested": True}}})
    client.v1.test_helpers.treasury.received_credits.create(
        params={"financial_account": fa.id, "network": "ach", "amount": 1500, "currency": "usd"},
        options=on(account),
    )
    fa = client.v1.treasury.financial_accounts.retrieve(fa.id, options=on(account))
    assert fa.balance.cash.usd == 1500
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.treasury.financial_accounts.close(fa.id, options=on(account))
    assert raised.value.http_status == 400
    assert "balance" in raised.value.user_message


def test_rejected_account_closes_its_financial_accounts(client):
    account = activated_account(client)
    fa = create_fa(client, account, features={"card_issuing": {"requested": True}})
    client.v1.accounts.reject(account, params={"reason": "fraud_other"})
    fa = client.v1.treasury.financial_accounts.retrieve(fa.id, options=on(account))
    assert fa.status == "closed"
    assert fa.status_details.closed.reasons == ["account_rejected"]


def test_isolation_between_accounts(client):
    a, b = activated_account(client), activated_account(client)
    fa = create_fa(client, a)
    for options in (on(b), {}):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            client.v1.treasury.financial_accounts.retrieve(fa.id, options=options)
        assert raised.value.http_status == 404 and raised.value.code == "resource_missing"
        with pytest.raises(stripe.InvalidRequestError) as raised:
            client.v1.treasury.financial_accounts.features.retrieve(fa.id, options=options)
        assert raised.value.http_status == 404
        with pytest.raises(stripe.InvalidRequestError) as raised:
            client.v1.treasury.financial_accounts.close(fa.id, options=options)
        assert raised.value.http_status == 404
    assert client.v1.treasury.financial_accounts.list(options=on(b)).data == []
    assert fa.id not in [
        f.id for f in client.v1.treasury.financial_accounts.list(params={"limit": 100}).data
    ]


def test_list_pagination(client):
    account = activated_account(client)
    ids = [create_fa(client, account, nickname=f"fa {i}").id for i in range(5)]
    newest_first = list(reversed(ids))
    page = client.v1.treasury.financial_accounts.list(params={"limit": 2}, options=on(account))
    assert [f.id for f in page.data] == newest_first[:2] and page.has_more
    page = client.v1.treasury.financial_accounts.list(
        params={"limit": 2, "starting_after": page.data[-1].id}, options=on(account)
    )
    assert [f.id for f in page.data] == newest_first[2:4] and page.has_more
    page = client.v1.treasury.financial_accounts.list(
        params={"limit": 3, "ending_before": newest_first[4]}, options=on(account)
    )
    assert [f.id for f in page.data] == newest_first[1:4]
    everything = client.v1.treasury.financial_accounts.list(
        params={"limit": 2}, options=on(account)
    ).auto_paging_iter()
    assert [f.id for f in everything] == newest_first
    created = client.v1.treasury.financial_accounts.retrieve(ids[0], options=on(account)).created
    later = client.v1.treasury.financial_accounts.list(
        params={"created": {"gt": created + 10}}, options=on(account)
    )
    assert later.data == []


def test_unknown_financial_account_is_404(client):
    account = activated_account(client)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.treasury.financial_accounts.retrieve("fa_doesnotexist", options=on(account))
    assert raised.value.http_status == 404 and raised.value.code == "resource_missing"


def test_guide_doc_quirk_params_are_rejected(client):
    """The guide's card_issuing[access][requested] is not an SDK param; strict validation rejects
    it."""
    account = activated_account(client)
    fa = create_fa(client, account)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.treasury.financial_accounts.update(
            fa.id, params={"card_issuing": {"access": {"requested": True}}}, options=on(account)
        )
    assert raised.value.code == "parameter_unknown"
