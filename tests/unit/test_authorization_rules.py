"""The pure authorization decision (domain/issuing/authorizations.decide) and its helpers.

Each decline reason is produced on its own, then the precedence is checked by
stacking problems: the earliest check in the documented order names the reason.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from openissuing.domain.issuing import authorizations as auth
from openissuing.domain.issuing import spending_controls

NOW = int(datetime(2025, 6, 18, 15, 30, tzinfo=UTC).timestamp())  # a Wednesday


def _controls(**fields) -> dict:
    controls = spending_controls.empty(with_currency=False)
    controls.update(fields)
    return controls


def _card(**fields) -> dict:
    card = {
        "id": "ic_1",
        "status": "active",
        "currency": "usd",
        "exp_month": 12,
        "exp_year": 2027,
        "spending_controls": _controls(),
    }
    card.update(fields)
    return card


def _cardholder(**fields) -> dict:
    holder = {
        "id": "ich_1",
        "status": "active",
        "requirements": {"disabled_reason": None, "past_due": []},
        "spending_controls": _controls(),
    }
    holder.update(fields)
    return holder


def _fa(**fields) -> dict:
    fa = {
        "id": "fa_1",
        "status": "open",
        "active_features": ["card_issuing", "financial_addresses.aba"],
        "platform_restrictions": {
            "inbound_flows": "unrestricted",
            "outbound_flows": "unrestricted",
        },
    }
    fa.update(fields)
    return fa


def _request(
    amount: int = 1_000,
    currency: str = "usd",
    category: str = "taxicabs_limousines",
    country: str | None = "US",
    card_presence: str = "not_present",
) -> auth.Request:
    return auth.Request(amount, currency, category, country, card_presence)


def _decide(
    request=None,
    card=None,
    cardholder=None,
    fa="default",
    *,
    available=10_000,
    card_spent=lambda since, cats: 0,
    cardholder_spent=lambda since, cats: 0,
) -> auth.Decision:
    return auth.decide(
        request or _request(),
        card or _card(),
        cardholder or _cardholder(),
        _fa() if fa == "default" else fa,
        now=NOW,
        available=available,
        card_spent=card_spent,
        cardholder_spent=cardholder_spent,
    )


def _reason(**kwargs) -> str:
    decision = _decide(**kwargs)
    assert decision.approved is False
    return decision.reason


# -- each reason on its own --------------------------------------------------------------


def test_approved_when_nothing_is_wrong():
    assert _decide() == auth.Decision(True, "card_active")


def test_exactly_the_available_cash_is_approved():
    assert _decide(_request(10_000), available=10_000).approved is True
    assert _reason(request=_request(10_001), available=10_000) == "insufficient_funds"


@pytest.mark.parametrize(
    "status, reason", [("canceled", "card_canceled"), ("inactive", "card_inactive")]
)
def test_card_status(status, reason):
    assert _reason(card=_card(status=status)) == reason


def test_card_expired_by_the_end_of_its_month():
    assert _decide(card=_card(exp_month=6, exp_year=2025)).approved is True  # still June 2025
    assert _reason(card=_card(exp_month=5, exp_year=2025)) == "card_expired"
    assert _reason(card=_card(exp_month=12, exp_year=2024)) == "card_expired"


@pytest.mark.parametrize(
    "status, reason", [("blocked", "cardholder_blocked"), ("inactive", "cardholder_inactive")]
)
def test_cardholder_status(status, reason):
    assert _reason(cardholder=_cardholder(status=status)) == reason


def test_cardholder_with_past_due_requirements_needs_verification():
    holder = _cardholder(
        requirements={
            "disabled_reason": "requirements.past_due",
            "past_due": ["individual.first_name"],
        }
    )
    assert _reason(cardholder=holder) == "cardholder_verification_required"


@pytest.mark.parametrize(
    "fa",
    [
        _fa(status="closed"),
        _fa(active_features=["financial_addresses.aba"]),
        _fa(active_features=None),
    ],
)
def test_financial_account_closed_or_without_card_issuing_is_account_disabled(fa):
    assert _reason(fa=fa) == "account_disabled"


def test_restricted_outbound_flows_are_not_allowed():
    fa = _fa(
        platform_restrictions={"inbound_flows": "unrestricted", "outbound_flows": "restricted"}
    )
    assert _reason(fa=fa) == "not_allowed"
    inbound_only = _fa(
        platform_restrictions={"inbound_flows": "restricted", "outbound_flows": "unrestricted"}
    )
    assert _decide(fa=inbound_only).approved is True


def test_no_financial_account_draws_on_the_issuing_balance():
    # ``available`` is then the account's Issuing balance: empty declines, enough approves.
    assert _reason(fa=None, available=0) == "insufficient_funds"
    assert _reason(fa=None, available=999) == "insufficient_funds"
    assert _decide(fa=None, available=1_000).approved is True


def test_currency_other_than_the_cards_is_not_allowed():
    decision = _decide(_request(currency="eur"))
    assert (decision.approved, decision.reason) == (False, "not_allowed")
    assert "EUR" in decision.message


# -- spending controls -------------------------------------------------------------------


def test_category_controls():
    blocked = _card(spending_controls=_controls(blocked_categories=["taxicabs_limousines"]))
    assert _reason(card=blocked) == "spending_controls"
    assert _decide(_request(category="bakeries"), card=blocked).approved is True
    allowed = _card(spending_controls=_controls(allowed_categories=["bakeries"]))
    assert _reason(card=allowed) == "spending_controls"
    assert _decide(_request(category="bakeries"), card=allowed).approved is True


def test_country_controls():
    allowed = _card(spending_controls=_controls(allowed_merchant_countries=["US"]))
    assert _decide(card=allowed).approved is True
    assert _reason(request=_request(country="CA"), card=allowed) == "spending_controls"
    assert _reason(request=_request(country=None), card=allowed) == "spending_controls"
    blocked = _card(spending_controls=_controls(blocked_merchant_countries=["CA"]))
    assert _reason(request=_request(country="ca"), card=blocked) == "spending_controls"
    assert _decide(_request(country=None), card=blocked).approved is True


def test_card_presence_controls():
    allowed = _card(spending_controls=_controls(allowed_card_presences=["present"]))
    assert _reason(card=allowed) == "spending_controls"
    assert _decide(_request(card_presence="present"), card=allowed).approved is True
    blocked = _card(spending_controls=_controls(blocked_card_presences=["not_present"]))
    assert _reason(card=blocked) == "spending_controls"


def test_per_authorization_limit_ignores_earlier_spend():
    card = _card(
        spending_controls=_controls(
            spending_limits=[{"amount": 1_000, "interval": "per_authorization", "categories": None}]
        )
    )
    spent = lambda since, cats: 99_999  # noqa: E731
    assert _decide(_request(1_000), card=card, card_spent=spent).approved is True
    assert _reason(request=_request(1_001), card=card) == "spending_controls"


def test_daily_limit_counts_what_was_spent_since_midnight_utc():
    card = _card(
        spending_controls=_controls(
            spending_limits=[{"amount": 3_000, "interval": "daily", "categories": None}]
        )
    )
    asked: list = []

    def spent(since, categories):
        asked.append((since, categories))
        return 2_000

    assert _decide(_request(1_000), card=card, card_spent=spent).approved is True
    assert asked == [(int(datetime(2025, 6, 18, tzinfo=UTC).timestamp()), None)]
    assert _reason(request=_request(1_001), card=card, card_spent=spent) == "spending_controls"


def test_limit_with_categories_applies_only_to_them_and_counts_only_them():
    limit = {"amount": 500, "interval": "weekly", "categories": ["bakeries"]}
    card = _card(spending_controls=_controls(spending_limits=[limit]))
    seen: list = []

    def spent(since, categories):
        seen.append((since, categories))
        return 400

    assert (
        _decide(_request(5_000), card=card, card_spent=spent).approved is True
    )  # a taxi: not limited
    assert seen == []
    assert (
        _reason(request=_request(101, category="bakeries"), card=card, card_spent=spent)
        == "spending_controls"
    )
    assert seen == [(int(datetime(2025, 6, 16, tzinfo=UTC).timestamp()), ["bakeries"])]  # Monday


def test_the_most_restrictive_limit_wins():
    card = _card(
        spending_controls=_controls(
            spending_limits=[
                {"amount": 100_000, "interval": "monthly", "categories": None},
                {"amount": 2_000, "interval": "per_authorization", "categories": None},
            ]
        )
    )
    assert _reason(request=_request(2_001), card=card) == "spending_controls"


def test_cardholder_controls_use_the_cardholder_spend():
    holder = _cardholder(
        spending_controls=dict(
            _controls(spending_limits=[{"amount": 2_500, "interval": "daily", "categories": None}]),
            spending_limits_currency="usd",
        )
    )
    decision = _decide(
        _request(1_000),
        cardholder=holder,
        card_spent=lambda s, c: 0,
        cardholder_spent=lambda s, c: 2_000,
    )
    assert (decision.approved, decision.reason) == (False, "spending_controls")
    assert "cardholder" in decision.message
    assert (
        _decide(_request(500), cardholder=holder, cardholder_spent=lambda s, c: 2_000).approved
        is True
    )


def test_window_starts():
    day = int(datetime(2025, 6, 18, tzinfo=UTC).timestamp())
    assert spending_controls.window_start("per_authorization", NOW) is None
    assert spending_controls.window_start("all_time", NOW) == 0
    assert spending_controls.window_start("daily", NOW) == day
    assert spending_controls.window_start("weekly", NOW) == day - 2 * 86400
    assert spending_controls.window_start("monthly", NOW) == int(
        datetime(2025, 6, 1, tzinfo=UTC).timestamp()
    )
    assert spending_controls.window_start("yearly", NOW) == int(
        datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    )


def test_no_controls_never_block():
    assert (
        spending_controls.blocks(
            None,
            amount=10**9,
            category="x",
            country=None,
            card_presence="present",
            now=NOW,
            spent=lambda s, c: 0,
        )
        is False
    )


# -- precedence: the earliest problem names the decline ---------------------------------------


# Each problem as field overrides on one of the decision's inputs; several can stack on one record.
PAST_DUE = {"disabled_reason": "requirements.past_due", "past_due": ["individual.last_name"]}
TAXI_BLOCKED = _controls(blocked_categories=["taxicabs_limousines"])
BROKEN = {
    "card_canceled": ("card", {"status": "canceled"}),
    "card_inactive": ("card", {"status": "inactive"}),
    "card_expired": ("card", {"exp_year": 2020}),
    "cardholder_blocked": ("cardholder", {"status": "blocked"}),
    "cardholder_inactive": ("cardholder", {"status": "inactive"}),
    "cardholder_verification_required": ("cardholder", {"requirements": PAST_DUE}),
    "account_disabled": ("fa", {"status": "closed"}),
    "not_allowed": ("fa", {"platform_restrictions": {"outbound_flows": "restricted"}}),
    "currency": ("request", {"currency": "eur"}),
    "card_spending_controls": ("card", {"spending_controls": TAXI_BLOCKED}),
    "cardholder_spending_controls": ("cardholder", {"spending_controls": TAXI_BLOCKED}),
    "insufficient_funds": ("available", 0),
}
ORDER = list(BROKEN)
EXPECTED = {
    "currency": "not_allowed",
    "card_spending_controls": "spending_controls",
    "cardholder_spending_controls": "spending_controls",
}
BUILDERS = {"card": _card, "cardholder": _cardholder, "fa": _fa, "request": _request}


def _combine(names: list[str]) -> dict:
    """All these problems at once; on one record, the earlier problem's value of a field wins."""
    fields: dict[str, dict] = {target: {} for target in BUILDERS}
    kwargs: dict = {}
    for name in reversed(names):
        target, value = BROKEN[name]
        if target in BUILDERS:
            fields[target].update(value)
        else:
            kwargs[target] = value
    kwargs.update(
        {target: BUILDERS[target](**values) for target, values in fields.items() if values}
    )
    return kwargs


