"""Personalization designs, their review helpers, physical bundles, and cards printed with them,
through the SDK."""

from __future__ import annotations

import pytest
import stripe

from tests.flows import ADDRESS, activated_account

SHIPPING = {"name": "Jenny Rosen", "address": ADDRESS}
DESIGN_FIELDS = {
    "card_logo",
    "carrier_text",
    "created",
    "id",
    "livemode",
    "lookup_key",
    "metadata",
    "name",
    "object",
    "physical_bundle",
    "preferences",
    "rejection_reasons",
    "status",
}


@pytest.fixture()
def acct(client):
    return activated_account(client)


def _o(acct: str | None) -> dict:
    return {"stripe_account": acct} if acct else {}


def _error(call, *args, **kwargs) -> stripe.StripeError:
    with pytest.raises(stripe.StripeError) as raised:
        call(*args, **kwargs)
    return raised.value


def _events(client, acct: str, design_id: str) -> list:
    found = client.v1.events.list(params={"limit": 100}, options=_o(acct)).data
    return [e for e in reversed(found) if e.data.object.to_dict().get("id") == design_id]


def _design(client, acct: str, **params):
    params.setdefault("physical_bundle", "ics_standard_black")
    return client.v1.issuing.personalization_designs.create(params=params, options=_o(acct))


def _holder(client, acct: str) -> str:
    return client.v1.issuing.cardholders.create(
        params={
            "name": "Jenny Rosen",
            "email": "jenny@example.com",
            "billing": {"address": ADDRESS},
            "individual": {"first_name": "Jenny", "last_name": "Rosen"},
        },
        options=_o(acct),
    ).id


def test_physical_bundles_are_one_fixed_catalogue(client, acct):
    bundles = client.v1.issuing.physical_bundles
    everything = bundles.list(params={"limit": 100}).data
    ids = [b.id for b in everything]
    assert ids[:2] == ["ics_standard_black", "ics_standard_white"]
    assert all(
        b.object == "issuing.physical_bundle" and b.id.startswith("ics_") for b in everything
    )
    # The same catalogue in a connected account, and in every sandbox.
    assert [b.id for b in bundles.list(params={"limit": 100}, options=_o(acct)).data] == ids
    black = bundles.retrieve("ics_standard_black")
    assert black.to_dict() == {
        "id": "ics_standard_black",
        "object": "issuing.physical_bundle",
        "features": {
            "card_logo": "optional",
            "carrier_text": "optional",
            "second_line": "optional",
        },
        "livemode": False,
        "name": "Standard black card",
        "status": "active",
        "type": "standard",
    }
    standard = bundles.list(params={"type": "standard"}).data
    assert {b.type for b in standard} == {"standard"} and len(standard) == 2
    assert {b.status for b in bundles.list(params={"status": "inactive"}).data} == {"inactive"}
    page = bundles.list(params={"limit": 2})
    assert page.has_more and [b.id for b in page.data] == ids[:2]
    after = bundles.list(params={"limit": 2, "starting_after": ids[1]}).data
    assert [b.id for b in after] == ids[2:4]
    before = bundles.list(params={"limit": 2, "ending_before": ids[3]}).data
    assert [b.id for b in before] == ids[1:3]
    err = _error(bundles.retrieve, "ics_nope")
    assert (err.http_status, err.code) == (404, "resource_missing")
    err = _error(bundles.list, params={"starting_after": "ics_nope"})
    assert (err.http_status, err.param) == (404, "starting_after")


