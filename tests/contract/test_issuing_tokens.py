"""Network tokens: born from wallet purchases, managed through the API, following their card."""

from __future__ import annotations

import pytest
import stripe

from tests.flows import (
    activated_account,
    active_card,
    assert_audit_clean,
    assert_books,
    fund,
    issuing_financial_account,
)

TOKEN_FIELDS = {
    "card",
    "created",
    "device_fingerprint",
    "id",
    "last4",
    "livemode",
    "network",
    "network_data",
    "network_updated_at",
    "object",
    "status",
    "wallet_provider",
}


@pytest.fixture()
def world(client):
    acct = activated_account(client)
    fa = issuing_financial_account(client, acct)
    fund(client, acct, fa, 50_000)
    _, card = active_card(client, acct, fa)
    return acct, fa, card


def _o(acct: str) -> dict:
    return {"stripe_account": acct}


def _buy(client, acct: str, card: str, amount: int = 1_000, **extra):
    return client.v1.test_helpers.issuing.authorizations.create(
        params={"card": card, "amount": amount, **extra}, options=_o(acct)
    )


def _error(call, *args, **kwargs) -> stripe.StripeError:
    with pytest.raises(stripe.StripeError) as raised:
        call(*args, **kwargs)
    return raised.value


def _token_events(client, acct: str) -> list:
    found = client.v1.events.list(params={"limit": 100}, options=_o(acct)).data
    return [e for e in reversed(found) if e.type.startswith("issuing_token.")]


def test_a_wallet_purchase_provisions_a_token_and_reuses_it(client, world):
    acct, fa, card = world
    tokens = client.v1.issuing.tokens
    plain = _buy(client, acct, card)
    assert plain.token is None and plain.wallet is None
    assert tokens.list(params={"card": card}, options=_o(acct)).data == []

    first = _buy(client, acct, card, wallet="apple_pay")
    assert first.approved and first.wallet == "apple_pay" and first.token.startswith("intok_")
    token = tokens.retrieve(first.token, options=_o(acct))
    assert set(token.to_dict()) == TOKEN_FIELDS
    assert (token.card, token.status, token.wallet_provider, token.network) == (
        card,
        "active",
        "apple_pay",
        "visa",
    )
    assert token.network_data is None  # only when expanded
    assert token.device_fingerprint.startswith("intd_") and len(token.last4) == 4
    again = _buy(client, acct, card, wallet="apple_pay")
    assert again.token == first.token  # the same device token
    google = _buy(client, acct, card, wallet="google_pay")
    assert google.token not in (None, first.token)
    listed = tokens.list(params={"card": card}, options=_o(acct)).data
    assert [t.id for t in listed] == [google.token, first.token]
    assert [
        t.id for t in tokens.list(params={"card": card, "limit": 1}, options=_o(acct)).data
    ] == [google.token]

    expanded = client.v1.issuing.authorizations.retrieve(
        first.id, params={"expand": ["token", "token.card"]}, options=_o(acct)
    )
    assert expanded.token.id == first.token and expanded.token.card.id == card
    shown = tokens.retrieve(first.token, params={"expand": ["network_data"]}, options=_o(acct))
    data = shown.network_data
    assert data.type == "visa" and data.visa.token_requestor_id == "40010030273"
    assert data.device.device_fingerprint == token.device_fingerprint
    listed_with = tokens.list(
        params={"card": card, "expand": ["data.network_data"]}, options=_o(acct)
    ).data
    assert all(t.network_data is None for t in listed_with)  # retrieve and update only

    captured = client.v1.test_helpers.issuing.authorizations.capture(first.id, options=_o(acct))
    txn = captured.transactions[0]
    assert (txn.token, txn.wallet) == (first.token, "apple_pay")
    created = [e for e in _token_events(client, acct) if e.type == "issuing_token.created"]
    assert [e.data.object.id for e in created] == [first.token, google.token]
    assert_books(client, acct, fa, cash=50_000 - 4_000, outbound_pending=3_000)


