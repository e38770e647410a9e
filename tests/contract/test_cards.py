"""Issuing cards and the card-shipping test helpers, through the official SDK."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import stripe
from sqlalchemy import select

from openissuing.domain.issuing.card_numbers import luhn_valid
from openissuing.storage.tables import card_secrets, objects
from tests.flows import activated_account

ADDRESS = {
    "line1": "1 Main St",
    "city": "San Francisco",
    "state": "CA",
    "postal_code": "94111",
    "country": "US",
}
SHIPPING = {"name": "Jenny Rosen", "address": ADDRESS, "service": "express"}
# Every field of issuing.card in the SDK (stripe-surface.md §3.3); the SDK raises
# AttributeError on a missing one, so they must all be present, null when unset.
CARD_FIELDS = {
    "brand",
    "cancellation_reason",
    "cardholder",
    "created",
    "currency",
    "cvc",
    "exp_month",
    "exp_year",
    "financial_account",
    "id",
    "last4",
    "latest_fraud_warning",
    "lifecycle_controls",
    "livemode",
    "metadata",
    "number",
    "object",
    "personalization_design",
    "replaced_by",
    "replacement_for",
    "replacement_reason",
    "second_line",
    "shipping",
    "spending_controls",
    "status",
    "type",
    "wallets",
}
SHIPPING_FIELDS = {
    "address",
    "address_validation",
    "business_name",
    "carrier",
    "customs",
    "delivered_at",
    "eta",
    "name",
    "phone_number",
    "require_signature",
    "service",
    "shipped_at",
    "status",
    "tracking_number",
    "tracking_url",
    "type",
}
CONTROLS_FIELDS = {
    "allowed_card_presences",
    "allowed_categories",
    "allowed_merchant_countries",
    "blocked_card_presences",
    "blocked_categories",
    "blocked_merchant_countries",
    "spending_limits",
    "spending_limits_currency",
}


@pytest.fixture()
def acct(client) -> str:
    return activated_account(client)


def _opts(acct: str) -> dict:
    return {"stripe_account": acct}


def _cardholder(client, acct: str, **extra) -> str:
    params = {
        "name": "Jenny Rosen",
        "email": "jenny@example.com",
        "type": "individual",
        "individual": {"first_name": "Jenny", "last_name": "Rosen"},
        "billing": {"address": ADDRESS},
    }
    params.update(extra)
    return client.v1.issuing.cardholders.create(params=params, options=_opts(acct)).id


def _financial_account(client, acct: str, card_issuing: bool = True) -> str:
    params: dict = {"supported_currencies": ["usd"]}
    if card_issuing:
        params["features"] = {"card_issuing": {"requested": True}}
    return client.v1.treasury.financial_accounts.create(params=params, options=_opts(acct)).id


def _card(client, acct: str, cardholder: str, **extra):
    params = {"cardholder": cardholder, "currency": "usd", "type": "virtual"}
    params.update(extra)
    return client.v1.issuing.cards.create(params=params, options=_opts(acct))


def _physical(client, acct: str, cardholder: str, **extra):
    return _card(client, acct, cardholder, type="physical", shipping=SHIPPING, **extra)


def _error(call, *args, **kwargs) -> stripe.StripeError:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        call(*args, **kwargs)
    return raised.value


def _raw(server, object_id: str) -> str:
    with server.runtime.engine.connect() as conn:
        return conn.execute(select(objects.c.data).where(objects.c.id == object_id)).scalar_one()


def _events(server, owner: str, object_id: str) -> list[dict]:
    with server.runtime.engine.connect() as conn:
        rows = conn.execute(
            select(objects.c.data)
            .where(objects.c.type == "event", objects.c.owner == owner)
            .order_by(objects.c.id)
        ).scalars()
        found = [json.loads(row) for row in rows]
    return [event for event in found if event["data"]["object"].get("id") == object_id]


# -- the guide's flow and the object's shape --------------------------------------


def test_guide_flow_card_on_a_financial_account(client, server, acct):
    fa = _financial_account(client, acct)
    cardholder = _cardholder(client, acct)
    card = _card(
        client, acct, cardholder, financial_account=fa, status="active", metadata={"order": "7"}
    )

    assert card.id.startswith("ic_") and card.object == "issuing.card"
    assert card.status == "active" and card.type == "virtual" and card.brand == "Visa"
    assert card.financial_account == fa
    assert card.currency == "usd" and card.spending_controls.spending_limits_currency == "usd"
    assert card.cardholder.id == cardholder and card.cardholder.object == "issuing.cardholder"
    assert card.cardholder.name == "Jenny Rosen"
    assert card.number is None and card.cvc is None
    assert len(card.last4) == 4 and card.metadata.to_dict() == {"order": "7"}
    assert card.wallets.apple_pay.eligible is True

    fetched = client.v1.issuing.cards.retrieve(card.id, options=_opts(acct))
    assert fetched.to_dict() == card.to_dict()
    expanded = client.v1.issuing.cards.retrieve(
        card.id, params={"expand": ["cardholder", "financial_account"]}, options=_opts(acct)
    )
    assert expanded.cardholder.id == cardholder
    assert (
        expanded.financial_account.id == fa
        and expanded.financial_account.object == "treasury.financial_account"
    )
    assert [e["type"] for e in _events(server, acct, card.id)] == ["issuing_card.created"]


def test_every_documented_field_is_present(client, acct):
    cardholder = _cardholder(client, acct)
    card = _physical(client, acct, cardholder).to_dict()
    assert set(card) == CARD_FIELDS
    assert set(card["shipping"]) == SHIPPING_FIELDS
    assert set(card["shipping"]["address"]) == {
        "city",
        "country",
        "line1",
        "line2",
        "postal_code",
        "state",
    }
    assert set(card["spending_controls"]) == CONTROLS_FIELDS
    assert set(card["wallets"]) == {"apple_pay", "google_pay", "primary_account_identifier"}
    assert set(card["wallets"]["apple_pay"]) == {"eligible", "ineligible_reason"}
    assert card["cardholder"]["id"] == cardholder and "requirements" in card["cardholder"]


def test_status_defaults_to_inactive_and_expiry_to_three_years(client, server, acct):
    card = _card(client, acct, _cardholder(client, acct))
    assert card.status == "inactive"
    issued = datetime.fromtimestamp(card.created, tz=UTC)
    assert (card.exp_month, card.exp_year) == (issued.month, issued.year + 3)
    custom = _card(client, acct, card.cardholder.id, exp_month=12, exp_year=card.exp_year + 1)
    assert (custom.exp_month, custom.exp_year) == (12, card.exp_year + 1)
    err = _error(_card, client, acct, card.cardholder.id, exp_month=12)
    assert (err.code, err.param) == ("parameter_missing", "exp_year")


# -- secrets ----------------------------------------------------------------------


def test_number_and_cvc_only_on_retrieve_with_expand(client, server, acct):
    cardholder = _cardholder(client, acct)
    card = _card(client, acct, cardholder, expand=["number", "cvc"])
    assert card.number is None and card.cvc is None

    plain = client.v1.issuing.cards.retrieve(card.id, options=_opts(acct))
    assert plain.number is None and plain.cvc is None

    revealed = client.v1.issuing.cards.retrieve(
        card.id, params={"expand": ["number", "cvc"]}, options=_opts(acct)
    )
    assert len(revealed.number) == 16 and luhn_valid(revealed.number)
    assert revealed.number.endswith(card.last4) and revealed.last4 == card.last4
    assert len(revealed.cvc) == 3 and revealed.cvc.isdigit()
    only_number = client.v1.issuing.cards.retrieve(
        card.id, params={"expand": ["number"]}, options=_opts(acct)
    )
    assert only_number.number == revealed.number and only_number.cvc is None

    updated = client.v1.issuing.cards.update(
        card.id, params={"metadata": {"a": "b"}, "expand": ["number", "cvc"]}, options=_opts(acct)
    )
    assert updated.number is None and updated.cvc is None
    listed = client.v1.issuing.cards.list(
        params={"cardholder": cardholder, "expand": ["data.number", "data.cvc"]},
        options=_opts(acct),
    )
    assert [(c.number, c.cvc) for c in listed.data] == [(None, None)]

    # At rest: the document never holds the credentials; card_secrets holds them sealed.
    document = _raw(server, card.id)
    assert revealed.number not in document
    assert json.loads(document)["number"] is None and json.loads(document)["cvc"] is None
    with server.runtime.engine.connect() as conn:
        sealed = conn.execute(select(card_secrets).where(card_secrets.c.card_id == card.id)).one()
    assert revealed.number.encode() not in bytes(sealed.number_encrypted)
    assert server.runtime.box.open(bytes(sealed.cvc_encrypted)) == revealed.cvc


def test_physical_card_credentials_are_never_revealed(client, acct):
    card = _physical(client, acct, _cardholder(client, acct))
    fetched = client.v1.issuing.cards.retrieve(
        card.id, params={"expand": ["number", "cvc"]}, options=_opts(acct)
    )
    assert fetched.number is None and fetched.cvc is None


# -- validation and scoping ---------------------------------------------------------


def test_create_validation(client, acct):
    cardholder = _cardholder(client, acct)
    err = _error(
        client.v1.issuing.cards.create,
        params={"currency": "usd", "type": "virtual"},
        options=_opts(acct),
    )
    assert (err.http_status, err.code, err.param) == (400, "parameter_missing", "cardholder")
    err = _error(_card, client, acct, cardholder, type="physical")
    assert (err.code, err.param) == ("parameter_missing", "shipping")
    err = _error(_card, client, acct, cardholder, shipping=SHIPPING)
    assert (err.http_status, err.param) == (400, "shipping")
    err = _error(_card, client, acct, cardholder, status="canceled")
    assert err.http_status == 400 and err.param == "status"
    err = _error(_card, client, acct, cardholder, currency="eur")
    assert err.param == "currency"
    err = _error(_card, client, acct, "ich_doesnotexist")
    assert (err.http_status, err.code, err.param) == (404, "resource_missing", "cardholder")
    err = _error(_card, client, acct, cardholder, financial_account="fa_doesnotexist")
    assert (err.http_status, err.param) == (404, "financial_account")


def test_financial_account_without_card_issuing_is_refused(client, acct):
    fa = _financial_account(client, acct, card_issuing=False)
    err = _error(_card, client, acct, _cardholder(client, acct), financial_account=fa)
    assert (err.http_status, err.param) == (400, "financial_account")
    assert "card_issuing" in err.user_message


def test_other_accounts_objects_are_not_found(client):
    mine, theirs = activated_account(client), activated_account(client)
    their_cardholder = _cardholder(client, theirs)
    their_fa = _financial_account(client, theirs)
    their_card = _card(client, theirs, their_cardholder)

    err = _error(_card, client, mine, their_cardholder)
    assert (err.http_status, err.code, err.param) == (404, "resource_missing", "cardholder")
    err = _error(_card, client, mine, _cardholder(client, mine), financial_account=their_fa)
    assert (err.http_status, err.code, err.param) == (404, "resource_missing", "financial_account")
    err = _error(client.v1.issuing.cards.retrieve, their_card.id, options=_opts(mine))
    assert (err.http_status, err.code) == (404, "resource_missing")
    err = _error(client.v1.test_helpers.issuing.cards.ship_card, their_card.id, options=_opts(mine))
    assert err.http_status == 404
    assert their_card.id not in [
        c.id for c in client.v1.issuing.cards.list(options=_opts(mine)).auto_paging_iter()
    ]


def test_spending_controls(client, acct):
    cardholder = _cardholder(client, acct)
    err = _error(
        _card,
        client,
        acct,
        cardholder,
        spending_controls={"allowed_categories": ["bakeries"], "blocked_categories": ["florists"]},
    )
    assert (err.http_status, err.code) == (400, "parameters_exclusive")
    card = _card(
        client,
        acct,
        cardholder,
        spending_controls={
            "blocked_categories": ["florists"],
            "spending_limits": [{"amount": 5000, "interval": "daily"}],
        },
    )
    assert card.spending_controls.blocked_categories == ["florists"]
    assert card.spending_controls.spending_limits[0].amount == 5000
    changed = client.v1.issuing.cards.update(
        card.id,
        params={
            "spending_controls": {
                "blocked_categories": ["bakeries"],
                "blocked_merchant_countries": ["ru"],
            }
        },
        options=_opts(acct),
    )
    assert changed.spending_controls.blocked_categories == ["bakeries"]
    assert changed.spending_controls.blocked_merchant_countries == ["RU"]
    assert changed.spending_controls.spending_limits[0].amount == 5000  # untouched keys are kept
    assert changed.spending_controls.spending_limits_currency == "usd"
    err = _error(
        client.v1.issuing.cards.update,
        card.id,
        params={"spending_controls": {"allowed_categories": ["florists"]}},
        options=_opts(acct),
    )
    assert (err.http_status, err.code) == (400, "parameters_exclusive")
    # The SDK drops empty lists, so "" is how a client clears one; then the other side is allowed.
    cleared = client.v1.issuing.cards.update(
        card.id,
        params={"spending_controls": {"blocked_categories": "", "spending_limits": ""}},
        options=_opts(acct),
    )
    assert cleared.spending_controls.blocked_categories == []
    assert cleared.spending_controls.spending_limits == []
    allowed = client.v1.issuing.cards.update(
        card.id,
        params={"spending_controls": {"allowed_categories": ["florists"]}},
        options=_opts(acct),
    )
    assert allowed.spending_controls.allowed_categories == ["florists"]


# -- status -------------------------------------------------------------------------


def test_activate_cancel_and_canceled_is_terminal(client, server, acct):
    card = _card(client, acct, _cardholder(client, acct))
    active = client.v1.issuing.cards.update(
        card.id, params={"status": "active"}, options=_opts(acct)
    )
    assert active.status == "active"
    err = _error(
        client.v1.issuing.cards.update,
        card.id,
        params={"cancellation_reason": "lost"},
        options=_opts(acct),
    )
    assert err.param == "cancellation_reason"

    canceled = client.v1.issuing.cards.update(
        card.id, params={"status": "canceled", "cancellation_reason": "stolen"}, options=_opts(acct)
    )
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "stolen")
    for status in ("active", "inactive"):
        err = _error(
            client.v1.issuing.cards.update, card.id, params={"status": status}, options=_opts(acct)
        )
        assert (err.http_status, err.param) == (400, "status")
    still = client.v1.issuing.cards.update(
        card.id, params={"metadata": {"note": "gone"}}, options=_opts(acct)
    )
    assert still.status == "canceled" and still.metadata.note == "gone"

    updates = [e for e in _events(server, acct, card.id) if e["type"] == "issuing_card.updated"]
    assert updates[0]["data"]["previous_attributes"] == {"status": "inactive"}
    assert updates[1]["data"]["previous_attributes"] == {
        "cancellation_reason": None,
        "status": "active",
    }


def test_replacement_for_expired_card_cancels_it_on_activation(client, acct):
    cardholder = _cardholder(client, acct)
    original = _card(client, acct, cardholder, status="active")
    replacement = _card(
        client, acct, cardholder, replacement_for=original.id, replacement_reason="expired"
    )
    assert (
        replacement.replacement_for == original.id and replacement.replacement_reason == "expired"
    )
    before = client.v1.issuing.cards.retrieve(original.id, options=_opts(acct))
    assert before.status == "active" and before.replaced_by == replacement.id

    client.v1.issuing.cards.update(replacement.id, params={"status": "active"}, options=_opts(acct))
    after = client.v1.issuing.cards.retrieve(original.id, options=_opts(acct))
    assert after.status == "canceled"

    expanded = client.v1.issuing.cards.retrieve(
        replacement.id, params={"expand": ["replacement_for"]}, options=_opts(acct)
    )
    assert (
        expanded.replacement_for.id == original.id
        and expanded.replacement_for.object == "issuing.card"
    )
    err = _error(
        _card, client, acct, cardholder, replacement_for=original.id, replacement_reason="damaged"
    )
    assert err.param == "replacement_for"  # already replaced

    # Issued already active, a replacement for a damaged card cancels the original at once.
    damaged = _card(client, acct, cardholder, status="active")
    _card(
        client,
        acct,
        cardholder,
        replacement_for=damaged.id,
        replacement_reason="damaged",
        status="active",
    )
    assert client.v1.issuing.cards.retrieve(damaged.id, options=_opts(acct)).status == "canceled"


def test_replacement_for_lost_card_requires_it_canceled_first(client, acct):
    cardholder = _cardholder(client, acct)
    lost = _card(client, acct, cardholder, status="active")
    err = _error(
        _card, client, acct, cardholder, replacement_for=lost.id, replacement_reason="lost"
    )
    assert (err.http_status, err.param) == (400, "replacement_for")
    client.v1.issuing.cards.update(
        lost.id, params={"status": "canceled", "cancellation_reason": "lost"}, options=_opts(acct)
    )
    replacement = _card(
        client,
        acct,
        cardholder,
        replacement_for=lost.id,
        replacement_reason="lost",
        status="active",
    )
    assert replacement.status == "active"

    other = _cardholder(client, acct, name="Someone Else")
    err = _error(
        _card, client, acct, other, replacement_for=replacement.id, replacement_reason="damaged"
    )
    assert (err.http_status, err.param) == (400, "replacement_for")
    err = _error(_card, client, acct, cardholder, replacement_for="ic_doesnotexist")
    assert (err.http_status, err.param) == (404, "replacement_for")
    err = _error(_card, client, acct, cardholder, replacement_reason="lost")
    assert err.param == "replacement_reason"


# -- shipping -----------------------------------------------------------------------


def test_physical_card_full_shipping_sequence(client, server, acct):
    helpers = client.v1.test_helpers.issuing.cards
    card = _physical(client, acct, _cardholder(client, acct))
    assert card.shipping.status == "pending" and card.shipping.name == "Jenny Rosen"
    assert card.shipping.carrier is None and card.shipping.service == "express"

    moved = client.v1.issuing.cards.update(
        card.id,
        params={"shipping": dict(SHIPPING, address=dict(ADDRESS, line2="Apt 3"))},
        options=_opts(acct),
    )
    assert moved.shipping.address.line2 == "Apt 3"

    submitted = helpers.submit_card(card.id, options=_opts(acct))
    assert submitted.object == "issuing.card" and submitted.shipping.status == "submitted"
    shipped = helpers.ship_card(card.id, options=_opts(acct))
    assert shipped.shipping.status == "shipped" and shipped.shipping.carrier == "fedex"
    assert (
        shipped.shipping.tracking_number
        and shipped.shipping.tracking_number in shipped.shipping.tracking_url
    )
    assert shipped.shipping.eta > shipped.shipping.shipped_at
    delivered = helpers.deliver_card(card.id, options=_opts(acct))
    assert delivered.shipping.status == "delivered" and delivered.shipping.delivered_at is not None
    assert delivered.cardholder.object == "issuing.cardholder"
    returned = helpers.return_card(card.id, options=_opts(acct))
    assert returned.shipping.status == "returned"

    err = _error(
        client.v1.issuing.cards.update, card.id, params={"shipping": SHIPPING}, options=_opts(acct)
    )
    assert (err.http_status, err.param) == (400, "shipping")
    shipping_events = [
        e["data"]["previous_attributes"]["shipping"]["status"]
        for e in _events(server, acct, card.id)
        if e["type"] == "issuing_card.updated"
    ]
    assert shipping_events == ["pending", "pending", "submitted", "shipped", "delivered"]


def test_invalid_shipping_transitions(client, acct):
    helpers = client.v1.test_helpers.issuing.cards
    cardholder = _cardholder(client, acct)
    card = _physical(client, acct, cardholder)
    for call in (helpers.deliver_card, helpers.return_card):
        err = _error(call, card.id, options=_opts(acct))
        assert err.http_status == 400 and "pending" in err.user_message
    assert helpers.fail_card(card.id, options=_opts(acct)).shipping.status == "failure"
    err = _error(helpers.ship_card, card.id, options=_opts(acct))
    assert err.http_status == 400

    virtual = _card(client, acct, cardholder)
    err = _error(helpers.ship_card, virtual.id, options=_opts(acct))
    assert err.http_status == 400 and "physical" in err.user_message
    err = _error(helpers.submit_card, "ic_doesnotexist", options=_opts(acct))
    assert (err.http_status, err.code) == (404, "resource_missing")


def test_canceling_a_physical_card_cancels_its_pending_shipment(client, acct):
    card = _physical(client, acct, _cardholder(client, acct))
    canceled = client.v1.issuing.cards.update(
        card.id, params={"status": "canceled"}, options=_opts(acct)
    )
    assert canceled.shipping.status == "canceled"
    err = _error(client.v1.test_helpers.issuing.cards.ship_card, card.id, options=_opts(acct))
    assert err.http_status == 400


# -- lists --------------------------------------------------------------------------


def test_list_filters_and_pagination(client, acct):
    cardholder = _cardholder(client, acct)
    other = _cardholder(client, acct, name="Other Person")
    virtual = _card(client, acct, cardholder, status="active")
    physical = _physical(client, acct, cardholder)
    third = _card(client, acct, cardholder)
    _card(client, acct, other)

    def ids(**params):
        return [
            c.id
            for c in client.v1.issuing.cards.list(
                params=dict(params, limit=100), options=_opts(acct)
            ).data
        ]

    assert ids(cardholder=cardholder) == [third.id, physical.id, virtual.id]
    assert ids(cardholder=cardholder, type="physical") == [physical.id]
    assert ids(cardholder=cardholder, status="active") == [virtual.id]
    assert ids(cardholder=cardholder, last4=physical.last4) == [physical.id]
    assert set(
        ids(cardholder=cardholder, exp_month=virtual.exp_month, exp_year=virtual.exp_year)
    ) == {
        third.id,
        physical.id,
        virtual.id,
    }
    assert ids(cardholder=cardholder, exp_year=virtual.exp_year + 5) == []
    assert ids(cardholder=cardholder, created={"gte": virtual.created}) == [
        third.id,
        physical.id,
        virtual.id,
    ]

    first = client.v1.issuing.cards.list(
        params={"cardholder": cardholder, "limit": 2}, options=_opts(acct)
    )
    assert [c.id for c in first.data] == [third.id, physical.id] and first.has_more
    assert all(c.cardholder.object == "issuing.cardholder" for c in first.data)
    rest = client.v1.issuing.cards.list(
        params={"cardholder": cardholder, "limit": 2, "starting_after": physical.id},
        options=_opts(acct),
    )
    assert [c.id for c in rest.data] == [virtual.id] and not rest.has_more
    back = client.v1.issuing.cards.list(
        params={"cardholder": cardholder, "limit": 2, "ending_before": virtual.id},
        options=_opts(acct),
    )
    assert [c.id for c in back.data] == [third.id, physical.id]
    paged = client.v1.issuing.cards.list(
        params={"cardholder": cardholder, "limit": 1}, options=_opts(acct)
    )
    assert [c.id for c in paged.auto_paging_iter()] == [third.id, physical.id, virtual.id]
