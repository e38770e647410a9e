"""Pure rules of network tokens, lifecycle controls, personalization designs, physical bundles
and card replacements, table-driven (``openissuing.domain.issuing``)."""

from __future__ import annotations

import pytest

from openissuing.domain.errors import InvalidRequest, InvalidStatusTransition, ResourceMissing
from openissuing.domain.issuing import authorizations as auth
from openissuing.domain.issuing import cards, lifecycle_controls, physical_bundles, tokens
from openissuing.domain.issuing import personalization_designs as designs

CARD = {"id": "ic_1", "status": "active", "cardholder": "ich_1", "type": "virtual"}

# -- tokens -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "asked", "result"),
    [
        ("active", "suspended", "suspended"),
        ("active", "deleted", "deleted"),
        ("active", "active", "active"),
        ("suspended", "active", "active"),
        ("suspended", "deleted", "deleted"),
        ("suspended", "suspended", "suspended"),
        ("requested", "deleted", "deleted"),
        ("requested", "active", InvalidStatusTransition),
        ("requested", "suspended", InvalidStatusTransition),
        ("deleted", "active", InvalidStatusTransition),
        ("deleted", "suspended", InvalidStatusTransition),
        ("deleted", "deleted", "deleted"),
    ],
)
def test_token_status_transitions(start, asked, result):
    token = {**tokens.new("intok_1", CARD, "apple_pay", 100), "status": start}
    if isinstance(result, type):
        with pytest.raises(result) as raised:
            tokens.change_status(token, asked, 200)
        assert raised.value.param == "status"
        return
    after = tokens.change_status(token, asked, 200)
    assert after["status"] == result
    assert after["network_updated_at"] == (100 if result == start else 200)


def test_a_new_token_is_stable_and_shows_network_data_for_24_hours():
    one = tokens.new("intok_1", CARD, "google_pay", 1_000)
    assert one == tokens.new("intok_1", CARD, "google_pay", 1_000)
    assert one["status"] == "active" and one["network"] == "visa" and len(one["last4"]) == 4
    assert tokens.network_data(one, 1_000 + 86_399)["visa"]["token_requestor_id"] == "40010075001"
    assert tokens.network_data(one, 1_000 + 86_400) is None
    assert tokens.deleted(one, 5)["status"] == "deleted"
    assert tokens.moved(one, "ic_2", 7)["card"] == "ic_2"


@pytest.mark.parametrize(
    ("status", "approved_before", "approved_after", "reason"),
    [
        ("active", True, True, "card_active"),
        ("suspended", True, False, "not_allowed"),
        ("requested", True, False, "not_allowed"),
        ("suspended", False, False, "card_inactive"),  # an earlier decline stands
    ],
)
def test_a_token_that_is_not_active_declines(status, approved_before, approved_after, reason):
    token = {**tokens.new("intok_1", CARD, "apple_pay", 0), "status": status}
    decision = auth.APPROVED if approved_before else auth.Decision(False, "card_inactive")
    screened = tokens.screen(token, decision)
    assert (screened.approved, screened.reason) == (approved_after, reason)
    assert tokens.screen(None, decision) is decision


# -- lifecycle controls -------------------------------------------------------------------


def _controlled(count: int) -> dict:
    return {**CARD, "lifecycle_controls": {"cancel_after": {"payment_count": count}}}


@pytest.mark.parametrize(
    ("steps", "payments", "uncaptured", "reached"),
    [
        ([("approve", "a1", 101)], 1, [], False),
        ([("approve", "a1", 100)], 0, ["a1"], False),
        ([("approve", "a1", 100), ("capture", "a1")], 1, [], False),
        ([("approve", "a1", 5_000), ("capture", "a1")], 1, [], False),  # counted once
        ([("capture", None)], 1, [], False),  # a force capture
        ([("approve", "a1", 101), ("approve", "a2", 101), ("capture", None)], 3, [], True),
        ([("approve", "a1", 1), ("approve", "a2", 1), ("capture", "a2")], 1, ["a1"], False),
        ([("approve", "a1", 1), ("capture", "a1"), ("capture", "a1")], 1, [], False),
    ],
)
def test_what_counts_as_a_payment(steps, payments, uncaptured, reached):
    card = _controlled(3)
    for step in steps:
        if step[0] == "approve":
            card = lifecycle_controls.approved(card, step[1], step[2])
        else:
            card = lifecycle_controls.captured(card, step[1])
    assert lifecycle_controls.payments(card) == payments
    assert card.get("_lifecycle", {"uncaptured_small": []})["uncaptured_small"] == uncaptured
    assert lifecycle_controls.reached(card) is reached


def test_uncaptured_small_authorizations_are_limited_and_plain_cards_are_untouched():
    card = _controlled(2)
    for auth_id in ("a1", "a2"):
        assert not lifecycle_controls.small_authorization_refused(card, 100)
        card = lifecycle_controls.approved(card, auth_id, 100)
    assert lifecycle_controls.small_authorization_refused(card, 100)
    assert not lifecycle_controls.small_authorization_refused(card, 101)
    assert lifecycle_controls.approved(CARD, "a1", 5_000) is CARD
    assert lifecycle_controls.captured(CARD, None) is CARD
    assert not lifecycle_controls.reached(CARD)


