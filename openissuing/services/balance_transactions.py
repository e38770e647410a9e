"""/v1/balance_transactions: every movement of an account's Stripe balance, newest first.

Cards with a Treasury financial account move money through Treasury objects (received debits
and credits, debit reversals) and leave no balance transaction, as on Stripe. Cards without
one draw on the Issuing balance, and each of its movements — an authorization's hold or
release, a capture or refund, a won dispute — is a balance transaction (``balance_type``
``issuing``), written by ``services.issuing_balance``; so is every top-up that succeeded.
"""

from __future__ import annotations

from typing import Any

from openissuing.domain.errors import ResourceMissing
from openissuing.services.scope import Scope
from openissuing.storage.documents import Page
from openissuing.storage.uow import UnitOfWork

TYPE = "balance_transaction"


def retrieve(uow: UnitOfWork, scope: Scope, bt_id: str) -> dict[str, Any]:
    return uow.docs.require(TYPE, bt_id, scope.account)


def list_(uow: UnitOfWork, scope: Scope, params: dict[str, Any], **page: Any) -> Page:
    if params.get("payout"):
        # No payouts are ever made here, so any payout id names nothing this account has.
        raise ResourceMissing("payout", params["payout"], param="payout")
    filters = {
        k: params[k].lower() if k == "currency" else params[k]
        for k in ("currency", "source", "type")
        if params.get(k)
    }
    return uow.docs.list(TYPE, scope.account, filters=filters, **page)