@pytest.mark.parametrize("index", range(len(ORDER)))
def test_each_problem_beats_every_later_one(index):
    names = ORDER[index:]
    reason = _reason(**_combine(names))
    assert reason == EXPECTED.get(ORDER[index], ORDER[index])


@pytest.mark.parametrize("name", ORDER)
def test_each_problem_alone(name):
    assert _reason(**_combine([name])) == EXPECTED.get(name, name)


def test_card_problems_beat_cardholder_and_funds_problems():
    kwargs = dict(
        card=_card(status="inactive"),
        cardholder=_cardholder(status="blocked"),
        fa=None,
        available=0,
        request=_request(currency="eur"),
    )
    assert _reason(**kwargs) == "card_inactive"


def test_card_controls_are_evaluated_before_the_cardholders():
    card = _card(spending_controls=_controls(blocked_categories=["taxicabs_limousines"]))
    holder = _cardholder(spending_controls=_controls(blocked_categories=["taxicabs_limousines"]))
    assert "card's" in _decide(card=card, cardholder=holder).message


# -- record helpers ----------------------------------------------------------------------


def test_history_entry_has_an_authorization_code_only_when_approved():
    approved = auth.history_entry(
        auth.Decision(True, "card_active"), 500, "usd", 500, "usd", None, NOW
    )
    assert re.fullmatch(r"S\d{6}", approved["authorization_code"])
    assert (
        approved["approved"],
        approved["reason"],
        approved["created"],
        approved["requested_at"],
    ) == (True, "card_active", NOW, NOW)
    declined = auth.history_entry(
        auth.Decision(False, "insufficient_funds", "no"), 500, "usd", 500, "usd", None, NOW
    )
    assert declined["authorization_code"] is None and declined["reason_message"] == "no"


def test_merchant_data_defaults_and_normalisation():
    default = auth.merchant_data(None)
    assert (default["name"], default["category"], default["category_code"]) == (
        "Rocket Rides",
        "taxicabs_limousines",
        "4121",
    )
    custom = auth.merchant_data({"category": "bakeries", "country": "ca", "name": ""})
    assert (custom["category_code"], custom["country"], custom["name"]) == ("5462", "CA", None)
    assert custom["network_id"] == "1234567890"


def test_long_lived_merchants_expire_later():
    assert auth.expiry_seconds("taxicabs_limousines") == 7 * 86400
    assert auth.expiry_seconds("hotels_motels_and_resorts") == 31 * 86400
    assert auth.expiry_seconds("car_rental_agencies") == 31 * 86400
