"""Pure card rules: numbers, expiry, status transitions, replacement, shipping."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from openissuing.domain.errors import InvalidRequest, ParameterMissing
from openissuing.domain.issuing import card_numbers, cards

NOW = int(datetime(2025, 2, 14, 12, tzinfo=UTC).timestamp())
ADDRESS = {
    "line1": "1 Main St",
    "city": "Oakland",
    "state": "ca",
    "postal_code": "94607",
    "country": "us",
}
CARDHOLDER = {"id": "ich_1", "email": "jenny@example.com", "phone_number": None}


def _card(**params):
    base = {"cardholder": "ich_1", "currency": "usd", "type": "virtual"}
    base.update(params)
    cards.check_create(base, NOW)
    return cards.new("ic_1", NOW, base, cardholder=CARDHOLDER, last4="1234")


def _physical(**params):
    return _card(type="physical", shipping={"name": "Jenny Rosen", "address": ADDRESS}, **params)


# -- numbers ------------------------------------------------------------------


@pytest.mark.parametrize("number", ["4242424242424242", "4000056655665556", "79927398713"])
def test_luhn_accepts_known_valid_numbers(number):
    assert card_numbers.luhn_valid(number)


@pytest.mark.parametrize("number", ["4242424242424241", "79927398710", "", "4", "42424242a4242424"])
def test_luhn_rejects_invalid_numbers(number):
    assert not card_numbers.luhn_valid(number)


def test_generated_numbers_are_luhn_valid_in_the_test_range():
    for _ in range(200):
        secret = card_numbers.generate()
        assert len(secret.number) == 16 and secret.number.startswith(card_numbers.TEST_BIN)
        assert card_numbers.luhn_valid(secret.number)
        assert len(secret.cvc) == 3 and secret.cvc.isdigit()
        assert secret.last4 == secret.number[-4:]


def test_generation_uses_the_injected_randomness():
    digits = itertools.cycle([1, 2, 3])
    secret = card_numbers.generate(lambda bound: next(digits))
    assert secret.number[:15] == card_numbers.TEST_BIN + "1231231"
    assert secret.cvc == "231"
    assert card_numbers.luhn_valid(secret.number)


def test_card_secret_repr_hides_the_digits():
    secret = card_numbers.CardSecret("4000009912345678", "123")
    assert "4000009912345678" not in repr(secret) and "123" not in repr(secret)
    assert "4000009912345678" not in str(secret)


# -- create -------------------------------------------------------------------


def test_new_card_defaults():
    card = _card()
    assert card["status"] == "inactive"
    assert (card["exp_month"], card["exp_year"]) == (2, 2028)
    assert card["number"] is None and card["cvc"] is None
    assert card["shipping"] is None
    assert card["spending_controls"]["spending_limits_currency"] == "usd"
    assert card["wallets"]["apple_pay"] == {"eligible": True, "ineligible_reason": None}


def test_wallets_need_cardholder_contact():
    assert cards.wallets({"email": None, "phone_number": None})["google_pay"] == {
        "eligible": False,
        "ineligible_reason": "missing_cardholder_contact",
    }


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"cardholder": None}, "cardholder"),
        ({"type": "physical"}, "shipping"),
        ({"exp_month": 5}, "exp_year"),
    ],
)
def test_create_missing_params(params, param):
    with pytest.raises(ParameterMissing) as raised:
        _card(**params)
    assert raised.value.param == param


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"currency": "eur"}, "currency"),
        ({"shipping": {"name": "x", "address": ADDRESS}}, "shipping"),
        ({"personalization_design": "ipcd_1"}, "personalization_design"),
        ({"replacement_reason": "lost"}, "replacement_reason"),
        ({"second_line": "x" * 25}, "second_line"),
        ({"exp_month": 13, "exp_year": 2027}, "exp_month"),
        ({"exp_month": 1, "exp_year": 2025}, "exp_year"),
        ({"exp_month": 1, "exp_year": 2040}, "exp_year"),
        (
            {"lifecycle_controls": {"cancel_after": {"payment_count": 0}}},
            "lifecycle_controls[cancel_after][payment_count]",
        ),
        (
            {
                "spending_controls": {
                    "allowed_categories": ["bakeries"],
                    "blocked_categories": ["florists"],
                }
            },
            "spending_controls[blocked_categories]",
        ),
    ],
)
def test_create_invalid_params(params, param):
    with pytest.raises(InvalidRequest) as raised:
        _card(**params)
    assert raised.value.param == param


def test_custom_expiry_is_kept():
    card = _card(exp_month=2, exp_year=2025)
    assert (card["exp_month"], card["exp_year"]) == (2, 2025)


def test_financial_account_must_have_card_issuing_active():
    usable = {
        "id": "fa_1",
        "status": "open",
        "active_features": ["card_issuing"],
        "supported_currencies": ["usd"],
    }
    cards.check_financial_account(usable, "usd")
    for broken in (
        dict(usable, active_features=[]),
        dict(usable, status="closed"),
        dict(usable, supported_currencies=["eur"]),
    ):
        with pytest.raises(InvalidRequest) as raised:
            cards.check_financial_account(broken, "usd")
        assert raised.value.param == "financial_account"


# -- status -------------------------------------------------------------------


def test_activate_freeze_and_cancel():
    card = _card()
    active = cards.update(card, {"status": "active"})
    assert active["status"] == "active"
    assert cards.update(active, {"status": "inactive"})["status"] == "inactive"
    canceled = cards.update(active, {"status": "canceled", "cancellation_reason": "lost"})
    assert (canceled["status"], canceled["cancellation_reason"]) == ("canceled", "lost")
    assert card["status"] == "inactive"  # inputs are never mutated


@pytest.mark.parametrize("status", ["active", "inactive", "canceled"])
def test_canceled_is_terminal(status):
    canceled = cards.update(_card(), {"status": "canceled"})
    with pytest.raises(InvalidRequest) as raised:
        cards.update(canceled, {"status": status})
    assert raised.value.param == "status"
    assert cards.update(canceled, {"metadata": {"a": "b"}})["metadata"] == {"a": "b"}


def test_cancellation_reason_only_when_canceling():
    with pytest.raises(InvalidRequest) as raised:
        cards.update(_card(), {"cancellation_reason": "stolen"})
    assert raised.value.param == "cancellation_reason"
    with pytest.raises(InvalidRequest):
        cards.update(_card(), {"status": "active", "cancellation_reason": "stolen"})


def test_canceling_a_physical_card_cancels_a_pending_shipment_only():
    assert cards.update(_physical(), {"status": "canceled"})["shipping"]["status"] == "canceled"
    shipped = cards.advance_shipping(_physical(), "ship", NOW)
    assert cards.update(shipped, {"status": "canceled"})["shipping"]["status"] == "shipped"


def test_shipping_update_only_while_pending_and_physical():
    with pytest.raises(InvalidRequest):
        cards.update(_card(), {"shipping": {"name": "x", "address": ADDRESS}})
    pending = _physical()
    moved = cards.update(
        pending, {"shipping": {"name": "New Name", "address": dict(ADDRESS, city="Berkeley")}}
    )
    assert moved["shipping"]["address"]["city"] == "Berkeley"
    submitted = cards.advance_shipping(pending, "submit", NOW)
    with pytest.raises(InvalidRequest) as raised:
        cards.update(submitted, {"shipping": {"name": "x", "address": ADDRESS}})
    assert raised.value.param == "shipping"


def test_spending_controls_keep_card_currency():
    updated = cards.update(
        _card(), {"spending_controls": {"spending_limits": [{"amount": 500, "interval": "daily"}]}}
    )
    controls = updated["spending_controls"]
    assert controls["spending_limits"] == [{"amount": 500, "categories": None, "interval": "daily"}]
    assert controls["spending_limits_currency"] == "usd"


# -- replacement ----------------------------------------------------------------


def test_replacement_rules():
    original = _card()
    cards.check_replacement(original, "ich_1", "expired")
    cards.check_replacement(original, "ich_1", None)
    with pytest.raises(InvalidRequest):
        cards.check_replacement(original, "ich_other", "expired")
    for reason in ("lost", "stolen"):
        with pytest.raises(InvalidRequest):
            cards.check_replacement(original, "ich_1", reason)
        cards.check_replacement(cards.cancel(original, reason), "ich_1", reason)
    with pytest.raises(InvalidRequest):
        cards.check_replacement(dict(original, replaced_by="ic_2"), "ich_1", "damaged")


@pytest.mark.parametrize(
    ("reason", "cancels"),
    [("expired", True), ("damaged", True), ("lost", False), ("stolen", False), (None, False)],
)
def test_activating_a_replacement_cancels_the_original_for_expired_or_damaged(reason, cancels):
    replacement = _card(replacement_for="ic_0", replacement_reason=reason)
    active = cards.update(replacement, {"status": "active"})
    assert cards.activation_cancels_original(replacement, active) is cancels
    assert cards.activation_cancels_original(None, active) is cancels
    assert not cards.activation_cancels_original(
        active, cards.update(active, {"metadata": {"a": "b"}})
    )


# -- shipping -------------------------------------------------------------------


def test_shipping_record_shape():
    shipping = _physical()["shipping"]
    assert shipping["status"] == "pending"
    assert shipping["service"] == "standard" and shipping["type"] == "individual"
    assert shipping["address"]["country"] == "US" and shipping["address"]["state"] == "CA"
    assert shipping["address_validation"] == {
        "mode": "disabled",
        "normalized_address": None,
        "result": None,
    }


def test_full_shipping_sequence():
    card = _physical()
    card = cards.advance_shipping(card, "submit", NOW)
    card = cards.advance_shipping(card, "ship", NOW + 60)
    shipping = card["shipping"]
    assert shipping["status"] == "shipped" and shipping["carrier"] == "usps"
    assert shipping["shipped_at"] == NOW + 60 and shipping["eta"] == NOW + 60 + 8 * 86_400
    assert shipping["tracking_number"] in shipping["tracking_url"]
    card = cards.advance_shipping(card, "deliver", NOW + 120)
    assert card["shipping"]["delivered_at"] == NOW + 120
    assert cards.advance_shipping(card, "return", NOW + 180)["shipping"]["status"] == "returned"


def test_tracking_is_stable_per_card():
    one = cards.advance_shipping(_physical(), "ship", NOW)["shipping"]
    two = cards.advance_shipping(_physical(), "ship", NOW)["shipping"]
    assert one["tracking_number"] == two["tracking_number"]


@pytest.mark.parametrize(
    ("path", "action"),
    [
        ([], "deliver"),
        ([], "return"),
        (["submit"], "submit"),
        (["ship"], "submit"),
        (["ship"], "ship"),
        (["ship", "deliver"], "fail"),
        (["fail"], "ship"),
        (["ship", "return"], "deliver"),
    ],
)
def test_invalid_shipping_transitions(path, action):
    card = _physical()
    for step in path:
        card = cards.advance_shipping(card, step, NOW)
    with pytest.raises(InvalidRequest):
        cards.advance_shipping(card, action, NOW)


def test_virtual_cards_are_not_shipped():
    with pytest.raises(InvalidRequest):
        cards.advance_shipping(_card(), "ship", NOW)


def test_filter_keys_name_the_list_filters():
    keys = cards.filter_keys(_card())
    assert keys["cardholder"] == "ich_1" and keys["last4"] == "1234" and keys["exp_year"] == 2028
