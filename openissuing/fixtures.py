"""Ready-made request parameters: what the demo, trigger and seed commands (and the tests) send.

``ONBOARDED_ACCOUNT_PARAMS`` requests ``card_issuing``, ``transfers`` and ``treasury`` on a
platform-controlled ("custom") individual account and provides everything those capabilities
require (see ``openissuing.domain.connect.capabilities``), so all three are ``active`` at once.
``CARDHOLDER_PARAMS`` is an individual cardholder with what Stripe requires before its cards'
purchases are approved (name, billing address, first and last name).
"""

from __future__ import annotations

import copy
from typing import Any

TOS_ACCEPTANCE = {"date": 1_700_000_000, "ip": "203.0.113.7"}

ONBOARDED_ACCOUNT_PARAMS: dict[str, Any] = {
    "country": "US",
    "email": "jenny.rosen@example.com",
    "controller": {
        "fees": {"payer": "application"},
        "losses": {"payments": "application"},
        "requirement_collection": "application",
        "stripe_dashboard": {"type": "none"},
    },
    "capabilities": {
        "card_issuing": {"requested": True},
        "transfers": {"requested": True},
        "treasury": {"requested": True},
    },
    "business_type": "individual",
    "business_profile": {
        "mcc": "5734",
        "url": "https://example.com",
        "product_description": "Software for small businesses.",
    },
    "individual": {
        "first_name": "Jenny",
        "last_name": "Rosen",
        "email": "jenny.rosen@example.com",
        "phone": "+18008675309",
        "dob": {"day": 1, "month": 11, "year": 1981},
        "address": {
            "line1": "1 Main St",
            "city": "San Francisco",
            "state": "CA",
            "postal_code": "94111",
            "country": "US",
        },
        "ssn_last_4": "0000",
    },
    "tos_acceptance": dict(TOS_ACCEPTANCE),
    "settings": {
        "card_issuing": {"tos_acceptance": dict(TOS_ACCEPTANCE)},
        "treasury": {"tos_acceptance": dict(TOS_ACCEPTANCE)},
    },
}

ONBOARDED_CAPABILITIES = ("card_issuing", "transfers", "treasury")


ADDRESS: dict[str, str] = {
    "line1": "1 Main St",
    "city": "San Francisco",
    "state": "CA",
    "postal_code": "94111",
    "country": "US",
}

CARDHOLDER_PARAMS: dict[str, Any] = {
    "name": "Jenny Rosen",
    "email": "jenny.rosen@example.com",
    "phone_number": "+18008675309",
    "type": "individual",
    "individual": {"first_name": "Jenny", "last_name": "Rosen"},
    "billing": {"address": dict(ADDRESS)},
}


def onboarded_account_params(**overrides: Any) -> dict[str, Any]:
    """A fresh copy of ``ONBOARDED_ACCOUNT_PARAMS`` with top-level overrides."""
    params = copy.deepcopy(ONBOARDED_ACCOUNT_PARAMS)
    params.update(overrides)
    return params


def cardholder_params(**overrides: Any) -> dict[str, Any]:
    params = copy.deepcopy(CARDHOLDER_PARAMS)
    params.update(overrides)
    return params