def test_token_status_transitions_and_a_suspended_token_declines(client, world, server):
    acct, fa, card = world
    tokens = client.v1.issuing.tokens
    token_id = _buy(client, acct, card, wallet="samsung_pay").token
    suspended = tokens.update(token_id, params={"status": "suspended"}, options=_o(acct))
    assert suspended.status == "suspended"
    declined = _buy(client, acct, card, wallet="samsung_pay")
    assert not declined.approved and declined.token == token_id
    assert declined.request_history[0].reason == "not_allowed"
    assert "suspended" in declined.request_history[0].reason_message
    assert _buy(client, acct, card).approved  # the card itself still works
    assert tokens.update(token_id, params={"status": "active"}, options=_o(acct)).status == "active"
    assert _buy(client, acct, card, wallet="samsung_pay").approved
    # The same status is no change; deleted is final.
    same = tokens.update(token_id, params={"status": "active"}, options=_o(acct))
    assert same.status == "active"
    assert (
        tokens.update(token_id, params={"status": "deleted"}, options=_o(acct)).status == "deleted"
    )
    err = _error(tokens.update, token_id, params={"status": "active"}, options=_o(acct))
    assert (err.http_status, err.code, err.param) == (400, "status_transition_invalid", "status")
    err = _error(tokens.update, token_id, params={"status": "requested"}, options=_o(acct))
    assert err.http_status == 400 and err.param == "status"
    # Re-adding the card to the wallet provisions a new token.
    fresh = _buy(client, acct, card, wallet="samsung_pay")
    assert fresh.approved and fresh.token != token_id
    deleted = tokens.list(params={"card": card, "status": "deleted"}, options=_o(acct)).data
    assert [t.id for t in deleted] == [token_id]

    updates = [e for e in _token_events(client, acct) if e.type == "issuing_token.updated"]
    assert [e.data.previous_attributes.status for e in updates] == ["active", "suspended", "active"]
    assert [e.data.object.status for e in updates] == ["suspended", "active", "deleted"]
    assert_books(client, acct, fa, cash=50_000 - 4_000, outbound_pending=4_000)
    assert_audit_clean(server)


def test_tokens_follow_their_card(client, world):
    acct, _, card = world
    tokens = client.v1.issuing.tokens
    cards = client.v1.issuing.cards
    apple = _buy(client, acct, card, wallet="apple_pay").token
    google = _buy(client, acct, card, wallet="google_pay").token
    tokens.update(google, params={"status": "suspended"}, options=_o(acct))
    # An expired card's replacement keeps the number: activating it carries the tokens over.
    replacement = cards.create(
        params={
            "cardholder": cards.retrieve(card, options=_o(acct)).cardholder.id,
            "currency": "usd",
            "type": "virtual",
            "replacement_for": card,
            "replacement_reason": "expired",
        },
        options=_o(acct),
    )
    assert tokens.retrieve(apple, options=_o(acct)).card == card  # not until activation
    cards.update(replacement.id, params={"status": "active"}, options=_o(acct))
    moved = tokens.list(params={"card": replacement.id}, options=_o(acct)).data
    assert {(t.id, t.status) for t in moved} == {(apple, "active"), (google, "suspended")}
    assert cards.retrieve(card, options=_o(acct)).status == "canceled"
    assert tokens.list(params={"card": card}, options=_o(acct)).data == []
    assert _buy(client, acct, replacement.id, wallet="apple_pay").token == apple
    # Canceling the card deletes its tokens; a wallet purchase on it provisions nothing.
    cards.update(replacement.id, params={"status": "canceled"}, options=_o(acct))
    gone = tokens.list(params={"card": replacement.id}, options=_o(acct)).data
    assert {t.status for t in gone} == {"deleted"} and len(gone) == 2
    refused = _buy(client, acct, replacement.id, wallet="apple_pay")
    assert not refused.approved and refused.request_history[0].reason == "card_canceled"
    assert refused.token is None  # a deleted token is never used again
    assert tokens.retrieve(apple, options=_o(acct)).status == "deleted"
    assert len(tokens.list(params={"card": replacement.id}, options=_o(acct)).data) == 2


def test_tokens_are_scoped_and_require_their_card(client, world):
    acct, _, card = world
    tokens = client.v1.issuing.tokens
    token_id = _buy(client, acct, card, wallet="apple_pay").token
    err = _error(tokens.retrieve, token_id)  # the platform does not see the account's token
    assert (err.http_status, err.code) == (404, "resource_missing")
    err = _error(tokens.update, token_id, params={"status": "suspended"})
    assert err.http_status == 404
    err = _error(tokens.list, params={"card": card})
    assert (err.http_status, err.param) == (404, "card")
    err = _error(tokens.list, params={}, options=_o(acct))
    assert (err.http_status, err.code) == (400, "parameter_missing")
    assert tokens.retrieve(token_id, options=_o(acct)).status == "active"
