"""The full shape of the purchase details a merchant sends (pure).

A request may send only some keys of a sub-hash (``fuel[type]=diesel``, ``amount_details
[cashback_amount]=500``); Stripe's objects always carry every field of it, ``null`` where
unset, each as its declared type. These templates are those shapes, as the ``stripe`` SDK
declares them (``issuing.Authorization.AmountDetails``, ``.Fleet``, ``.Fuel``;
``issuing.Transaction.PurchaseDetails`` and its ``Fleet``, ``Flight``, ``Fuel``, ``Lodging``,
``Receipt``), and ``shape`` builds one from what was sent:

* a sub-hash that was not sent is ``null``; one that was is complete, its unsent fields
  ``null`` (or the template's default, for the few fields the SDK declares never null);
* each value is coerced to its declared type: integers stay ``int``, decimals become
  canonical decimal strings (``"10.50"`` stays exact, ``".5"`` reads ``"0.5"``), a receipt's
  ``quantity`` (a decimal in the request) is kept exact too and rendered as the JSON number the
  SDK declares by ``wire.issuing_money``, ``""`` (unset) is ``null``;
* ``base``: the shape already stored, which a later request's keys update
  (``finalize_amount`` sends the fleet and fuel data measured at the pump; what it does not
  send keeps its earlier value).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

Record = dict[str, Any]


class Kind:
    """A leaf's declared type, and what it is when nothing was sent."""

    def __init__(self, name: str, default: Any = None) -> None:
        self.name = name
        self.default = default

    def __call__(self, default: Any) -> Kind:
        return Kind(self.name, default)

    def coerce(self, value: Any) -> Any:
        if value is None or value == "":
            return self.default
        if self.name == "int":
            return int(value)
        if self.name == "bool":
            return value if isinstance(value, bool) else str(value).lower() == "true"
        if self.name in ("decimal", "number"):
            # Exact here; a ``number`` becomes a JSON number only on the wire
            # (``wire.issuing_money``), never a float in the domain.
            return format(Decimal(str(value)), "f")
        return str(value)


INT, STR, BOOL, DECIMAL, NUMBER = (Kind(n) for n in ("int", "str", "bool", "decimal", "number"))


class ListOf:
    """A list of sub-hashes of one template."""

    def __init__(self, template: Record) -> None:
        self.template = template


AMOUNT_DETAILS: Record = {"atm_fee": INT, "cashback_amount": INT}

_PROMPT: Record = {
    "driver_id": STR,
    "odometer": INT,
    "unspecified_id": STR,
    "user_id": STR,
    "vehicle_number": STR,
}
_BREAKDOWN: Record = {
    "fuel": {"gross_amount_decimal": DECIMAL},
    "non_fuel": {"gross_amount_decimal": DECIMAL},
    "tax": {"local_amount_decimal": DECIMAL, "national_amount_decimal": DECIMAL},
}
# The authorization's prompt data also has the deprecated alphanumeric_id (never sent now).
AUTHORIZATION_FLEET: Record = {
    "cardholder_prompt_data": {"alphanumeric_id": STR, **_PROMPT},
    "purchase_type": STR,
    "reported_breakdown": _BREAKDOWN,
    "service_type": STR,
}
AUTHORIZATION_FUEL: Record = {
    "industry_product_code": STR,
    "quantity_decimal": DECIMAL,
    "type": STR,
    "unit": STR,
    "unit_cost_decimal": DECIMAL,
}
# A transaction's fuel declares type, unit and unit cost never null: when the merchant did
# not say, "other", "other" and "0" (Stripe does not document a default; we chose these).
TRANSACTION_FUEL: Record = {
    **AUTHORIZATION_FUEL,
    "type": STR("other"),
    "unit": STR("other"),
    "unit_cost_decimal": DECIMAL("0"),
}
PURCHASE_DETAILS: Record = {
    "fleet": {
        "cardholder_prompt_data": _PROMPT,
        "purchase_type": STR,
        "reported_breakdown": _BREAKDOWN,
        "service_type": STR,
    },
    "flight": {
        "departure_at": INT,
        "passenger_name": STR,
        "refundable": BOOL,
        "segments": ListOf(
            {
                "arrival_airport_code": STR,
                "carrier": STR,
                "departure_airport_code": STR,
                "flight_number": STR,
                "service_class": STR,
                "stopover_allowed": BOOL,
            }
        ),
        "travel_agency": STR,
    },
    "fuel": TRANSACTION_FUEL,
    "lodging": {"check_in_at": INT, "nights": INT},
    "receipt": ListOf({"description": STR, "quantity": NUMBER, "total": INT, "unit_cost": INT}),
    "reference": STR,
}


def shape(template: Record, given: Any, base: Record | None = None) -> Record | None:
    """The complete sub-hash for what was sent, over ``base`` (what is stored already).

    ``None`` when nothing was sent and nothing is stored; ``""`` (Stripe's "unset") clears."""
    if given == "":
        return None
    if not isinstance(given, dict):
        given = None
    if given is None and base is None:
        return None
    given, base = given or {}, base or {}
    return {
        field: _value(kind, given.get(field), base.get(field), field in given)
        for field, kind in template.items()
    }


def _value(kind: Any, given: Any, stored: Any, sent: bool) -> Any:
    if isinstance(kind, dict):
        return shape(kind, given, stored) if sent else stored
    if isinstance(kind, ListOf):
        if not sent:
            return stored
        return [shape(kind.template, item) for item in given] if isinstance(given, list) else None
    return kind.coerce(given if sent else stored)
