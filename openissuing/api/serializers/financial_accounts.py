"""treasury.financial_account and treasury.financial_account_features on the wire.

Built field by field rather than copied from the record: the record carries
private fields (the sealed ABA account number, forwarding settings) and no
balance, which is derived from the ledger on every render.
"""

from __future__ import annotations

import copy

from openissuing.api.render import RenderContext, serializer
from openissuing.domain.treasury import features as feature_rules
from openissuing.services import balances
from openissuing.services.financial_accounts import aba_account_number

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


@serializer("treasury.financial_account")
def financial_account(record: dict, ctx: RenderContext) -> dict:
    out = {field: copy.deepcopy(record.get(field)) for field in _COPIED}
    out["object"] = "treasury.financial_account"
    out["balance"] = balances.financial_account_balance(ctx.uow, record)
    # features is opt-in (expand[]=features), as on Stripe.
    out["features"] = features(record["features"], ctx) if "features" in ctx.expand else None
    out["financial_addresses"] = _addresses(record, ctx)
    return dict(sorted(out.items()))


def _addresses(record: dict, ctx: RenderContext) -> list[dict]:
    addresses = copy.deepcopy(record.get("financial_addresses") or [])
    reveal = ctx.reveal_secrets and "financial_addresses" in ctx.expand
    for address in addresses:
        if address.get("type") == "aba" and reveal:
            address["aba"]["account_number"] = aba_account_number(ctx.scope, record)
    return addresses


@serializer(FEATURES_TYPE)
def features(obj: dict, ctx: RenderContext) -> dict:
    """Rendered from the features object stored on the financial account (it has no id of its own)."""
    return feature_rules.to_object(feature_rules.from_object(obj))
