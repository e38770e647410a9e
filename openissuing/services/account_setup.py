"""POST /v1/accounts and /v1/accounts/{id}: the account's own change, then its
``external_account`` param, which (as on Stripe) becomes a real bank account or debit card of
the account, the new default for its currency, replacing the old default.

Its own module because external accounts depend on accounts (and not the other way round).
"""

from __future__ import annotations

from typing import Any

from openissuing.services import accounts, external_accounts
from openissuing.services.scope import Scope
from openissuing.storage.uow import UnitOfWork


def create(uow: UnitOfWork, scope: Scope, params: dict[str, Any]) -> dict[str, Any]:
    return _attach(uow, scope, accounts.create(uow, scope, params), params)


def update(
    uow: UnitOfWork, scope: Scope, account_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    return _attach(uow, scope, accounts.update(uow, scope, account_id, params), params)


def _attach(
    uow: UnitOfWork, scope: Scope, record: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    if params.get("external_account") in (None, ""):
        return record
    external_accounts.attach_from_account_params(
        uow, scope, record["id"], params["external_account"]
    )
    return accounts.load(uow, scope, record["id"])
