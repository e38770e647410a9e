"""Lifecycle controls (a card that cancels itself after N payments) and replacement numbers."""

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


@pytest.fixture()
def world(client):
    acct = activated_account(client)
    fa = issuing_financial_account(client, acct)
    fund(client, acct, fa, 100_000)
    holder, _ = active_card(client, acct, fa)
    return acct, fa, holder


def _o(acct: str) -> dict:
    return {"stripe_account": acct}


def _card(client, acct, fa, holder, payment_count: int, **extra):
    return client.v1.issuing.cards.create(
        params={
            "cardholder": holder,
            "financial_account": fa,
            "currency": "usd",
            "type": "virtual",
            "status": "active",
            "lifecycle_controls": {"cancel_after": {"payment_count": payment_count}},
            **extra,
        },
        options=_o(acct),
    )


def _buy(client, acct, card, amount):
    return client.v1.test_helpers.issuing.authorizations.create(
        params={"card": card, "amount": amount}, options=_o(acct)
    )


def _card_events(client, acct, card_id) -> list:
    found = client.v1.events.list(
        params={"limit": 100, "type": "issuing_card.updated"}, options=_o(acct)
    )
    return [e for e in reversed(found.data) if e.data.object.id == card_id]


def test_a_card_cancels_itself_after_its_payment_count(client, world, server):
    acct, fa, holder = world
    helpers = client.v1.test_helpers.issuing
    card = _card(client, acct, fa, holder, 3)
    assert card.lifecycle_controls.cancel_after.payment_count == 3
    assert "_lifecycle" not in card.to_dict()

    first = _buy(client, acct, card.id, 2_500)  # payment 1 (> 1 USD: counted on approval)
    assert first.approved
    penny = _buy(client, acct, card.id, 100)  # 1 USD: counted only once captured
    assert penny.approved
    refused = _buy(client, acct, card.id, 50_000_000)  # a decline is not a payment
    assert not refused.approved
    client.v1.issuing.authorizations.retrieve(first.id, options=_o(acct))
    helpers.authorizations.increment(first.id, params={"increment_amount": 500}, options=_o(acct))
    helpers.authorizations.reverse(first.id, params={"reverse_amount": 500}, options=_o(acct))
    helpers.authorizations.capture(first.id, options=_o(acct))  # already counted
    assert client.v1.issuing.cards.retrieve(card.id, options=_o(acct)).status == "active"

    helpers.authorizations.capture(penny.id, options=_o(acct))  # payment 2
    assert client.v1.issuing.cards.retrieve(card.id, options=_o(acct)).status == "active"
    assert _card_events(client, acct, card.id) == []  # counting is private: no event

    last = _buy(client, acct, card.id, 4_000)  # payment 3: the card cancels itself
    assert last.approved and last.status == "pending"
    done = client.v1.issuing.cards.retrieve(card.id, options=_o(acct))
    assert (done.status, done.cancellation_reason) == ("canceled", None)
    (event,) = _card_events(client, acct, card.id)
    assert event.data.previous_attributes.status == "active"
    assert event.data.object.status == "canceled"

    after = _buy(client, acct, card.id, 1_000)
    assert not after.approved and after.request_history[0].reason == "card_canceled"
    # An open authorization of the canceled card can still be captured.
    assert helpers.authorizations.capture(last.id, options=_o(acct)).status == "closed"
    assert_books(client, acct, fa, cash=100_000 - 2_500 - 100 - 4_000)
    assert_audit_clean(server)


def test_uncaptured_small_authorizations_are_limited_and_force_captures_count(client, world):
    acct, fa, holder = world
    helpers = client.v1.test_helpers.issuing
    card = _card(client, acct, fa, holder, 2)
    assert _buy(client, acct, card.id, 100).approved
    assert _buy(client, acct, card.id, 1).approved
    third = _buy(client, acct, card.id, 50)  # only payment_count uncaptured small ones
    assert not third.approved and third.request_history[0].reason == "not_allowed"
    assert _buy(client, acct, card.id, 101).approved  # payment 1
    helpers.transactions.create_force_capture(
        params={"card": card.id, "amount": 700}, options=_o(acct)
    )  # payment 2
    done = client.v1.issuing.cards.retrieve(card.id, options=_o(acct))
    assert done.status == "canceled"
    assert_books(client, acct, fa, cash=100_000 - 101 - 101 - 700, outbound_pending=202)


