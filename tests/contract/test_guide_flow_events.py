"""The guide's whole flow, as a platform's Connect webhook handler sees it.

Account → financial account → cardholder → card → funding → authorization →
capture → refund, driven with the SDK; a real receiver verifies every request
with stripe.Webhook.construct_event, and the events arrive in the order the
changes happened, each for the connected account, each with the object after
its change.
"""

from __future__ import annotations

from tests.flows import activated_account
from tests.refunds import refund as refund_made
from tests.webhook_fixtures import eventually

ADDRESS = {
    "line1": "1 Main St",
    "city": "Austin",
    "state": "TX",
    "postal_code": "78701",
    "country": "US",
}


def _walk_the_guide(client) -> dict:
    acct = activated_account(client)
    o = {"stripe_account": acct}
    fa = client.v1.treasury.financial_accounts.create(
        params={"supported_currencies": ["usd"], "features": {"card_issuing": {"requested": True}}},
        options=o,
    )
    holder = client.v1.issuing.cardholders.create(
        params={
            "name": "Jenny Rosen",
            "billing": {"address": ADDRESS},
            "type": "individual",
            "individual": {"first_name": "Jenny", "last_name": "Rosen"},
        },
        options=o,
    )
    card = client.v1.issuing.cards.create(
        params={
            "cardholder": holder.id,
            "financial_account": fa.id,
            "currency": "usd",
            "type": "virtual",
            "status": "active",
        },
        options=o,
    )
    credit = client.v1.test_helpers.treasury.received_credits.create(
        params={"financial_account": fa.id, "amount": 10_000, "currency": "usd", "network": "ach"},
        options=o,
    )
    auth = client.v1.test_helpers.issuing.authorizations.create(
        params={"card": card.id, "amount": 2_500}, options=o
    )
    captured = client.v1.test_helpers.issuing.authorizations.capture(auth.id, options=o)
    refund = refund_made(client, captured.transactions[0].id, {"refund_amount": 500}, o)
    return {
        "acct": acct,
        "fa": fa.id,
        "cardholder": holder.id,
        "card": card.id,
        "credit": credit.id,
        "auth": auth.id,
        "capture": captured.transactions[0].id,
        "refund": refund.id,
    }


def test_a_connect_handler_receives_the_guide_flow_in_order(
    client, dispatchers, receiver, endpoints
):
    endpoints(receiver, connect=True)  # the platform's Connect endpoint, all event types
    dispatchers()
    ids = _walk_the_guide(client)

    def mine():
        return [e for e in receiver.events() if e.account == ids["acct"]]

    expected = [
        ("capability.updated", None),
        ("treasury.financial_account.created", ids["fa"]),
        ("issuing_cardholder.created", ids["cardholder"]),
        ("issuing_card.created", ids["card"]),
        ("treasury.received_credit.created", ids["credit"]),
        ("issuing_authorization.created", ids["auth"]),
        ("issuing_transaction.created", ids["capture"]),
        ("issuing_authorization.updated", ids["auth"]),
        ("issuing_transaction.created", ids["refund"]),
    ]
    events = eventually(
        lambda: (lambda got: got if _contains_in_order(got, expected) else None)(mine()), timeout=10
    )
    assert all(e.livemode is False and e.id.startswith("evt_") for e in events)
    created = next(e for e in events if e.type == "issuing_authorization.created")
    assert (created.data.object.status, created.data.object.approved) == ("pending", True)
    updated = next(e for e in events if e.type == "issuing_authorization.updated")
    assert updated.data.object.status == "closed"
    assert "status" in updated.data.previous_attributes
    # Nothing of the flow arrives twice, and every request was signed (construct_event verified it).
    assert len({e.id for e in events}) == len(events)


def _contains_in_order(events, expected) -> bool:
    position = 0
    for event in events:
        if position == len(expected):
            break
        kind, object_id = expected[position]
        if event.type == kind and (object_id is None or event.data.object.id == object_id):
            position += 1
    return position == len(expected)