def test_design_review_lifecycle_and_events(client, acct):
    designs = client.v1.issuing.personalization_designs
    helpers = client.v1.test_helpers.issuing.personalization_designs
    design = _design(
        client,
        acct,
        name="Rocket Rides",
        card_logo="file_logo123",
        carrier_text={"header_title": "Welcome", "footer_body": "Questions? Call us."},
        lookup_key="rocket",
        metadata={"team": "ops"},
    )
    assert set(design.to_dict()) == DESIGN_FIELDS
    assert design.id.startswith("ipcd_") and design.status == "review"
    assert design.physical_bundle == "ics_standard_black"
    assert design.carrier_text.to_dict() == {
        "footer_body": "Questions? Call us.",
        "footer_title": None,
        "header_body": None,
        "header_title": "Welcome",
    }
    assert design.preferences.to_dict() == {"is_default": False, "is_platform_default": None}
    assert design.rejection_reasons.to_dict() == {"card_logo": [], "carrier_text": []}
    assert _events(client, acct, design.id) == []  # Stripe has no .created event for designs

    active = helpers.activate(design.id, options=_o(acct))
    assert active.status == "active"
    err = _error(helpers.activate, design.id, options=_o(acct))
    assert (err.http_status, err.code) == (400, "status_transition_invalid")
    assert helpers.deactivate(design.id, options=_o(acct)).status == "inactive"
    assert helpers.activate(design.id, options=_o(acct)).status == "active"

    # Changing what Stripe reviews sends the design back to review; the rest does not.
    renamed = designs.update(design.id, params={"name": "Rocket Rides II"}, options=_o(acct))
    assert (renamed.status, renamed.name) == ("active", "Rocket Rides II")
    relogo = designs.update(design.id, params={"card_logo": "file_logo456"}, options=_o(acct))
    assert relogo.status == "review"
    reasons = {"card_logo": ["non_binary_image"], "carrier_text": ["inappropriate"]}
    rejected = helpers.reject(design.id, params={"rejection_reasons": reasons}, options=_o(acct))
    assert rejected.status == "rejected" and rejected.rejection_reasons.to_dict() == reasons
    err = _error(helpers.reject, design.id, params={"rejection_reasons": reasons}, options=_o(acct))
    assert err.code == "status_transition_invalid"
    err = _error(helpers.deactivate, design.id, options=_o(acct))
    assert err.code == "status_transition_invalid"
    fixed = designs.update(design.id, params={"card_logo": "file_logo789"}, options=_o(acct))
    assert fixed.status == "review" and fixed.rejection_reasons.to_dict() == {
        "card_logo": [],
        "carrier_text": [],
    }
    assert designs.retrieve(design.id, options=_o(acct)).card_logo == "file_logo789"

    kinds = [e.type for e in _events(client, acct, design.id)]
    assert kinds == [
        "issuing_personalization_design.activated",
        "issuing_personalization_design.deactivated",
        "issuing_personalization_design.activated",
        "issuing_personalization_design.updated",
        "issuing_personalization_design.updated",
        "issuing_personalization_design.rejected",
        "issuing_personalization_design.updated",
    ]
    rename_event = _events(client, acct, design.id)[3]
    assert rename_event.data.previous_attributes.to_dict() == {"name": "Rocket Rides"}


def test_design_input_rules(client, acct):
    err = _error(_design, client, acct, physical_bundle="ics_nope")
    assert (err.http_status, err.param) == (404, "physical_bundle")
    err = _error(_design, client, acct, physical_bundle="ics_custom_retired")
    assert (err.http_status, err.param) == (400, "physical_bundle")
    err = _error(_design, client, acct, physical_bundle="ics_custom_logo_required")
    assert (err.http_status, err.param) == (400, "card_logo")
    err = _error(_design, client, acct, physical_bundle="ics_custom_plain", card_logo="file_x")
    assert err.param == "card_logo"
    err = _error(
        _design,
        client,
        acct,
        physical_bundle="ics_custom_plain",
        carrier_text={"header_title": "Hello"},
    )
    assert err.param == "carrier_text"
    err = _error(_design, client, acct, card_logo="not_a_file")
    assert err.param == "card_logo"
    err = _error(_design, client, acct, carrier_text={"header_title": "x" * 31})
    assert err.param == "carrier_text[header_title]"
    assert _design(client, acct, physical_bundle="ics_custom_plain").status == "review"
    logo = _design(client, acct, physical_bundle="ics_custom_logo_required", card_logo="file_a")
    err = _error(
        client.v1.issuing.personalization_designs.update,
        logo.id,
        params={"card_logo": ""},
        options=_o(acct),
    )
    assert err.param == "card_logo"


def test_lookup_keys_and_the_default_are_unique_per_account(client, acct):
    designs = client.v1.issuing.personalization_designs
    first = _design(client, acct, lookup_key="main", preferences={"is_default": True})
    assert first.preferences.is_default is True
    err = _error(_design, client, acct, lookup_key="main")
    assert (err.http_status, err.param) == (400, "lookup_key")
    second = _design(
        client, acct, lookup_key="main", transfer_lookup_key=True, preferences={"is_default": True}
    )
    assert second.lookup_key == "main" and second.preferences.is_default is True
    old = designs.retrieve(first.id, options=_o(acct))
    assert old.lookup_key is None and old.preferences.is_default is False
    updates = [e for e in _events(client, acct, first.id)]
    assert {tuple(e.data.previous_attributes.to_dict()) for e in updates} == {
        ("lookup_key",),
        ("preferences",),
    }

    listed = designs.list(params={"lookup_keys": ["main", "absent"]}, options=_o(acct)).data
    assert [d.id for d in listed] == [second.id]
    defaults = designs.list(params={"preferences": {"is_default": True}}, options=_o(acct)).data
    assert [d.id for d in defaults] == [second.id]
    in_review = designs.list(params={"status": "review"}, options=_o(acct)).data
    assert {d.id for d in in_review} == {first.id, second.id}
    assert designs.list(params={"status": "active"}, options=_o(acct)).data == []
    page = designs.list(params={"limit": 1}, options=_o(acct))
    assert page.has_more and page.data[0].id == second.id
    # The platform's own designs are platform defaults for its connected accounts.
    platform = _design(client, None, preferences={"is_default": True})
    assert platform.preferences.to_dict() == {"is_default": True, "is_platform_default": True}
    # One account never sees another's designs.
    err = _error(designs.retrieve, second.id)
    assert (err.http_status, err.code) == (404, "resource_missing")
    err = _error(
        client.v1.test_helpers.issuing.personalization_designs.activate,
        platform.id,
        options=_o(acct),
    )
    assert err.http_status == 404


