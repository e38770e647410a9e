"""/v1/events through the official SDK: what each change records, filters, paging, 30 days."""

from __future__ import annotations

import uuid

import pytest
import stripe

from tests.flows import activated_account

ADDRESS = {
    "line1": "1 Main St",
    "city": "Austin",
    "state": "TX",
    "postal_code": "78701",
    "country": "US",
}
THIRTY_ONE_DAYS = 31 * 24 * 3600


def new_cardholder(client, name: str = "Grace Hopper", **options):
    params = {
        "name": name,
        "billing": {"address": ADDRESS},
        "email": f"{uuid.uuid4().hex[:10]}@example.com",
    }
    return client.v1.issuing.cardholders.create(params=params, options=options or None)


def events_of(client, object_id: str, **params) -> list:
    listed = client.v1.events.list(params={"limit": 100, **params})
    return [e for e in listed.data if e.data.object.to_dict().get("id") == object_id]


def test_create_and_update_record_events_with_the_object_after_the_change(client):
    key = str(uuid.uuid4())
    cardholder = new_cardholder(client, idempotency_key=key)
    updated = client.v1.issuing.cardholders.update(cardholder.id, params={"status": "inactive"})

    update_event, create_event = events_of(client, cardholder.id, type="issuing_cardholder.*")
    assert (create_event.type, update_event.type) == (
        "issuing_cardholder.created",
        "issuing_cardholder.updated",
    )
    assert create_event.id.startswith("evt_") and create_event.object == "event"
    assert create_event.data.object.to_dict() == cardholder.to_dict()
    assert update_event.data.object.to_dict() == updated.to_dict()
    assert isinstance(update_event.data.object, stripe.issuing.Cardholder)
    assert update_event.data.previous_attributes.to_dict() == {"status": "active"}
    assert "previous_attributes" not in create_event.data.to_dict()
    assert "object_type" not in create_event.data.to_dict()
    assert create_event.request.idempotency_key == key
    assert create_event.request.id.startswith("req_")
    assert create_event.api_version == "2026-10-28.endive"
    assert create_event.livemode is False
    assert (
        "account" not in create_event.to_dict()
    )  # Stripe sets it only on connected accounts' events

    fetched = client.v1.events.retrieve(create_event.id)
    assert fetched.to_dict() == create_event.to_dict()


def test_type_filters_exact_wildcard_and_types(client):
    cardholder = new_cardholder(client)
    client.v1.issuing.cardholders.update(cardholder.id, params={"metadata": {"k": "v"}})
    assert [
        e.type for e in events_of(client, cardholder.id, type="issuing_cardholder.updated")
    ] == ["issuing_cardholder.updated"]
    assert len(events_of(client, cardholder.id, type="issuing_cardholder.*")) == 2
    assert len(events_of(client, cardholder.id, type="*")) == 2
    # "_" is literal in the wildcard, not SQL's any-character.
    assert events_of(client, cardholder.id, type="issuing_cardholder*created") != []
    assert events_of(client, cardholder.id, type="issuingXcardholder.*") == []
    both = events_of(
        client, cardholder.id, types=["issuing_cardholder.created", "issuing_card.created"]
    )
    assert [e.type for e in both] == ["issuing_cardholder.created"]

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.events.list(
            params={"type": "issuing_cardholder.created", "types": ["issuing_card.created"]}
        )
    assert raised.value.http_status == 400 and raised.value.param == "types"


def test_paging_and_created_filter(client):
    made = [new_cardholder(client, name=f"Pager {i}") for i in range(3)]
    ids = {c.id for c in made}
    page = client.v1.events.list(params={"type": "issuing_cardholder.created", "limit": 2})
    assert page.has_more is True and len(page.data) == 2
    newest = page.data[0]
    assert newest.data.object.id == made[-1].id
    after = client.v1.events.list(
        params={"type": "issuing_cardholder.created", "limit": 1, "starting_after": page.data[1].id}
    )
    assert after.data[0].data.object.id == made[0].id
    before = client.v1.events.list(
        params={"type": "issuing_cardholder.created", "limit": 5, "ending_before": after.data[0].id}
    )
    assert [e.data.object.id for e in before.data][-2:] == [made[2].id, made[1].id]

    created_at = newest.created
    window = client.v1.events.list(params={"created": {"gte": created_at - 5}, "limit": 100})
    assert ids <= {e.data.object.to_dict().get("id") for e in window.data}
    assert client.v1.events.list(params={"created": {"gt": created_at + 3600}}).data == []

    recent = {"type": "issuing_cardholder.created", "limit": 1, "created": {"gte": created_at - 2}}
    iterated = [e.data.object.id for e in client.v1.events.list(params=recent).auto_paging_iter()]
    iterated = [object_id for object_id in iterated if object_id in ids]
    assert iterated == [c.id for c in reversed(made)]


def test_only_the_last_thirty_days(server, client):
    event = events_of(client, new_cardholder(client).id)[0]
    server.clock.advance(THIRTY_ONE_DAYS)
    try:
        with pytest.raises(stripe.InvalidRequestError) as raised:
            client.v1.events.retrieve(event.id)
        assert raised.value.http_status == 404 and raised.value.code == "resource_missing"
        assert event.id not in [e.id for e in client.v1.events.list(params={"limit": 100}).data]
    finally:
        server.clock.advance(-THIRTY_ONE_DAYS)
    assert client.v1.events.retrieve(event.id).id == event.id


def test_unknown_event_is_404(client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.events.retrieve("evt_doesnotexist")
    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
    assert raised.value.param == "id"


def test_connected_account_events_are_listed_as_that_account(client):
    account = activated_account(client)
    cardholder = new_cardholder(client, stripe_account=account)
    as_account = client.v1.events.list(params={"limit": 100}, options={"stripe_account": account})
    mine = [e for e in as_account.data if e.data.object.to_dict().get("id") == cardholder.id]
    assert [e.type for e in mine] == ["issuing_cardholder.created"]
    assert mine[0].account == account
    assert (
        client.v1.events.retrieve(mine[0].id, options={"stripe_account": account}).account
        == account
    )

    # Stripe's rule: /v1/events lists the acting account's events; the platform asks with Stripe-
    # Account.
    assert events_of(client, cardholder.id) == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.events.retrieve(mine[0].id)
