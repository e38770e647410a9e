"""Persons of a connected account: create, retrieve, update, list, delete.

Persons live in their account (owner = the connected account's id). The platform manages them
(as it manages the account); a connected account may read its own. Every change records
``person.created/updated/deleted`` in the account's event stream, then re-derives the account's
requirements from all its persons (``accounts.change_persons``: ``account.updated`` and
``capability.updated`` when they moved).
"""

from __future__ import annotations

from typing import Any

from openissuing.domain.connect import persons as rules
from openissuing.domain.errors import InvalidRequest
from openissuing.services import accounts, events
from openissuing.services.scope import Scope
from openissuing.storage.documents import Page
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

TYPE = "person"


def _country(account: dict[str, Any]) -> str:
    return account.get("country") or "US"


def _load(
    uow: UnitOfWork, account_id: str, person_id: str, *, for_update: bool = False
) -> dict[str, Any]:
    return uow.docs.require(TYPE, person_id, account_id, param="person", for_update=for_update)


def retrieve(uow: UnitOfWork, scope: Scope, account_id: str, person_id: str) -> dict[str, Any]:
    accounts.load(uow, scope, account_id)
    return _load(uow, account_id, person_id)


def list_(
    uow: UnitOfWork, scope: Scope, account_id: str, params: dict[str, Any], **page_args: Any
) -> Page:
    accounts.load(uow, scope, account_id)
    return uow.docs.list(TYPE, account_id, filters=rules.list_filters(params), **page_args)


def create(
    uow: UnitOfWork, scope: Scope, account_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    account = accounts.load_connected(uow, scope, account_id)
    if account.get("business_type") == "individual":
        raise InvalidRequest(
            "Persons can only be added to accounts whose business_type is company, non_profit or "
            "government_entity; an individual account is described by its `individual` hash.",
            param="account",
        )
    person = rules.refresh(
        rules.new(registry.id_for(TYPE), account_id, scope.now(), params), _country(account)
    )
    _give_up_representative(uow, scope, account, None, person)
    uow.docs.insert(TYPE, account_id, person, rules.filter_keys(person))
    events.record(uow, scope, "person.created", TYPE, person, account=account_id)
    _sync(uow, scope, account)
    return person


def update(
    uow: UnitOfWork, scope: Scope, account_id: str, person_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    account = accounts.load_connected(uow, scope, account_id)
    before = _load(uow, account_id, person_id, for_update=True)
    after = rules.refresh(rules.update(before, params), _country(account))
    if after == before:
        return before
    _give_up_representative(uow, scope, account, before, after)
    _save(uow, scope, account_id, before, after)
    _sync(uow, scope, account)
    return after


def delete(uow: UnitOfWork, scope: Scope, account_id: str, person_id: str) -> dict[str, Any]:
    account = accounts.load_connected(uow, scope, account_id)
    person = _load(uow, account_id, person_id, for_update=True)
    uow.docs.delete(person_id)
    events.record(uow, scope, "person.deleted", TYPE, person, account=account_id)
    _sync(uow, scope, account)
    return {"id": person_id, "object": TYPE, "deleted": True}


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
        "person.updated",
        TYPE,
        after,
        previous_attributes=events.changed_attributes(rules.public(before), rules.public(after)),
        account=account_id,
    )


def _give_up_representative(
    uow: UnitOfWork,
    scope: Scope,
    account: dict[str, Any],
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> None:
    """A company has one representative: naming a new one takes the role from the others."""
    if not rules.takes_representative(before, after):
        return
    others = uow.docs.list(
        TYPE, account["id"], filters={"representative": "true"}, limit=None
    ).records
    for other in others:
        if other["id"] != after["id"]:
            changed = rules.refresh(rules.drop_representative(other), _country(account))
            _save(uow, scope, account["id"], other, changed)


def _sync(uow: UnitOfWork, scope: Scope, account: dict[str, Any]) -> None:
    everyone = uow.docs.list(TYPE, account["id"], limit=None).records
    summaries = {person["id"]: rules.summary(person, _country(account)) for person in everyone}
    accounts.change_persons(uow, scope, account, summaries)
