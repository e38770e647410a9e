"""Ephemeral keys for Issuing Elements: nonce → key → the browser reads one card's number."""

from __future__ import annotations

import httpx
import pytest
import stripe

from tests.flows import activated_account, active_card, issuing_financial_account

VERSION = "2020-03-02"


@pytest.fixture()
def world(client):
    acct = activated_account(client)
    fa = issuing_financial_account(client, acct)
    _, card = active_card(client, acct, fa)
    return acct, card


@pytest.fixture()
def api(server):
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {server.api_key}"}
    ) as session:
        yield session


def _nonce(api, acct: str, card: str) -> dict:
    answer = api.post(
        "/v1/ephemeral_key_nonces", data={"issuing_card": card}, headers={"Stripe-Account": acct}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _key(client, acct: str, card: str, nonce: str):
    return client.v1.ephemeral_keys.create(
        params={"issuing_card": card, "nonce": nonce},
        options={"stripe_account": acct, "stripe_version": VERSION},
    )


def _browser(server, secret: str, card: str, private_nonce: str | None, **extra) -> httpx.Response:
    params: dict = {"expand[0]": "number", "expand[1]": "cvc"}
    if private_nonce is not None:
        params["ephemeral_key_private_nonce"] = private_nonce
    return httpx.get(
        f"{server.url}/v1/issuing/cards/{card}",
        params=params,
        headers={"Authorization": f"Bearer {secret}", "Stripe-Version": VERSION, **extra},
    )


def test_issuing_elements_reads_the_card_with_a_key_and_its_nonce(client, server, api, world):
    acct, card = world
    nonce = _nonce(api, acct, card)
    assert nonce["object"] == "ephemeral_key_nonce" and nonce["public_nonce"] == nonce["id"]
    assert nonce["private_nonce"].startswith("ekpn_")
    key = _key(client, acct, card, nonce["public_nonce"])
    assert key.id.startswith("ephkey_") and key.secret.startswith("ek_test_")
    assert key.expires - key.created == 15 * 60
    assert key.to_dict()["associated_objects"] == [{"id": card, "type": "issuing.card"}]

    shown = _browser(server, key.secret, card, nonce["private_nonce"])
    assert shown.status_code == 200, shown.text
    body = shown.json()
    secret_view = client.v1.issuing.cards.retrieve(
        card, params={"expand": ["number", "cvc"]}, options={"stripe_account": acct}
    )
    assert (body["number"], body["cvc"]) == (secret_view.number, secret_view.cvc)
    assert body["number"].endswith(body["last4"])

    # The key reads only its card, only with its private nonce, and nothing else.
    wrong = _browser(server, key.secret, card, "ekpn_not_it")
    assert wrong.status_code == 403
    missing = _browser(server, key.secret, card, None)
    assert (missing.status_code, missing.json()["error"]["param"]) == (
        400,
        "ephemeral_key_private_nonce",
    )
    _, other = active_card(client, acct, issuing_financial_account(client, acct), "Other Person")
    assert _browser(server, key.secret, other, nonce["private_nonce"]).status_code == 403
    listing = httpx.get(
        f"{server.url}/v1/issuing/cards", headers={"Authorization": f"Bearer {key.secret}"}
    )
    assert listing.status_code == 403
    update = httpx.post(
        f"{server.url}/v1/issuing/cards/{card}",
        data={"status": "canceled"},
        headers={"Authorization": f"Bearer {key.secret}"},
    )
    assert update.status_code == 403
    assert client.v1.issuing.cards.retrieve(card, options={"stripe_account": acct}).status == (
        "active"
    )

    # A nonce makes one key; deleting the key stops it at once.
    with pytest.raises(stripe.InvalidRequestError) as raised:
        _key(client, acct, card, nonce["public_nonce"])
    assert raised.value.param == "nonce"
    deleted = client.v1.ephemeral_keys.delete(key.id, options={"stripe_account": acct})
    assert deleted.id == key.id and deleted.secret is None
    assert _browser(server, key.secret, card, nonce["private_nonce"]).status_code == 401
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.ephemeral_keys.delete(key.id, options={"stripe_account": acct})
    assert raised.value.http_status == 404


def test_keys_expire_with_the_sandbox_clock(client, server, api, world):
    acct, card = world
    nonce = _nonce(api, acct, card)
    key = _key(client, acct, card, nonce["public_nonce"])
    assert _browser(server, key.secret, card, nonce["private_nonce"]).status_code == 200
    server.clock.advance(15 * 60)
    assert _browser(server, key.secret, card, nonce["private_nonce"]).status_code == 401
    fresh = _nonce(api, acct, card)
    server.clock.advance(15 * 60)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        _key(client, acct, card, fresh["public_nonce"])
    assert raised.value.param == "nonce"


def test_creating_a_key_needs_an_explicit_version_a_nonce_and_the_card(client, server, api, world):
    acct, card = world
    nonce = _nonce(api, acct, card)
    raw = api.post(
        "/v1/ephemeral_keys",
        data={"issuing_card": card, "nonce": nonce["public_nonce"]},
        headers={"Stripe-Account": acct},
    )
    assert raw.status_code == 400
    assert "Stripe-Version" in raw.json()["error"]["message"]
    old = api.post(
        "/v1/ephemeral_keys",
        data={"issuing_card": card, "nonce": nonce["public_nonce"]},
        headers={"Stripe-Account": acct, "Stripe-Version": "2019-12-03"},
    )
    assert old.status_code == 400
    opts = {"stripe_account": acct, "stripe_version": VERSION}
    for params, param in (
        ({"issuing_card": card}, "nonce"),
        ({"issuing_card": "ic_nope", "nonce": nonce["public_nonce"]}, "issuing_card"),
        ({"issuing_card": card, "nonce": "ekn_nope"}, "nonce"),
        ({"customer": "cus_nope"}, "customer"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            client.v1.ephemeral_keys.create(params=params, options=opts)
        assert raised.value.param == param, params
    _, other = active_card(client, acct, issuing_financial_account(client, acct), "Other Person")
    with pytest.raises(stripe.InvalidRequestError) as raised:
        _key(client, acct, other, nonce["public_nonce"])  # the nonce names another card
    assert raised.value.param == "nonce"
    # Another account sees neither the card nor the nonce nor the key.
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.ephemeral_keys.create(
            params={"issuing_card": card, "nonce": nonce["public_nonce"]},
            options={"stripe_version": VERSION},
        )
    assert raised.value.http_status == 404
    key = _key(client, acct, card, nonce["public_nonce"])
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.ephemeral_keys.delete(key.id)
    assert raised.value.http_status == 404
    foreign = api.post("/v1/ephemeral_key_nonces", data={"issuing_card": card})
    assert foreign.status_code == 404
