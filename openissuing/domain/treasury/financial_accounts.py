"""Treasury financial accounts: building, updating and closing the record.

Pure functions over validated params and the owning account's capabilities;
no I/O. The balance is never part of the record: ``services.balances`` derives
it from the ledger every time it is shown.

Besides the wire fields, the record keeps private fields the serializer never
copies: ``_aba`` (the issued ABA account number, sealed, with its last four
digits and holder name) and ``_forwarding_settings`` (accepted and stored).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from openissuing.domain import metadata
from openissuing.domain.errors import InvalidRequest, ParameterInvalid
from openissuing.domain.treasury import features as feature_rules

Record = dict[str, Any]
SUPPORTED_CURRENCIES = ("usd",)
TEST_BANK_NAME = "Stripe Test Bank"
TEST_ROUTING_NUMBER = "101000091"
ABA_NETWORKS = ["ach", "us_domestic_wire"]


def supported_currencies(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ParameterInvalid(
            "supported_currencies must list at least one currency; Treasury financial accounts "
            "support: usd.",
            param="supported_currencies",
        )
    currencies: list[str] = []
    for currency in value:
        currency = str(currency).strip().lower()
        if currency not in SUPPORTED_CURRENCIES:
            raise ParameterInvalid(
                f"Unsupported currency `{currency}` in supported_currencies: Treasury financial "
                "accounts only support `usd`.",
                param="supported_currencies",
            )
        if currency not in currencies:
            currencies.append(currency)
    return currencies


def new(fa_id: str, now: int, params: Mapping[str, Any], *, is_default: bool) -> Record:
    """A fresh open record; its features are evaluated by ``with_features`` afterwards."""
    record: Record = {
        "id": fa_id,
        "object": "treasury.financial_account",
        "active_features": [],
        "country": "US",
        "created": now,
        "features": feature_rules.to_object({}),
        "financial_addresses": [],
        "is_default": is_default,
        "livemode": False,
        "metadata": {},
        "nickname": None,
        "pending_features": [],
        "platform_restrictions": {"inbound_flows": None, "outbound_flows": None},
        "restricted_features": [],
        "status": "open",
        "status_details": {"closed": None},
        "supported_currencies": supported_currencies(params.get("supported_currencies")),
        "_aba": None,
        "_forwarding_settings": None,
    }
    return update(record, params, creating=True)


def update(existing: Record, params: Mapping[str, Any], *, creating: bool = False) -> Record:
    """Apply nickname / metadata / platform_restrictions / forwarding_settings.

    Feature requests in ``params["features"]`` are applied by ``with_features``,
    which needs the account's capabilities.
    """
    if not creating:
        check_open(existing, "update")
    record = copy.deepcopy(existing)
    if "nickname" in params:
        record["nickname"] = params["nickname"] or None
    record["metadata"] = metadata.apply(record["metadata"], params.get("metadata"))
    if params.get("platform_restrictions"):
        for flag in ("inbound_flows", "outbound_flows"):
            if flag in params["platform_restrictions"]:
                record["platform_restrictions"][flag] = (
                    params["platform_restrictions"][flag] or None
                )
    if params.get("forwarding_settings"):
        record["_forwarding_settings"] = dict(params["forwarding_settings"])
    return record


def requested_features(record: Record) -> list[str]:
    return list(feature_rules.from_object(record["features"]))


def with_features(
    existing: Record,
    capabilities: Mapping[str, Any],
    requests: Mapping[str, bool] | None = None,
) -> Record:
    """Re-evaluate every requested feature (after applying ``requests``) and mirror the statuses."""
    record = copy.deepcopy(existing)
    requested = feature_rules.requested_after(requested_features(record), requests or {})
    flat = feature_rules.evaluate_all(
        requested,
        capabilities,
        record["platform_restrictions"],
        closed=record["status"] == "closed",
    )
    record["features"] = feature_rules.to_object(flat)
    record.update(feature_rules.status_lists(flat))
    record["financial_addresses"] = _addresses(record)
    return record


def needs_aba_number(record: Record) -> bool:
    """True once the ABA feature is active and no account number was issued yet."""
    return "financial_addresses.aba" in record["active_features"] and not record.get("_aba")


def with_aba_number(existing: Record, sealed_number: str, last4: str, holder_name: str) -> Record:
    """Attach the issued account number (kept for the account's lifetime, even if the feature
    goes)."""
    record = copy.deepcopy(existing)
    record["_aba"] = {
        "account_number_sealed": sealed_number,
        "account_number_last4": last4,
        "account_holder_name": holder_name,
    }
    record["financial_addresses"] = _addresses(record)
    return record


def with_holder_name(existing: Record, holder_name: str) -> Record:
    if not existing.get("_aba") or existing["_aba"]["account_holder_name"] == holder_name:
        return existing
    record = copy.deepcopy(existing)
    record["_aba"]["account_holder_name"] = holder_name
    record["financial_addresses"] = _addresses(record)
    return record


def _addresses(record: Record) -> list[Record]:
    """The ABA address is shown while the feature is active; the full number only on request."""
    aba = record.get("_aba")
    if not aba or "financial_addresses.aba" not in record["active_features"]:
        return []
    return [
        {
            "aba": {
                "account_holder_name": aba["account_holder_name"],
                "account_number": None,
                "account_number_last4": aba["account_number_last4"],
                "bank_name": TEST_BANK_NAME,
                "routing_number": TEST_ROUTING_NUMBER,
            },
            "supported_networks": list(ABA_NETWORKS),
            "type": "aba",
        }
    ]


def account_holder_name(account: Mapping[str, Any] | None) -> str:
    """The legal name Stripe prints on the ABA address, from what the account has told us."""
    account = account or {}
    for section in ("business_profile", "company"):
        name = (account.get(section) or {}).get("name")
        if name:
            return str(name)
    individual = account.get("individual") or {}
    full = " ".join(p for p in (individual.get("first_name"), individual.get("last_name")) if p)
    return str(full or account.get("email") or account.get("id") or "Account holder")


def features_changed(before: Record, after: Record) -> bool:
    return bool(before["features"] != after["features"])


def check_open(record: Record, action: str) -> None:
    if record["status"] == "closed":
        raise InvalidRequest(
            f"You cannot {action} financial account {record['id']} because it is closed.",
            param="financial_account",
        )


def check_can_close(
    record: Record, balance: Mapping[str, Mapping[str, int]], open_cards: list[str]
) -> None:
    """Stripe closes only an empty financial account with no live cards attached."""
    check_open(record, "close")
    for kind, by_currency in balance.items():
        for currency, amount in by_currency.items():
            if amount != 0:
                raise InvalidRequest(
                    f"Financial account {record['id']} cannot be closed: its {kind} balance is "
                    f"{amount} {currency}, and only a financial account with a zero balance can "
                    "be closed."
                )
    if open_cards:
        raise InvalidRequest(
            f"Financial account {record['id']} cannot be closed while cards attached to it are not "
            f"canceled ({', '.join(open_cards[:5])}). Cancel them first."
        )


def close(
    existing: Record,
    capabilities: Mapping[str, Any],
    reason: str,
    params: Mapping[str, Any] | None = None,
) -> Record:
    record = copy.deepcopy(existing)
    record["status"] = "closed"
    record["status_details"] = {"closed": {"reasons": [reason]}}
    if params and params.get("forwarding_settings"):
        record["_forwarding_settings"] = dict(params["forwarding_settings"])
    return with_features(record, capabilities)


def card_issuing_usable(fa_record: Mapping[str, Any]) -> bool:
    """Cards may be attached to and spend from this financial account."""
    return fa_record.get("status") == "open" and "card_issuing" in (
        fa_record.get("active_features") or []
    )


def filter_keys(record: Record) -> dict[str, str | None]:
    return {"status": record["status"]}


def account_rejected(account: Mapping[str, Any] | None) -> bool:
    """Stripe closes the financial accounts of a rejected connected account (reason
    account_rejected)."""
    reason = ((account or {}).get("requirements") or {}).get("disabled_reason") or ""
    return reason.startswith("rejected")