def test_lifecycle_controls_input_rules(client, world):
    acct, fa, holder = world
    with pytest.raises(stripe.InvalidRequestError) as raised:
        _card(client, acct, fa, holder, 0)
    assert raised.value.param == "lifecycle_controls[cancel_after][payment_count]"
    with pytest.raises(stripe.InvalidRequestError) as raised:
        _card(
            client,
            acct,
            fa,
            holder,
            1,
            type="physical",
            shipping={
                "name": "Jenny Rosen",
                "address": {
                    "line1": "1 Main St",
                    "city": "Austin",
                    "state": "TX",
                    "postal_code": "78701",
                    "country": "US",
                },
            },
        )
    assert raised.value.param == "lifecycle_controls"


def test_replacements_keep_or_change_the_number_as_stripe_does(client, world):
    acct, fa, holder = world
    cards = client.v1.issuing.cards
    original = _card(client, acct, fa, holder, 5)

    def number(card_id):
        return cards.retrieve(card_id, params={"expand": ["number", "cvc"]}, options=_o(acct))

    expired = cards.create(
        params={
            "cardholder": holder,
            "currency": "usd",
            "type": "virtual",
            "replacement_for": original.id,
            "replacement_reason": "expired",
        },
        options=_o(acct),
    )
    assert expired.last4 == original.last4 and expired.status == "inactive"
    assert number(expired.id).number == number(original.id).number
    # A lost card must be canceled as lost or stolen before its replacement.
    lost = _card(client, acct, fa, holder, 5)
    cards.update(lost.id, params={"status": "canceled"}, options=_o(acct))
    with pytest.raises(stripe.InvalidRequestError) as raised:
        cards.create(
            params={
                "cardholder": holder,
                "currency": "usd",
                "type": "virtual",
                "replacement_for": lost.id,
                "replacement_reason": "stolen",
            },
            options=_o(acct),
        )
    assert raised.value.param == "replacement_for"
    stolen = _card(client, acct, fa, holder, 5)
    cards.update(
        stolen.id, params={"status": "canceled", "cancellation_reason": "stolen"}, options=_o(acct)
    )
    renewed = cards.create(
        params={
            "cardholder": holder,
            "currency": "usd",
            "type": "virtual",
            "replacement_for": stolen.id,
            "replacement_reason": "stolen",
        },
        options=_o(acct),
    )
    assert number(renewed.id).number != number(stolen.id).number
    assert cards.retrieve(stolen.id, options=_o(acct)).replaced_by == renewed.id


@pytest.mark.parametrize("amount, payment_count", [(500, 3), (100, 2)])
def test_concurrent_purchases_never_pass_the_payment_count(
    client, world, server, amount, payment_count
):
    """Purchases racing on one card with lifecycle controls are counted one after another: exactly
    ``payment_count`` are approved (over 1 USD: counted payments, then the card cancels itself;
    1 USD or less: uncaptured small authorizations), the rest decline, and the books balance."""
    import concurrent.futures
    import uuid

    import httpx

    acct, fa, holder = world
    card = _card(client, acct, fa, holder, payment_count).id
    headers = {"Authorization": f"Bearer {server.api_key}", "Stripe-Account": acct}

    def purchase(_: int) -> dict:
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
            response = http.post(
                "/v1/test_helpers/issuing/authorizations",
                data={"card": card, "amount": amount},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            assert response.status_code == 200, response.text
            return response.json()

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(purchase, range(16)))

    assert sum(r["approved"] for r in results) == payment_count
    held = payment_count * amount
    assert_books(client, acct, fa, cash=100_000 - held, outbound_pending=held)
    assert_audit_clean(server)
