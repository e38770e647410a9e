"""treasury.financial_account and treasury.financial_account_features on the wire.

Built field by field rather than copied from the record: the record carries
private fields (the sealed ABA account number, forwarding settings) and no
balance, which is derived from the ledger. Relations: ``balance`` (read off the
ledger by the presenter) and ``account_number`` (the opened ABA account number,
loaded only when ``reveals_account_number``).
"""

from __future__ import annotations

import copy

from openissuing.domain.treasury import features as feature_rules
from openissuing.wire import View

FEATURES_TYPE = "treasury.financial_account_features"
# The one expand path that reveals the full ABA account number (routes set reveal_secrets for it).
ACCOUNT_NUMBER_PATH = "financial_addresses.aba.account_number"
_COPIED = (
    "active_features",
    "country",
    "created",
    "id",
    "is_default",
    "livemode",
    "metadata",
    "nickname",
    "pending_features",
    "platform_restrictions",
    "restricted_features",
    "status",
    "status_details",
    "supported_currencies",
)


def reveals_account_number(view: View) -> bool:
    return view.reveal_secrets and "financial_addresses" in view.expand


def financial_account(record: dict, view: View) -> dict:
    out = {field: copy.deepcopy(record.get(field)) for field in _COPIED}
    out["object"] = "treasury.financial_account"
    out["balance"] = copy.deepcopy(view.related["balance"])
    # features is opt-in (expand[]=features), as on Stripe.
    out["features"] = features(record["features"], view) if "features" in view.expand else None
    out["financial_addresses"] = _addresses(record, view)
    return dict(sorted(out.items()))


def _addresses(record: dict, view: View) -> list[dict]:
    addresses = copy.deepcopy(record.get("financial_addresses") or [])
    reveal = reveals_account_number(view)
    for address in addresses:
        if address.get("type") == "aba" and reveal:
            address["aba"]["account_number"] = view.related.get("account_number")
    return addresses


def features(obj: dict, view: View) -> dict:
    """Rendered from the features object stored on the financial account (no id of its own)."""
    return feature_rules.to_object(feature_rules.from_object(obj))
