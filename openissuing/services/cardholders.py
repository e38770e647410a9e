"""Cardholder use cases: create, retrieve, update, list."""

from __future__ import annotations

from typing import Any

from openissuing.domain.issuing import cardholders as rules
from openissuing.services import events
from openissuing.services.scope import Scope
from openissuing.storage.documents import Page
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

TYPE = "issuing.cardholder"


def load(
    uow: UnitOfWork,
    scope: Scope,
    cardholder_id: str,
    *,
    param: str = "cardholder",
    for_update: bool = False,
) -> dict[str, Any]:
    return uow.docs.require(TYPE, cardholder_id, scope.account, param=param, for_update=for_update)


def create(uow: UnitOfWork, scope: Scope, params: dict[str, Any]) -> dict[str, Any]:
    record = rules.new(registry.id_for(TYPE), scope.now(), params)
    uow.docs.insert(TYPE, scope.account, record, rules.filter_keys(record))
    events.record(uow, scope, "issuing_cardholder.created", TYPE, record)
    return record


def update(
    uow: UnitOfWork, scope: Scope, cardholder_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    before = load(uow, scope, cardholder_id, for_update=True)
    after = rules.update(before, params)
    uow.docs.update(after, rules.filter_keys(after))
    changed = events.changed_attributes(before, after)
    if changed:
        events.record(
            uow, scope, "issuing_cardholder.updated", TYPE, after, previous_attributes=changed
        )
    return after


def list_(uow: UnitOfWork, scope: Scope, params: dict[str, Any], **page_args: Any) -> Page:
    filters = {k: params[k] for k in ("email", "phone_number", "status", "type") if params.get(k)}
    return uow.docs.list(TYPE, scope.account, filters=filters, **page_args)
