"""The full shape of a partly sent sub-hash (domain/issuing/details.py), table-driven; and
every template matches the SDK class it stands for, field for field."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from openissuing.domain.issuing import details as d
from openissuing.wire import View, issuing_money
from tests import shapes

NULL_FUEL = {
    "industry_product_code": None,
    "quantity_decimal": None,
    "type": None,
    "unit": None,
    "unit_cost_decimal": None,
}

CASES: list[tuple[str, dict, Any, Any, Any]] = [
    ("nothing sent is null", d.AMOUNT_DETAILS, None, None, None),
    ("unset ('') is null", d.AMOUNT_DETAILS, "", {"atm_fee": 1, "cashback_amount": 2}, None),
    (
        "one key sent, the rest null",
        d.AMOUNT_DETAILS,
        {"cashback_amount": 500},
        None,
        {"atm_fee": None, "cashback_amount": 500},
    ),
    (
        "integers from text",
        d.AMOUNT_DETAILS,
        {"atm_fee": "25"},
        None,
        {"atm_fee": 25, "cashback_amount": None},
    ),
    (
        "fuel type only",
        d.AUTHORIZATION_FUEL,
        {"type": "diesel"},
        None,
        {**NULL_FUEL, "type": "diesel"},
    ),
    (
        "decimals stay exact text, made canonical",
        d.AUTHORIZATION_FUEL,
        {"quantity_decimal": "10.500", "unit_cost_decimal": ".5"},
        None,
        {**NULL_FUEL, "quantity_decimal": "10.500", "unit_cost_decimal": "0.5"},
    ),
    (
        "a later request updates key by key",
        d.AUTHORIZATION_FUEL,
        {"quantity_decimal": "3"},
        {**NULL_FUEL, "type": "diesel", "unit": "liter"},
        {**NULL_FUEL, "type": "diesel", "unit": "liter", "quantity_decimal": "3"},
    ),
    (
        "a later unset clears one key",
        d.AUTHORIZATION_FUEL,
        {"unit": ""},
        {**NULL_FUEL, "type": "diesel", "unit": "liter"},
        {**NULL_FUEL, "type": "diesel"},
    ),
    (
        "a nested hash sent in part",
        d.AUTHORIZATION_FLEET,
        {"reported_breakdown": {"tax": {"local_amount_decimal": "1.25"}}},
        None,
        {
            "cardholder_prompt_data": None,
            "purchase_type": None,
            "reported_breakdown": {
                "fuel": None,
                "non_fuel": None,
                "tax": {"local_amount_decimal": "1.25", "national_amount_decimal": None},
            },
            "service_type": None,
        },
    ),
    (
        "a nested update keeps its siblings",
        d.AUTHORIZATION_FLEET,
        {"reported_breakdown": {"fuel": {"gross_amount_decimal": "9"}}},
        d.shape(
            d.AUTHORIZATION_FLEET,
            {
                "purchase_type": "fuel_purchase",
                "reported_breakdown": {"tax": {"local_amount_decimal": "1"}},
            },
        ),
        {
            "cardholder_prompt_data": None,
            "purchase_type": "fuel_purchase",
            "reported_breakdown": {
                "fuel": {"gross_amount_decimal": "9"},
                "non_fuel": None,
                "tax": {"local_amount_decimal": "1", "national_amount_decimal": None},
            },
            "service_type": None,
        },
    ),
    (
        "a transaction's fuel is never without type, unit and unit cost",
        d.TRANSACTION_FUEL,
        {"quantity_decimal": "2"},
        None,
        {
            **NULL_FUEL,
            "quantity_decimal": "2",
            "type": "other",
            "unit": "other",
            "unit_cost_decimal": "0",
        },
    ),
]


@pytest.mark.parametrize(
    ("template", "given", "base", "expected"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_shape(template, given, base, expected):
    assert d.shape(template, given, base) == expected


RECEIPTS: list[tuple[str, Any, Any]] = [
    ("a decimal quantity is a number", "1.5", 1.5),
    ("a whole quantity is an integer", "2", 2),
    ("a whole quantity written with decimals", "2.000", 2),
    ("no quantity", None, None),
]


@pytest.mark.parametrize(
    ("given", "expected"), [r[1:] for r in RECEIPTS], ids=[r[0] for r in RECEIPTS]
)
def test_receipt_quantity_is_a_json_number(given, expected):
    line = {"description": "Coffee"} if given is None else {"quantity": given}
    record = {"id": "ipi_1", "purchase_details": d.shape(d.PURCHASE_DETAILS, {"receipt": [line]})}
    shaped = issuing_money.transaction(record, View())["purchase_details"]
    assert shaped["receipt"][0]["quantity"] == expected
    assert type(shaped["receipt"][0]["quantity"]) is type(expected)


def test_purchase_details_lists_and_the_parts_not_sent():
    shaped = d.shape(d.PURCHASE_DETAILS, {"flight": {"segments": [{"carrier": "UA"}]}})
    assert shaped["fleet"] is None and shaped["receipt"] is None and shaped["reference"] is None
    assert shaped["flight"]["segments"] == [
        {
            "arrival_airport_code": None,
            "carrier": "UA",
            "departure_airport_code": None,
            "flight_number": None,
            "service_class": None,
            "stopover_allowed": None,
        }
    ]
    assert shaped["flight"]["refundable"] is None


# Each template against the SDK class it stands for: the same fields, and a shape built
# from one key passes the shape checker.
AUTH, PURCHASE = stripe.issuing.Authorization, stripe.issuing.Transaction.PurchaseDetails
TEMPLATES = [
    ("amount_details", d.AMOUNT_DETAILS, AUTH.AmountDetails, {"atm_fee": 1}),
    ("authorization fleet", d.AUTHORIZATION_FLEET, AUTH.Fleet, {"service_type": "self_service"}),
    ("authorization fuel", d.AUTHORIZATION_FUEL, AUTH.Fuel, {"unit": "liter"}),
    ("pending_request amount_details", d.AMOUNT_DETAILS, AUTH.PendingRequest.AmountDetails, {}),
    ("request_history amount_details", d.AMOUNT_DETAILS, AUTH.RequestHistory.AmountDetails, {}),
    ("purchase_details", d.PURCHASE_DETAILS, PURCHASE, {"reference": "r"}),
    (
        "transaction fleet",
        d.PURCHASE_DETAILS["fleet"],
        PURCHASE.Fleet,
        {"purchase_type": "fuel_purchase"},
    ),
    ("transaction fuel", d.TRANSACTION_FUEL, PURCHASE.Fuel, {"type": "diesel"}),
    ("flight", d.PURCHASE_DETAILS["flight"], PURCHASE.Flight, {"segments": [{"carrier": "UA"}]}),
    ("lodging", d.PURCHASE_DETAILS["lodging"], PURCHASE.Lodging, {"nights": 1}),
]


@pytest.mark.parametrize(
    ("template", "cls", "given"), [t[1:] for t in TEMPLATES], ids=[t[0] for t in TEMPLATES]
)
def test_templates_are_the_sdk_classes(template, cls, given):
    assert set(template) == set(shapes.fields_of(cls))
    assert shapes.check_as(cls, d.shape(template, given or {"x": None}), "x") == []
