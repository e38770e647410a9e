"""The Stripe balance and its Issuing part, top-ups, balance transactions (pure; no I/O).

An account's Stripe balance has a ``payments`` part (``available``) and an ``issuing`` part
(``issuing.available``); cards without a Treasury financial account spend from the latter.
Every number is derived from the ledger (``services.issuing_balance``); these rules only
decide what a top-up may become, and what a balance transaction says about a movement.

Top-ups, in test mode:

* created ``pending``, as Stripe answers; they settle lazily (``services.due``) once the
  sandbox's clock reaches ``expected_availability_date``, which test mode sets to the
  creation time: the account's next request sees the top-up ``succeeded`` (or ``failed``),
  the money available and ``topup.succeeded`` + ``balance.available`` (``topup.failed``)
  sent. So a test purchase right after a top-up is covered, as Stripe's testing guide expects.
* ``source`` may name one of Stripe's Connect testing bank tokens: ``btok_us_verified``
  succeeds, ``btok_us_verified_noAccount`` / ``_accountClosed`` / ``_insufficientFunds`` /
  ``_debitNotAuthorized`` / ``_invalidCurrency`` fail with the matching ``failure_code``.
* only a ``pending`` top-up can be canceled (``topup.canceled``); nothing moved, nothing moves.
"""

from __future__ import annotations

import hashlib
from typing import Any

from openissuing.domain.connect import external_accounts
from openissuing.domain.errors import InvalidRequest, InvalidStatusTransition

Record = dict[str, Any]

PENDING, SUCCEEDED, FAILED, CANCELED = "pending", "succeeded", "failed", "canceled"

ISSUING, PAYMENTS = "issuing", "payments"
DESTINATIONS = (ISSUING, PAYMENTS)

# What a top-up from one of Stripe's Connect testing bank tokens ends in: the token names a test
# account number (``external_accounts.BANK_TOKENS``) whose failure code is Stripe's
# (``external_accounts.TEST_ACCOUNT_NUMBERS``); the top-up's message for each code.
FAILURE_MESSAGES: dict[str, str] = {
    "no_account": "The bank account details on file are probably incorrect. No bank account "
    "could be located with those details.",
    "account_closed": "The bank account has been closed.",
    "insufficient_funds": "The bank account has insufficient funds to cover the top-up.",
    "debit_not_authorized": "The debit was not authorized by the account holder.",
    "invalid_currency": "The bank account does not support this currency.",
}

# balance_transaction.type -> reporting_category (Stripe's reporting categories).
REPORTING_CATEGORIES = {
    "issuing_authorization_hold": "issuing_authorization_hold",
    "issuing_authorization_release": "issuing_authorization_release",
    "issuing_transaction": "issuing_transaction",
    "issuing_dispute": "issuing_dispute",
    "topup": "topup",
}

# The currencies a Stripe balance is kept in here (cards are issued in usd; EU and UK Issuing
# balances are funded by bank transfer in eur and gbp).
CURRENCIES = ("usd", "eur", "gbp")

# Funding instructions: bank_transfer[type] -> the currency it receives.
BANK_TRANSFER_CURRENCY = {"eu_bank_transfer": "eur", "gb_bank_transfer": "gbp"}


def destination(params: Record) -> str:
    value = params.get("destination_balance") or PAYMENTS
    if value not in DESTINATIONS:
        raise InvalidRequest(
            "Invalid destination_balance: must be one of issuing or payments",
            param="destination_balance",
        )
    return value


def currency(value: str, param: str = "currency") -> str:
    code = value.lower()
    if code not in CURRENCIES:
        raise InvalidRequest(
            f"Invalid currency: {value}. Balances here are kept in {', '.join(CURRENCIES)}.",
            param=param,
        )
    return code


def new_topup(topup_id: str, params: Record, now: int, metadata: dict[str, str]) -> Record:
    source = params.get("source") or None
    return {
        "id": topup_id,
        "object": "topup",
        "amount": params["amount"],
        "balance_transaction": None,
        "created": now,
        "currency": currency(params["currency"]),
        "description": params.get("description") or None,
        "expected_availability_date": now,
        "failure_code": None,
        "failure_message": None,
        "initiated_by": "user",
        "livemode": False,
        "metadata": metadata,
        "payment_method": None,
        "payment_method_options": None,
        "source": None if source is None else _source(source, now),
        "statement_descriptor": params.get("statement_descriptor") or None,
        "status": PENDING,
        "transfer_group": params.get("transfer_group") or None,
        "_destination_balance": destination(params),
        "_source": source,
    }


