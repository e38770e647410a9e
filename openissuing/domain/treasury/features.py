"""Financial account features: which are requested, and what status each has.

A feature's status follows from three things only: the connected account's
capability statuses, the financial account's ``platform_restrictions`` and
whether the financial account is closed. Everything here is pure, so the same
rules serve creation, updates and the recomputation that runs whenever an
account's capabilities change.

Stripe's definitions (API reference, ``treasury.financial_account_features``):
``pending`` means the status will change *without user intervention*
(Stripe is verifying); ``restricted`` means someone has to act (provide
information, request a capability, lift a platform restriction) or that the
feature is permanently disabled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Record = dict[str, Any]

OBJECT = "treasury.financial_account_features"

# Every feature Stripe lets a platform request, in the order Stripe lists them
# (and the order of active_features / pending_features / restricted_features).
FEATURES: tuple[str, ...] = (
    "card_issuing",
    "deposit_insurance",
    "financial_addresses.aba",
    "inbound_transfers.ach",
    "intra_stripe_flows",
    "outbound_payments.ach",
    "outbound_payments.us_domestic_wire",
    "outbound_transfers.ach",
    "outbound_transfers.us_domestic_wire",
)

# The top-level keys of the features object; dotted features nest under them.
GROUPS: tuple[str, ...] = (
    "card_issuing",
    "deposit_insurance",
    "financial_addresses",
    "inbound_transfers",
    "intra_stripe_flows",
    "outbound_payments",
    "outbound_transfers",
)

# Capabilities the connected account must have active (Treasury docs, "Available
# features"). Stripe additionally lists us_bank_account_ach_payments for the ACH
# flows; we only require treasury so far (one line to change here).
REQUIRED_CAPABILITIES: dict[str, tuple[str, ...]] = {
    feature: ("card_issuing",) if feature == "card_issuing" else ("treasury",)
    for feature in FEATURES
}

# Which platform_restrictions flag switches a feature off. card_issuing is not
# affected by either flag (Treasury docs); authorizations check outbound_flows
# themselves. financial_addresses.aba and intra_stripe_flows are only partially
# restricted, which does not change their status.
RESTRICTED_BY: dict[str, str] = {
    "inbound_transfers.ach": "inbound_flows",
    "outbound_payments.ach": "outbound_flows",
    "outbound_payments.us_domestic_wire": "outbound_flows",
    "outbound_transfers.ach": "outbound_flows",
    "outbound_transfers.us_domestic_wire": "outbound_flows",
}

# Capability status -> (feature status, status_details.code, resolution).
_CAPABILITY_EFFECT: dict[str, tuple[str, str, str | None]] = {
    "pending": ("pending", "requirements_pending_verification", None),
    "inactive": ("restricted", "requirements_past_due", "provide_information"),
    "disabled": ("restricted", "rejected_other", "contact_stripe"),
    "unrequested": ("restricted", "capability_not_requested", None),
}
_UNKNOWN_CAPABILITY_EFFECT = ("restricted", "restricted_other", "contact_stripe")
_SEVERITY = {"active": 0, "pending": 1, "restricted": 2}


def detail(code: str, resolution: str | None = None, restriction: str | None = None) -> Record:
    return {"code": code, "resolution": resolution, "restriction": restriction}


def requests_from_params(params: Mapping[str, Any] | None) -> dict[str, bool]:
    """``{"financial_addresses": {"aba": {"requested": true}}}`` -> ``{"financial_addresses.aba":
    True}``."""
    requests: dict[str, bool] = {}
    for feature in FEATURES:
        node: Any = params or {}
        for part in feature.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping) and "requested" in node:
            requests[feature] = bool(node["requested"])
    return requests


def requested_after(current: Iterable[str], requests: Mapping[str, bool]) -> list[str]:
    """The requested set after applying ``requested=true|false`` per feature, in canonical order."""
    wanted = set(current)
    for feature, requested in requests.items():
        if requested:
            wanted.add(feature)
        else:
            wanted.discard(feature)
    return [feature for feature in FEATURES if feature in wanted]


def capability_status(capabilities: Mapping[str, Any], name: str) -> str:
    value = capabilities.get(name)
    if isinstance(value, Mapping):  # tolerate {"status": ...} as well as the bare status
        value = value.get("status")
    return value or "unrequested"


def is_requested(capabilities: Mapping[str, Any], name: str) -> bool:
    return capability_status(capabilities, name) != "unrequested"


def evaluate(
    feature: str,
    capabilities: Mapping[str, Any],
    restrictions: Mapping[str, Any] | None,
    *,
    closed: bool = False,
) -> Record:
    """One requested feature's ``{requested, status, status_details}``.

    A closed financial account restricts everything. Otherwise every reason
    that applies is listed (a capability problem and a platform restriction
    may both hold) and the most severe one sets the status.
    """
    if closed:
        return {
            "requested": True,
            "status": "restricted",
            "status_details": [detail("financial_account_closed")],
        }
    status = "active"
    details: list[Record] = []
    for name in REQUIRED_CAPABILITIES[feature]:
        cap_status = capability_status(capabilities, name)
        if cap_status == "active":
            continue
        effect, code, resolution = _CAPABILITY_EFFECT.get(cap_status, _UNKNOWN_CAPABILITY_EFFECT)
        details.append(detail(code, resolution))
        status = _worse(status, effect)
    flag = RESTRICTED_BY.get(feature)
    if flag and (restrictions or {}).get(flag) == "restricted":
        details.append(detail("restricted_by_platform", "remove_restriction", flag))
        status = _worse(status, "restricted")
    return {"requested": True, "status": status, "status_details": details}


def _worse(a: str, b: str) -> str:
    return a if _SEVERITY[a] >= _SEVERITY[b] else b


def evaluate_all(
    requested: Iterable[str],
    capabilities: Mapping[str, Any],
    restrictions: Mapping[str, Any] | None,
    *,
    closed: bool = False,
) -> dict[str, Record]:
    """Flat ``{dotted feature: setting}`` for every requested feature, canonical order."""
    wanted = set(requested)
    return {
        feature: evaluate(feature, capabilities, restrictions, closed=closed)
        for feature in FEATURES
        if feature in wanted
    }


def status_lists(flat: Mapping[str, Record]) -> dict[str, list[str]]:
    """The financial account's mirror of the statuses, as Stripe spells the paths."""
    lists: dict[str, list[str]] = {
        "active_features": [],
        "pending_features": [],
        "restricted_features": [],
    }
    for feature in FEATURES:
        if feature in flat:
            lists[f"{flat[feature]['status']}_features"].append(feature)
    return lists


def to_object(flat: Mapping[str, Record]) -> Record:
    """The ``treasury.financial_account_features`` object: unrequested features are null."""
    obj: Record = {"object": OBJECT}
    for group in GROUPS:
        obj[group] = None
    for feature in FEATURES:
        if feature not in flat:
            continue
        group, _, leaf = feature.partition(".")
        setting = {
            "requested": flat[feature]["requested"],
            "status": flat[feature]["status"],
            "status_details": [dict(d) for d in flat[feature]["status_details"]],
        }
        if not leaf:
            obj[group] = setting
            continue
        if obj[group] is None:
            obj[group] = {
                name.partition(".")[2]: None for name in FEATURES if name.startswith(group + ".")
            }
        obj[group][leaf] = setting
    return obj


def from_object(obj: Mapping[str, Any] | None) -> dict[str, Record]:
    """Inverse of ``to_object``: the flat map of requested features."""
    flat: dict[str, Record] = {}
    for feature in FEATURES:
        node: Any = obj or {}
        for part in feature.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping) and node.get("requested"):
            flat[feature] = dict(node)
    return flat
