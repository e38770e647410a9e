"""External accounts of a connected account (where its payouts go): bank accounts and debit
cards. Pure rules: what a token or a hash of details becomes, defaults, and what may be deleted.

Test mode only, as on Stripe's test keys: a US bank account must use Stripe's test routing
number and one of its test account numbers (any other number is refused, as Stripe refuses real
numbers with a test key), or a ``btok_us_verified*`` token standing for one. Every one of them
attaches; what differs is what a payout to it does, kept privately as ``_failure_code`` for the
flows that pay out (Treasury outbound transfers and payments):

==================  =====================================  =================================
account number      token                                  a payout to it
==================  =====================================  =================================
``000123456789``    ``btok_us_verified``                   succeeds
``000111111116``    ``btok_us_verified_noAccount``         fails: ``no_account``
``000111111113``    ``btok_us_verified_accountClosed``     fails: ``account_closed``
``000222222227``    ``btok_us_verified_insufficientFunds`` fails: ``insufficient_funds``
``000333333335``    ``btok_us_verified_debitNotAuthorized`` fails: ``debit_not_authorized``
``000444444440``    ``btok_us_verified_invalidCurrency``   fails: ``invalid_currency``
``000888888883``    .                                      succeeds; no instant payouts
``000999999991/2``  .                                      succeeds (ownership verification)
==================  =====================================  =================================

Account numbers are secrets: the record keeps only ``last4`` (and the failure code the number
stands for), never the number. Debit cards come from Stripe's debit test tokens
(``tok_visa_debit``, ``tok_visa_debit_us_transferSuccess``…) or their numbers; a credit card is
refused (``invalid_card_type``), as Stripe pays out only to debit cards.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from openissuing.domain import metadata
from openissuing.domain.errors import InvalidRequest, ResourceMissing

Record = dict[str, Any]

TEST_ROUTING_NUMBER = "110000000"
TEST_BANK_NAME = "STRIPE TEST BANK"
# Test account number → the failure code of a payout to it (None: it succeeds).
TEST_ACCOUNT_NUMBERS: dict[str, str | None] = {
    "000123456789": None,
    "000111111116": "no_account",
    "000111111113": "account_closed",
    "000222222227": "insufficient_funds",
    "000333333335": "debit_not_authorized",
    "000444444440": "invalid_currency",
    "000888888883": None,
    "000999999991": None,
    "000999999992": None,
}
NO_INSTANT = {"000888888883", "4000056755665555"}
BANK_TOKENS: dict[str, str] = {
    "btok_us_verified": "000123456789",
    "btok_us_verified_noAccount": "000111111116",
    "btok_us_verified_accountClosed": "000111111113",
    "btok_us_verified_insufficientFunds": "000222222227",
    "btok_us_verified_debitNotAuthorized": "000333333335",
    "btok_us_verified_invalidCurrency": "000444444440",
}


@dataclass(frozen=True)
class TestCard:
    brand: str
    funding: str
    failure_code: str | None = None


# Stripe's US test cards usable as payout destinations (debit), and credit ones for refusals.
TEST_CARDS: dict[str, TestCard] = {
    "4000056655665556": TestCard("Visa", "debit"),
    "4000056655665572": TestCard("Visa", "debit", "could_not_process"),
    "4000056755665555": TestCard("Visa", "debit"),
    "5200828282828210": TestCard("MasterCard", "debit"),
    "6011981111111113": TestCard("Discover", "debit"),
    "4242424242424242": TestCard("Visa", "credit"),
    "5555555555554444": TestCard("MasterCard", "credit"),
}
CARD_TOKENS: dict[str, str] = {
    "tok_visa_debit": "4000056655665556",
    "tok_visa_debit_us_transferSuccess": "4000056655665556",
    "tok_visa_debit_us_transferFail": "4000056655665572",
    "tok_visa_debit_us_instantPayoutUnsupported": "4000056755665555",
    "tok_mastercard_debit": "5200828282828210",
    "tok_mastercard_debit_us_transferSuccess": "5200828282828210",
    "tok_discover_debit_us_transferSuccess": "6011981111111113",
    "tok_visa": "4242424242424242",
    "tok_mastercard": "5555555555554444",
}
TOKEN_EXPIRY_YEARS = 3  # a test token's card expires in December, this many years on


def _requirements() -> Record:
    return {"currently_due": [], "errors": [], "past_due": [], "pending_verification": []}


def _payout_methods(number: str) -> list[str]:
    return ["standard"] if number in NO_INSTANT else ["standard", "instant"]


def bank_account(
    object_id: str, account_id: str, now: int, details: dict[str, Any], holder_name: str | None
) -> Record:
    """A ``bank_account`` from a token or a hash (checked here; the number is not kept)."""
    number, routing, country, currency = _bank_details(details)
    return {
        "id": object_id,
        "object": "bank_account",
        "account": account_id,
        "account_holder_name": details.get("account_holder_name") or holder_name,
        "account_holder_type": details.get("account_holder_type"),
        "account_type": None,
        "available_payout_methods": _payout_methods(number),
        "bank_name": TEST_BANK_NAME,
        "country": country,
        "created": now,
        "currency": currency,
        "customer": None,
        "default_for_currency": False,
        "fingerprint": None,
        "future_requirements": _requirements(),
        "last4": number[-4:],
        "metadata": {},
        "requirements": _requirements(),
        "routing_number": routing,
        "status": "new",
        "_failure_code": TEST_ACCOUNT_NUMBERS[number],
    }


def _bank_details(details: dict[str, Any]) -> tuple[str, str, str, str]:
    if "token" in details:
        number = BANK_TOKENS.get(details["token"])
        if number is None:
            raise ResourceMissing("token", details["token"], param="external_account")
        return number, TEST_ROUTING_NUMBER, "US", "usd"
    country = str(details.get("country") or "").upper()
    if country != "US":
        raise InvalidRequest(
            "Only US bank accounts can be attached on this server (country `US`).",
            param="external_account[country]",
        )
    currency = str(details.get("currency") or "usd").lower()
    if currency != "usd":
        raise InvalidRequest(
            f"Currency {currency} is not supported for bank accounts in US; use usd.",
            code="invalid_currency",
            param="external_account[currency]",
        )
    routing = str(details.get("routing_number") or "")
    if not valid_routing_number(routing):
        raise InvalidRequest(
            "The bank routing number provided is invalid.",
            code="routing_number_invalid",
            param="external_account[routing_number]",
        )
    number = str(details["account_number"])
    if not (number.isdigit() and 4 <= len(number) <= 17):
        raise InvalidRequest(
            "The bank account number provided is invalid (e.g., missing digits).",
            code="account_number_invalid",
            param="external_account[account_number]",
        )
    if routing != TEST_ROUTING_NUMBER or number not in TEST_ACCOUNT_NUMBERS:
        raise InvalidRequest(
            "You must use a test bank account number in test mode. Try routing number "
            f"{TEST_ROUTING_NUMBER} with account number 000123456789 or see more options at "
            "https://stripe.com/docs/connect/testing.",
            param="external_account[account_number]",
        )
    return number, routing, country, currency


def valid_routing_number(routing: str) -> bool:
    """An ABA routing number: nine digits whose weighted sum (3, 7, 1…) is a multiple of 10."""
    if len(routing) != 9 or not routing.isdigit():
        return False
    digits = [int(c) for c in routing]
    weights = [3, 7, 1] * 3
    return sum(d * w for d, w in zip(digits, weights, strict=True)) % 10 == 0


def card(object_id: str, account_id: str, now: int, details: dict[str, Any]) -> Record:
    """A debit ``card`` from a test token or a test card number."""
    if "token" in details:
        number = CARD_TOKENS.get(details["token"])
        if number is None:
            raise ResourceMissing("token", details["token"], param="external_account")
        exp_month, exp_year = 12, _token_expiry(now)
    else:
        number = str(details["number"]).replace(" ", "")
        exp_month, exp_year = details["exp_month"], details["exp_year"]
        if not (1 <= exp_month <= 12) or exp_year < 2000:
            raise InvalidRequest(
                "Your card's expiration date is invalid.",
                code="invalid_expiry_month",
                param="external_account[exp_month]",
            )
    test = TEST_CARDS.get(number)
    if test is None:
        raise InvalidRequest(
            "Your card number is incorrect; use one of Stripe's test debit cards, such as "
            "4000056655665556.",
            code="incorrect_number",
            param="external_account[number]",
        )
    if test.funding != "debit":
        raise InvalidRequest(
            "The card provided as an external account is not supported for payouts. Provide a "
            "non-prepaid debit card instead.",
            code="invalid_card_type",
            param="external_account",
        )
    fields = ("city", "country", "line1", "line2", "state", "zip")
    return {
        "id": object_id,
        "object": "card",
        "account": account_id,
        **{f"address_{field}": details.get(f"address_{field}") for field in fields},
        "address_line1_check": None,
        "address_zip_check": None,
        "allow_redisplay": None,
        "available_payout_methods": _payout_methods(number),
        "brand": test.brand,
        "country": "US",
        "created": now,
        "currency": str(details.get("currency") or "usd").lower(),
        "customer": None,
        "cvc_check": None,
        "default_for_currency": False,
        "description": None,
        "dynamic_last4": None,
        "exp_month": exp_month,
        "exp_year": exp_year,
        "fingerprint": None,
        "funding": test.funding,
        "iin": None,
        "issuer": None,
        "last4": number[-4:],
        "metadata": {},
        "name": details.get("name"),
        "networks": {"preferred": None},
        "regulated_status": "unregulated",
        "status": None,
        "tokenization_method": None,
        "_failure_code": test.failure_code,
    }


def _token_expiry(now: int) -> int:
    seconds_per_year = 31_556_952
    return 1970 + now // seconds_per_year + TOKEN_EXPIRY_YEARS


def parse(value: Any) -> tuple[str, dict[str, Any]]:
    """(object type, details) of the ``external_account`` param: a token or a hash."""
    if isinstance(value, str):
        if value.startswith("btok_"):
            return "bank_account", {"token": value}
        if value.startswith("tok_"):
            return "card", {"token": value}
        raise ResourceMissing("token", value, param="external_account")
    if value.get("object") == "card":
        return "card", dict(value)
    return "bank_account", dict(value)


# Fields an update may change, by object type (the rest of the params are accepted, not kept).
UPDATABLE: dict[str, tuple[str, ...]] = {
    "bank_account": ("account_holder_name", "account_holder_type", "account_type"),
    "card": (
        "address_city",
        "address_country",
        "address_line1",
        "address_line2",
        "address_state",
        "address_zip",
        "name",
    ),
}


def update(record: Record, params: dict[str, Any]) -> Record:
    out = copy.deepcopy(record)
    for field in UPDATABLE[out["object"]]:
        if field in params:
            out[field] = params[field] or None
    if out["object"] == "card":
        for field in ("exp_month", "exp_year"):
            if params.get(field) not in (None, ""):
                out[field] = _int(params[field], field)
    out["metadata"] = metadata.apply(out["metadata"], params.get("metadata"))
    return out


def _int(value: Any, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidRequest(f"Invalid integer: {value}", param=param) from None


def check_not_unset_default(record: Record, params: dict[str, Any]) -> None:
    if params.get("default_for_currency") is False and record["default_for_currency"]:
        raise InvalidRequest(
            "You cannot unset the default external account for a currency; make another "
            "external account the default for it instead.",
            param="default_for_currency",
        )


def check_deletable(record: Record, same_currency: int, default_currency: str) -> None:
    """Stripe's rule: the default for a currency goes only if it is that currency's last
    external account, and the currency is not the account's default currency."""
    if not record["default_for_currency"]:
        return
    if same_currency > 1:
        raise InvalidRequest(
            "You cannot delete the default external account for a currency. Please make another "
            "external account the default using the `default_for_currency` param, and then "
            "delete this one.",
            param="id",
        )
    if record["currency"] == default_currency:
        raise InvalidRequest(
            "You cannot delete the default external account for your default currency. Please "
            "make another external account the default using the `default_for_currency` param, "
            "and then delete this one.",
            param="id",
        )


def filter_keys(record: Record) -> dict[str, str | None]:
    return {
        "currency": record["currency"],
        "default": "true" if record["default_for_currency"] else "false",
    }


def public(record: Record) -> Record:
    return {key: value for key, value in record.items() if not key.startswith("_")}