# Every field of Stripe's (deprecated) source object; its per-type details stay null here.
_SOURCE_FIELDS = (
    "ach_credit_transfer ach_debit acss_debit alipay allow_redisplay amount au_becs_debit "
    "bancontact card card_present code_verification customer eps giropay ideal klarna metadata "
    "multibanco owner p24 receiver redirect sepa_credit_transfer sepa_debit sofort source_order "
    "statement_descriptor three_d_secure wechat"
).split()


def _source(token: str, now: int) -> Record:
    """The (deprecated) ``source`` object of a top-up paid from a test bank token."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    return {
        **dict.fromkeys(_SOURCE_FIELDS),
        "id": "src_" + digest[:24],
        "object": "source",
        "client_secret": f"src_client_secret_{digest[24:48]}",
        "created": now,
        "currency": "usd",
        "flow": "none",
        "livemode": False,
        "status": "chargeable",
        "type": "ach_debit",
        "usage": "reusable",
    }


def is_due(topup: Record, now: int) -> bool:
    return bool(topup["status"] == PENDING and topup["expected_availability_date"] <= now)


def outcome(topup: Record) -> tuple[str, str | None, str | None]:
    """(status, failure_code, failure_message) when a pending top-up settles."""
    number = external_accounts.BANK_TOKENS.get(topup.get("_source") or "")
    code = external_accounts.TEST_ACCOUNT_NUMBERS.get(number) if number else None
    if code is None:
        return SUCCEEDED, None, None
    return FAILED, code, FAILURE_MESSAGES[code]


def require_cancelable(topup: Record) -> None:
    if topup["status"] != PENDING:
        raise InvalidStatusTransition(
            f"This top-up cannot be canceled because its status is {topup['status']}; only "
            "pending top-ups can be canceled.",
            param="topup",
        )


def balance_transaction(
    bt_id: str,
    owner_balance: str,
    kind: str,
    amount: int,
    currency: str,
    source: str,
    description: str | None,
    now: int,
) -> Record:
    """A balance transaction of ``amount`` (signed: + into the balance) on ``owner_balance``."""
    return {
        "id": bt_id,
        "object": "balance_transaction",
        "amount": amount,
        "available_on": now,
        "balance_type": owner_balance,
        "created": now,
        "currency": currency,
        "description": description,
        "exchange_rate": None,
        "fee": 0,
        "fee_details": [],
        "net": amount,
        "reporting_category": REPORTING_CATEGORIES[kind],
        "source": source,
        "status": "available",
        "type": kind,
    }


def bt_keys(record: Record) -> dict[str, str]:
    return {"type": record["type"], "source": record["source"], "currency": record["currency"]}


# A financial address names every kind of address, null but its own.
_NO_OTHER_ADDRESS = {"aba": None, "spei": None, "swift": None, "zengin": None}


def funding_instructions(account: str, bank_transfer_type: str, currency: str) -> Record:
    """Test-mode instructions: an address derived from the account, the same on every call."""
    expected = BANK_TRANSFER_CURRENCY[bank_transfer_type]
    if currency != expected:
        raise InvalidRequest(
            f"{bank_transfer_type} funding instructions are only available in {expected.upper()}.",
            param="currency",
        )
    digits = str(int(hashlib.sha256(account.encode()).hexdigest(), 16))
    holder = {
        "city": None,
        "country": None,
        "line1": None,
        "line2": None,
        "postal_code": None,
        "state": None,
    }
    if bank_transfer_type == "eu_bank_transfer":
        country = "DE"
        address = {
            "iban": {
                "account_holder_address": holder,
                "account_holder_name": "Stripe Technology Europe Limited",
                "bank_address": holder,
                "bic": "SXPYDEHH",
                "country": "DE",
                "iban": f"DE00{digits[:18]}",
            },
            "sort_code": None,
            "supported_networks": ["sepa"],
            "type": "iban",
            **_NO_OTHER_ADDRESS,
        }
    else:
        country = "GB"
        address = {
            "iban": None,
            "sort_code": {
                "account_holder_address": holder,
                "account_holder_name": "Stripe Payments UK Limited",
                "account_number": digits[:8],
                "bank_address": holder,
                "sort_code": "040000",
            },
            "supported_networks": ["bacs", "fps"],
            "type": "sort_code",
            **_NO_OTHER_ADDRESS,
        }
    return {
        "object": "funding_instructions",
        "bank_transfer": {
            "country": country,
            "financial_addresses": [address],
            "type": bank_transfer_type,
        },
        "currency": currency,
        "funding_type": "bank_transfer",
        "livemode": False,
    }


def bank_transfer_type_for(currency: str) -> str:
    for kind, known in BANK_TRANSFER_CURRENCY.items():
        if known == currency:
            return kind
    raise InvalidRequest(
        "Issuing balances can only be funded by bank transfer in EUR or GBP.", param="currency"
    )