# -- personalization designs and physical bundles -----------------------------------------


def _design(bundle_id: str = "ics_standard_black", **params) -> dict:
    bundle = physical_bundles.usable(bundle_id)
    return designs.new("ipcd_1", 0, params, bundle, is_platform=False)


@pytest.mark.parametrize(
    ("start", "action", "result"),
    [
        ("review", "activate", "active"),
        ("inactive", "activate", "active"),
        ("active", "activate", InvalidStatusTransition),
        ("rejected", "activate", InvalidStatusTransition),
        ("active", "deactivate", "inactive"),
        ("review", "deactivate", InvalidStatusTransition),
        ("review", "reject", "rejected"),
        ("active", "reject", InvalidStatusTransition),
    ],
)
def test_design_review_helpers(start, action, result):
    design = {**_design(), "status": start}
    params = {"rejection_reasons": {"card_logo": ["other"]}}
    if isinstance(result, type):
        with pytest.raises(result):
            designs.helper(design, action, params)
        return
    after, event = designs.helper(design, action, params)
    assert after["status"] == result
    assert (
        event
        == "issuing_personalization_design."
        + {
            "activate": "activated",
            "deactivate": "deactivated",
            "reject": "rejected",
        }[action]
    )


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"name": "New name"}, "active"),
        ({"metadata": {"k": "v"}}, "active"),
        ({"lookup_key": "k"}, "active"),
        ({"card_logo": "file_2"}, "review"),
        ({"carrier_text": {"header_title": "Hi"}}, "review"),
    ],
)
def test_changing_what_stripe_reviews_sends_a_design_back(change, status):
    design = {**_design(), "status": "active"}
    bundle = physical_bundles.require("ics_standard_black")
    assert designs.update(design, change, bundle, is_platform=False)["status"] == status


@pytest.mark.parametrize(
    ("bundle_id", "params", "param"),
    [
        ("ics_custom_logo_required", {}, "card_logo"),
        ("ics_custom_plain", {"card_logo": "file_1"}, "card_logo"),
        ("ics_custom_plain", {"carrier_text": {"footer_body": "x"}}, "carrier_text"),
        ("ics_standard_black", {"card_logo": "logo.png"}, "card_logo"),
        (
            "ics_standard_black",
            {"carrier_text": {"footer_title": "x" * 31}},
            "carrier_text[footer_title]",
        ),
        ("ics_standard_black", {"name": "x" * 201}, "name"),
        ("ics_standard_black", {"transfer_lookup_key": True}, "lookup_key"),
    ],
)
def test_design_input_is_checked_against_its_bundle(bundle_id, params, param):
    with pytest.raises(InvalidRequest) as raised:
        _design(bundle_id, **params)
    assert raised.value.param == param


def test_bundle_catalogue_paging_and_status():
    ids = [b["id"] for b in physical_bundles.CATALOGUE]
    page, more = physical_bundles.list_(limit=3)
    assert [b["id"] for b in page] == ids[:3] and more
    page, more = physical_bundles.list_(limit=3, starting_after=ids[2])
    assert [b["id"] for b in page] == ids[3:6] and not more
    page, more = physical_bundles.list_(limit=2, ending_before=ids[3])
    assert [b["id"] for b in page] == ids[1:3] and more
    assert {b["type"] for b in physical_bundles.list_(kind="custom", limit=100)[0]} == {"custom"}
    with pytest.raises(ResourceMissing):
        physical_bundles.list_(starting_after="ics_nope")
    for bundle_id in ("ics_custom_in_review", "ics_custom_retired"):
        with pytest.raises(InvalidRequest):
            physical_bundles.usable(bundle_id)
    # The catalogue is never changed by what a caller does with a copy.
    physical_bundles.require(ids[0])["features"]["card_logo"] = "required"
    assert physical_bundles.require(ids[0])["features"]["card_logo"] == "optional"


# -- replacements -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cancellation_reason", "reason", "ok"),
    [
        ("active", None, "expired", True),
        ("active", None, "damaged", True),
        ("canceled", None, "expired", True),
        ("active", None, "lost", False),
        ("canceled", None, "lost", False),
        ("canceled", "lost", "lost", True),
        ("canceled", "stolen", "lost", True),
        ("canceled", "lost", "stolen", True),
        ("canceled", "design_rejected", "stolen", False),
    ],
)
def test_replacement_rules(status, cancellation_reason, reason, ok):
    original = {**CARD, "status": status, "cancellation_reason": cancellation_reason}
    if ok:
        cards.check_replacement(original, "ich_1", reason)
        return
    with pytest.raises(InvalidRequest) as raised:
        cards.check_replacement(original, "ich_1", reason)
    assert raised.value.param == "replacement_for"


def test_expired_and_damaged_replacements_keep_the_number():
    assert cards.KEEPS_NUMBER == ("damaged", "expired")