def test_cards_are_printed_with_an_active_design(client, acct):
    designs = client.v1.issuing.personalization_designs
    helpers = client.v1.test_helpers.issuing.personalization_designs
    cards = client.v1.issuing.cards
    holder = _holder(client, acct)
    physical = {"cardholder": holder, "currency": "usd", "type": "physical", "shipping": SHIPPING}
    # No default design yet: the card is printed on no design of the account's.
    assert cards.create(params=physical, options=_o(acct)).personalization_design is None

    design = _design(client, acct, physical_bundle="ics_custom_plain")
    err = _error(
        cards.create, params={**physical, "personalization_design": design.id}, options=_o(acct)
    )
    assert (err.http_status, err.param) == (400, "personalization_design")  # still in review
    helpers.activate(design.id, options=_o(acct))
    card = cards.create(params={**physical, "personalization_design": design.id}, options=_o(acct))
    assert card.personalization_design == design.id
    expanded = cards.retrieve(
        card.id, params={"expand": ["personalization_design"]}, options=_o(acct)
    )
    assert expanded.personalization_design.id == design.id
    assert expanded.personalization_design.object == "issuing.personalization_design"
    deeper = designs.retrieve(design.id, params={"expand": ["physical_bundle"]}, options=_o(acct))
    assert deeper.physical_bundle.id == "ics_custom_plain"
    # The bundle forbids a second line.
    err = _error(
        cards.create,
        params={**physical, "personalization_design": design.id, "second_line": "Ops"},
        options=_o(acct),
    )
    assert err.param == "second_line"
    err = _error(
        cards.create,
        params={
            "cardholder": holder,
            "currency": "usd",
            "type": "virtual",
            "personalization_design": design.id,
        },
        options=_o(acct),
    )
    assert err.param == "personalization_design"  # physical cards only
    listed = cards.list(params={"personalization_design": design.id}, options=_o(acct)).data
    assert [c.id for c in listed] == [card.id]

    # The account's active default applies to physical cards that name no design.
    default = _design(client, acct, preferences={"is_default": True})
    assert cards.create(params=physical, options=_o(acct)).personalization_design is None
    helpers.activate(default.id, options=_o(acct))
    assert cards.create(params=physical, options=_o(acct)).personalization_design == default.id
    virtual = cards.create(
        params={"cardholder": holder, "currency": "usd", "type": "virtual"}, options=_o(acct)
    )
    assert virtual.personalization_design is None


def test_rejecting_a_design_cancels_its_unprinted_cards(client, acct):
    helpers = client.v1.test_helpers.issuing.personalization_designs
    cards = client.v1.issuing.cards
    holder = _holder(client, acct)
    design = _design(client, acct)
    helpers.activate(design.id, options=_o(acct))
    params = {
        "cardholder": holder,
        "currency": "usd",
        "type": "physical",
        "shipping": SHIPPING,
        "personalization_design": design.id,
    }
    waiting = cards.create(params=params, options=_o(acct))
    shipped = cards.create(params=params, options=_o(acct))
    client.v1.test_helpers.issuing.cards.ship_card(shipped.id, options=_o(acct))
    # Back to review (a new logo), then rejected.
    client.v1.issuing.personalization_designs.update(
        design.id, params={"card_logo": "file_new"}, options=_o(acct)
    )
    helpers.reject(
        design.id, params={"rejection_reasons": {"card_logo": ["other"]}}, options=_o(acct)
    )
    gone = cards.retrieve(waiting.id, options=_o(acct))
    assert (gone.status, gone.cancellation_reason) == ("canceled", "design_rejected")
    assert gone.shipping.status == "canceled"
    assert cards.retrieve(shipped.id, options=_o(acct)).status == "inactive"
