"""The shape checker itself (tests/shapes.py), on hand-made bodies: it passes good ones and
names the path of every way a bad one differs from the SDK's class."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import stripe

from tests import shapes


def capability(**changes: Any) -> dict:
    body = {
        "id": "card_issuing",
        "object": "capability",
        "account": "acct_1",
        "future_requirements": None,
        "requested": True,
        "requested_at": 1_700_000_000,
        "requirements": None,
        "status": "active",
    }
    body.update(changes)
    return body


def fuel(**changes: Any) -> dict:
    body = {
        "industry_product_code": None,
        "quantity_decimal": "10.5",
        "type": "diesel",
        "unit": "liter",
        "unit_cost_decimal": "312.5",
    }
    body.update(changes)
    return body


def balance(**cash: Any) -> dict:
    return {"cash": cash or {"usd": 10}, "inbound_pending": {"usd": 0}, "outbound_pending": {}}


def event(obj: dict, **changes: Any) -> dict:
    body = {
        "id": "evt_1",
        "object": "event",
        "account": None,
        "api_version": "2026-10-28.endive",
        "context": None,
        "created": 1,
        "data": {"object": obj, "previous_attributes": None},
        "livemode": False,
        "pending_webhooks": 0,
        "request": {"id": None, "idempotency_key": None},
        "type": "capability.updated",
    }
    body.update(changes)
    return body


def listed(*items: dict, **changes: Any) -> dict:
    body = {"object": "list", "data": list(items), "has_more": False, "url": "/v1/x"}
    body.update(changes)
    return body


def without(body: dict, field: str) -> dict:
    out = copy.deepcopy(body)
    del out[field]
    return out


AUTH = stripe.issuing.Authorization
GOOD: list[tuple[str, Any]] = [
    ("capability", capability()),
    ("expanded account is checked as an account, an id is fine", capability(account="acct_2")),
    ("deleted stub", {"id": "acct_1", "object": "account", "deleted": True}),
    (
        "deleted stub with a declared field",
        {"id": "ba_1", "object": "bank_account", "deleted": True, "currency": "usd"},
    ),
    ("list of objects", listed(capability(), capability(id="transfers"))),
    ("empty list", listed()),
    ("event with its object", event(capability())),
    ("error with only some fields", {"error": {"type": "api_error", "message": "boom"}}),
    (
        "an object Stripe.js names, with no SDK class",
        {"id": "ekn_1", "object": "ephemeral_key_nonce"},
    ),
    (
        "an ephemeral key with the associated objects Stripe sends",
        {
            "id": "ephkey_1",
            "object": "ephemeral_key",
            "associated_objects": [{"id": "ic_1", "type": "issuing.card"}],
            "created": 1,
            "expires": 2,
            "livemode": False,
            "secret": None,
        },
    ),
    (
        "error with param and code",
        {
            "error": {
                "type": "invalid_request_error",
                "message": "bad",
                "param": "amount",
                "code": "parameter_invalid_integer",
                "doc_url": "https://stripe.com/docs/error-codes/x",
                "request_log_url": None,
            }
        },
    ),
]


@pytest.mark.parametrize("body", [b for _, b in GOOD], ids=[n for n, _ in GOOD])
def test_good_bodies_pass(body):
    assert shapes.problems(body) == []


NESTED_GOOD: list[tuple[str, type, Any]] = [
    ("amount details", AUTH.AmountDetails, {"atm_fee": None, "cashback_amount": 5}),
    ("fuel with decimal strings", AUTH.Fuel, fuel()),
    ("fuel all null", AUTH.Fuel, {k: None for k in fuel()}),
    ("balance maps", stripe.treasury.FinancialAccount.Balance, balance(usd=5, eur=0)),
    ("float accepts an integer", stripe.Person.Relationship, None),
]


def relationship(**changes: Any) -> dict:
    body = {
        k: None
        for k in shapes.fields_of(stripe.Person.Relationship)
        if k not in ("authorizer", "director", "executive", "legal_guardian")
    }
    body.update(authorizer=None, director=None, executive=None, legal_guardian=None)
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("cls", "value"),
    [(c, v if v is not None else relationship(percent_ownership=25)) for _, c, v in NESTED_GOOD],
    ids=[n for n, _, _ in NESTED_GOOD],
)
def test_good_nested_values_pass(cls, value):
    assert shapes.check_as(cls, value, "x") == []


BAD: list[tuple[str, Any, str]] = [
    ("missing field", without(capability(), "requested_at"), "capability.requested_at: missing"),
    ("null not declared Optional", capability(requested=None), "capability.requested: null"),
    ("bool is not int", capability(requested_at=True), "capability.requested_at: expected int"),
    ("float is not int", capability(requested_at=1.5), "capability.requested_at: expected int"),
    ("string is not int", capability(requested_at="1"), "capability.requested_at: expected int"),
    ("int is not bool", capability(requested=1), "capability.requested: expected bool"),
    ("enum value outside the set", capability(status="enabled"), "capability.status: 'enabled'"),
    ("undeclared field", capability(_held=3), "capability._held: not declared"),
    (
        "wrong object where an account is expected",
        capability(account=capability()),
        "capability.account.object: expected 'account', got 'capability'",
    ),
    (
        "expanded object checked",
        capability(account={"id": "acct_1", "object": "account"}),
        "capability.account.business_profile: missing",
    ),
    (
        "list item checked",
        listed(capability(status=3)),
        "list.data[0].status: expected str, got int 3",
    ),
    ("list without has_more", without(listed(), "has_more"), "list.has_more: missing"),
    (
        "unknown object type",
        {"id": "x_1", "object": "issuing.settlement"},
        "issuing.settlement: the SDK has no class for object type 'issuing.settlement'",
    ),
    ("no object at all", {"id": "x"}, "body: a Stripe object names its type"),
    (
        "deleted stub with more",
        {"id": "acct_1", "object": "account", "deleted": True, "colour": None},
        "account.colour: not declared by the SDK",
    ),
    (
        "event's object checked by its type",
        event(without(capability(), "status")),
        "event.data.object.status: missing",
    ),
    ("event type outside the SDK's set", event(capability(), type="x.y"), "event.type: 'x.y'"),
    ("error without message", {"error": {"type": "api_error"}}, "error.message: missing"),
    (
        "error with an undeclared field",
        {"error": {"type": "api_error", "message": "m", "status": 500}},
        "error.status: not declared",
    ),
    (
        "error field of the wrong type",
        {"error": {"type": "api_error", "message": "m", "param": 3}},
        "error.param: expected str",
    ),
]


@pytest.mark.parametrize(
    ("body", "expected"), [(b, e) for _, b, e in BAD], ids=[n for n, *_ in BAD]
)
def test_bad_bodies_fail_naming_the_path(body, expected):
    found = shapes.problems(body)
    assert any(p.startswith(expected) for p in found), found


NESTED_BAD: list[tuple[str, type, Any, str]] = [
    ("nested missing", AUTH.AmountDetails, {"cashback_amount": 5}, "x.atm_fee: missing"),
    ("decimal as a number", AUTH.Fuel, fuel(quantity_decimal=10.5), "x.quantity_decimal: expected"),
    ("decimal not a number", AUTH.Fuel, fuel(unit_cost_decimal="abc"), "x.unit_cost_decimal:"),
    ("decimal not finite", AUTH.Fuel, fuel(unit_cost_decimal="NaN"), "x.unit_cost_decimal:"),
    ("nested enum", AUTH.Fuel, fuel(unit="gallon"), "x.unit: 'gallon' is not one of"),
    (
        "map value",
        stripe.treasury.FinancialAccount.Balance,
        balance(usd="10"),
        "x.cash['usd']: expected int",
    ),
    (
        "map not a map",
        stripe.treasury.FinancialAccount.Balance,
        {**balance(), "cash": []},
        "x.cash",
    ),
    (
        "list of strings",
        AUTH.Treasury,
        {"received_credits": [1], "received_debits": [], "transaction": None},
        "x.received_credits[0]: expected str",
    ),
    (
        "nested class in a list",
        AUTH,
        {
            "object": "issuing.authorization",
            "request_history": [{"amount_details": {"atm_fee": "1"}}],
        },
        "x.request_history[0].amount_details.atm_fee: expected int",
    ),
    (
        "bool is not a float",
        stripe.Person.Relationship,
        None,
        "x.percent_ownership: expected float",
    ),
]


@pytest.mark.parametrize(
    ("cls", "value", "expected"),
    [
        (c, v if v is not None else relationship(percent_ownership=True), e)
        for _, c, v, e in NESTED_BAD
    ],
    ids=[n for n, *_ in NESTED_BAD],
)
def test_bad_nested_values_fail_naming_the_path(cls, value, expected):
    found = shapes.check_as(cls, value, "x")
    assert any(p.startswith(expected) for p in found), found


CARD_FIELDS = shapes.fields_of(stripe.issuing.Card)


def test_an_id_field_holds_an_object_only_where_the_request_expanded_it():
    fa = {"id": "fa_1", "object": "treasury.financial_account"}
    card = {**{k: None for k in CARD_FIELDS}, "object": "issuing.card", "financial_account": fa}
    path = "issuing.card.financial_account"
    assert any(p.startswith(f"{path}: expected str") for p in shapes.problems(card))
    expanded = shapes.problems(card, frozenset({"financial_account"}))
    assert not any(p.startswith(f"{path}: expected str") for p in expanded)
    # …and then it is checked as the object it is
    assert f"{path}.balance: missing" in expanded
    # in a list, the request expands data.<field>
    listed_cards = listed(card)
    in_list = shapes.problems(listed_cards, frozenset({"data.financial_account"}))
    assert "list.data[0].financial_account.balance: missing" in in_list


ABSENT_WHERE_STRIPE_OMITS = [
    ("platform event without account", without(event(capability()), "account")),
    (
        "created event without previous_attributes",
        event(capability()) | {"data": {"object": capability()}},
    ),
    ("capabilities lists only the requested ones", None),
    (
        "error with our request_id",
        {"error": {"type": "api_error", "message": "m", "request_id": "req_1"}},
    ),
]


@pytest.mark.parametrize(
    "body", [b for _, b in ABSENT_WHERE_STRIPE_OMITS], ids=[n for n, _ in ABSENT_WHERE_STRIPE_OMITS]
)
def test_fields_stripe_sends_only_where_they_apply(body):
    if body is None:
        value = {"card_issuing": "active", "transfers": "inactive"}
        assert shapes.check_as(stripe.Account.Capabilities, value, "x") == []
        bad = shapes.check_as(
            stripe.Account.Capabilities, {"card_issuing": "on", "x": "active"}, "x"
        )
        assert bad == [
            "x.card_issuing: 'on' is not one of ['active', 'inactive', 'pending']",
            "x.x: not declared by the SDK (unexpected field)",
        ]
        return
    assert shapes.problems(body) == []


def test_assert_shape_raises_with_every_path():
    with pytest.raises(shapes.ShapeError) as raised:
        shapes.assert_shape(without(capability(status=1), "account"), "GET /v1/x")
    message = str(raised.value)
    assert "GET /v1/x" in message
    assert "capability.account: missing" in message
    assert "capability.status: expected str, got int 1" in message


def test_every_object_class_of_the_sdk_resolves():
    """Every annotation of every SDK class resolves (no forward reference left unknown), so
    a type another helper adds is checked, not skipped."""
    from stripe._object_classes import OBJECT_CLASSES

    for name in OBJECT_CLASSES:
        cls = shapes.class_for(name)
        if cls is not None:
            assert shapes.fields_of(cls), name
