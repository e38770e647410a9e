"""External accounts of a connected account: bank accounts and debit cards (payout
destinations). Create, retrieve, update, list, delete.

They live in their account (owner = the connected account's id), as ``bank_account`` (``ba_``)
or ``card`` (``card_``) documents. The first one for a currency becomes its default, and
``default_for_currency`` stays true on exactly one per currency. Every change records
``account.external_account.created/updated/deleted`` in the account's event stream; having any
external account is what ``payouts_enabled`` needs (``account.updated`` when that moves).

Other flows (Treasury outbound transfers and payments, inbound transfers) find a bank account
with ``find_bank_account``; its private ``_failure_code`` says how a payout to the test number
it stands for ends (``domain.connect.external_accounts``).
"""

from __future__ import annotations

from typing import Any

from openissuing.domain.connect import external_accounts as rules
from openissuing.domain.errors import ResourceMissing
from openissuing.services import accounts, events
from openissuing.services.scope import Scope
from openissuing.storage.documents import Page
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

BANK_ACCOUNT = "bank_account"
CARD = "card"
TYPES = (BANK_ACCOUNT, CARD)


def find_bank_account(
    uow: UnitOfWork, account_id: str, bank_account_id: str, *, param: str = "id"
) -> dict[str, Any]:
    """A bank account ``account_id`` owns (404 naming ``param`` otherwise)."""
    return uow.docs.require(BANK_ACCOUNT, bank_account_id, account_id, param=param)


def _load(
    uow: UnitOfWork, account_id: str, object_id: str, *, for_update: bool = False
) -> dict[str, Any]:
    for object_type in TYPES:
        found = uow.docs.get(object_type, object_id, account_id, for_update=for_update)
        if found is not None:
            return found
    raise ResourceMissing("external account", object_id, param="id")


def _all(uow: UnitOfWork, account_id: str, object_type: str | None = None) -> list[dict]:
    """Every external account (of one type, or both), newest first."""
    found: list[dict] = []
    for kind in (object_type,) if object_type else TYPES:
        found.extend(uow.docs.list(kind, account_id, limit=None).records)
    return sorted(found, key=lambda record: record["id"], reverse=True)


def retrieve(uow: UnitOfWork, scope: Scope, account_id: str, object_id: str) -> dict[str, Any]:
    accounts.load(uow, scope, account_id)
    return _load(uow, account_id, object_id)


def list_(
    uow: UnitOfWork,
    scope: Scope,
    account_id: str,
    params: dict[str, Any],
    *,
    limit: int,
    starting_after: str | None,
    ending_before: str | None,
    **_: Any,
) -> Page:
    """Newest first, bank accounts and cards together unless ``object`` picks one (an account
    holds a handful, so the page is cut here rather than in SQL)."""
    accounts.load(uow, scope, account_id)
    records = _all(uow, account_id, params.get("object"))
    ids = [record["id"] for record in records]
    for param, cursor in (("starting_after", starting_after), ("ending_before", ending_before)):
        if cursor is not None and cursor not in ids:
            raise ResourceMissing("external account", cursor, param=param)
    if starting_after is not None:
        records = records[ids.index(starting_after) + 1 :]
    if ending_before is not None:
        records = records[: ids.index(ending_before)][-limit:]
        return Page(records, False)
    return Page(records[:limit], len(records) > limit)


def create(
    uow: UnitOfWork, scope: Scope, account_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    account = accounts.load_connected(uow, scope, account_id)
    kind, details = rules.parse(params["external_account"])
    object_id = registry.id_for(kind)
    if kind == BANK_ACCOUNT:
        record = rules.bank_account(object_id, account_id, scope.now(), details, None)
    else:
        record = rules.card(object_id, account_id, scope.now(), details)
    record = rules.update(record, {"metadata": params.get("metadata")})
    same_currency = [r for r in _all(uow, account_id) if r["currency"] == record["currency"]]
    # Everything checked: from here on nothing can fail.
    if params.get("default_for_currency") or not same_currency:
        record["default_for_currency"] = True
        _unset_other_defaults(uow, scope, account_id, record, same_currency)
    uow.docs.insert(kind, account_id, record, rules.filter_keys(record))
    events.record(uow, scope, "account.external_account.created", kind, record, account=account_id)
    accounts.set_external_account(uow, scope, account, True)
    return record


def attach_from_account_params(
    uow: UnitOfWork, scope: Scope, account_id: str, value: Any
) -> dict[str, Any]:
    """``external_account`` given to POST /v1/accounts(/{id}): as on Stripe, it becomes the
    default for its currency and the old default for that currency is deleted."""
    before = {r["id"] for r in _all(uow, account_id) if r["default_for_currency"]}
    record = create(
        uow, scope, account_id, {"external_account": value, "default_for_currency": True}
    )
    for old in _all(uow, account_id):
        if old["id"] in before and old["currency"] == record["currency"]:
            uow.docs.delete(old["id"])
            events.record(
                uow,
                scope,
                "account.external_account.deleted",
                old["object"],
                old,
                account=account_id,
            )
    return record


def update(
    uow: UnitOfWork, scope: Scope, account_id: str, object_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    accounts.load_connected(uow, scope, account_id)
    before = _load(uow, account_id, object_id, for_update=True)
    rules.check_not_unset_default(before, params)
    after = rules.update(before, params)
    if params.get("default_for_currency") and not before["default_for_currency"]:
        after["default_for_currency"] = True
        same_currency = [r for r in _all(uow, account_id) if r["currency"] == after["currency"]]
        _unset_other_defaults(uow, scope, account_id, after, same_currency)
    if after != before:
        _save(uow, scope, account_id, before, after)
    return after


def delete(uow: UnitOfWork, scope: Scope, account_id: str, object_id: str) -> dict[str, Any]:
    account = accounts.load_connected(uow, scope, account_id)
    record = _load(uow, account_id, object_id, for_update=True)
    everyone = _all(uow, account_id)
    same_currency = sum(1 for r in everyone if r["currency"] == record["currency"])
    rules.check_deletable(record, same_currency, account.get("default_currency") or "usd")
    uow.docs.delete(object_id)
    events.record(
        uow,
        scope,
        "account.external_account.deleted",
        record["object"],
        record,
        account=account_id,
    )
    accounts.set_external_account(uow, scope, account, len(everyone) > 1)
    return {
        "id": object_id,
        "object": record["object"],
        "deleted": True,
        "currency": record["currency"],
    }


def _unset_other_defaults(
    uow: UnitOfWork,
    scope: Scope,
    account_id: str,
    record: dict[str, Any],
    same_currency: list[dict],
) -> None:
    for other in same_currency:
        if other["id"] != record["id"] and other["default_for_currency"]:
            _save(uow, scope, account_id, other, {**other, "default_for_currency": False})


def _save(
    uow: UnitOfWork,
    scope: Scope,
    account_id: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    uow.docs.update(after, rules.filter_keys(after))
    events.record(
        uow,
        scope,
        "account.external_account.updated",
        after["object"],
        after,
        previous_attributes=events.changed_attributes(before, after),
        account=account_id,
    )
