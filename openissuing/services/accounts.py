"""Connect account use cases: create, retrieve, update, delete, list, capabilities, reject.

Accounts are platform objects (owner = the platform's id). Only the platform (no
``Stripe-Account``) manages them; a connected account may only read itself. Every change
records ``capability.updated`` for each capability whose object changed and ``account.updated``
(both in the connected account's event stream), then lets Treasury re-derive the features of the
account's financial accounts when a capability status moved.
"""

from __future__ import annotations

from typing import Any

from openissuing.domain.connect import accounts as rules
from openissuing.domain.connect import capabilities as capability_rules
from openissuing.domain.errors import InvalidRequest, PermissionDenied, ResourceMissing
from openissuing.services import events
from openissuing.services.scope import Scope
from openissuing.storage.documents import Page
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

TYPE = "account"


def _new_person_id() -> str:
    return registry.id_for("person")


def _require_platform(scope: Scope) -> None:
    if not scope.is_platform:
        raise PermissionDenied(
            "The provided key does not have the required permissions for this endpoint on account "
            f"'{scope.account}'. Only the platform can manage connected accounts; retry without "
            "the "
            "Stripe-Account header."
        )


def load(
    uow: UnitOfWork,
    scope: Scope,
    account_id: str,
    *,
    param: str = "account",
    for_update: bool = False,
) -> dict[str, Any]:
    """An account the acting account may see: any of the platform's, or (connected) itself."""
    visible = scope.is_platform or account_id == scope.account
    record = (
        uow.docs.get(TYPE, account_id, scope.platform, for_update=for_update) if visible else None
    )
    if record is None or record.get("deleted"):
        raise ResourceMissing("account", account_id, param=param)
    return record


def load_connected(uow: UnitOfWork, scope: Scope, account_id: str) -> dict[str, Any]:
    """An account the platform may change: not the platform's own (it has no controller)."""
    record = load(uow, scope, account_id, for_update=True)
    _require_platform(scope)
    if account_id == scope.platform:
        raise InvalidRequest(
            "You cannot modify your own account through the Connect accounts API.", param="account"
        )
    return record


def current(uow: UnitOfWork, scope: Scope) -> dict[str, Any]:
    return load(uow, scope, scope.account)


def create(uow: UnitOfWork, scope: Scope, params: dict[str, Any]) -> dict[str, Any]:
    _require_platform(scope)
    record = rules.new(registry.id_for(TYPE), scope.now(), params, person_id=_new_person_id())
    uow.docs.insert(TYPE, scope.platform, record, rules.filter_keys(record))
    # Stripe sends no account.created for Connect creates; requested capabilities do change.
    _record_changes(uow, scope, None, record)
    return record


def update(
    uow: UnitOfWork, scope: Scope, account_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    before = load_connected(uow, scope, account_id)
    after = rules.update(before, params, scope.now(), person_id=_new_person_id())
    return _save(uow, scope, before, after)


def delete(uow: UnitOfWork, scope: Scope, account_id: str) -> dict[str, Any]:
    before = load_connected(uow, scope, account_id)
    # A tombstone, not a removal: the id stays known so Stripe-Account for it is refused.
    uow.docs.update(rules.tombstone(before), rules.filter_keys(rules.tombstone(before)))
    return {"id": account_id, "object": "account", "deleted": True}


def list_(uow: UnitOfWork, scope: Scope, params: dict[str, Any], **page_args: Any) -> Page:
    _require_platform(scope)
    return uow.docs.list(TYPE, scope.platform, filters=rules.CONNECTED, **page_args)


def reject(
    uow: UnitOfWork, scope: Scope, account_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    before = load_connected(uow, scope, account_id)
    return _save(uow, scope, before, rules.reject(before, params["reason"]))


def unreject(uow: UnitOfWork, scope: Scope, account_id: str) -> dict[str, Any]:
    before = load_connected(uow, scope, account_id)
    return _save(uow, scope, before, rules.unreject(before))


def change_persons(
    uow: UnitOfWork, scope: Scope, before: dict[str, Any], summaries: dict[str, Any]
) -> dict[str, Any]:
    """Re-derive a company's requirements after its persons changed (events if they moved)."""
    return _save(uow, scope, before, rules.with_persons(before, summaries))


def set_external_account(
    uow: UnitOfWork, scope: Scope, before: dict[str, Any], has_one: bool
) -> dict[str, Any]:
    """Whether the account has an external account (what payouts_enabled needs) changed."""
    return _save(uow, scope, before, rules.refresh({**before, "_external_account": has_one}))


def _known_capability(name: str) -> None:
    if name not in capability_rules.KNOWN:
        raise ResourceMissing("capability", name, param="capability")


def list_capabilities(uow: UnitOfWork, scope: Scope, account_id: str) -> Page:
    record = load(uow, scope, account_id)
    return Page(
        [
            capability_rules.capability(record, name)
            for name in capability_rules.listed_names(record)
        ],
        False,
    )


def retrieve_capability(
    uow: UnitOfWork, scope: Scope, account_id: str, name: str
) -> dict[str, Any]:
    record = load(uow, scope, account_id)
    _known_capability(name)
    return capability_rules.capability(record, name)


def update_capability(
    uow: UnitOfWork, scope: Scope, account_id: str, name: str, params: dict[str, Any]
) -> dict[str, Any]:
    before = load_connected(uow, scope, account_id)
    _known_capability(name)
    after = before
    if "requested" in params:
        after = rules.refresh(
            capability_rules.set_requested(before, name, params["requested"], scope.now())
        )
    after = _save(uow, scope, before, after)
    return capability_rules.capability(after, name)


def _save(
    uow: UnitOfWork, scope: Scope, before: dict[str, Any], after: dict[str, Any]
) -> dict[str, Any]:
    if after == before:
        return after
    uow.docs.update(after, rules.filter_keys(after))
    _record_changes(uow, scope, before, after)
    return after


def _record_changes(
    uow: UnitOfWork, scope: Scope, before: dict[str, Any] | None, after: dict[str, Any]
) -> None:
    account_id = after["id"]
    names = set(after.get("_capabilities") or {}) | set((before or {}).get("_capabilities") or {})
    for name in sorted(names):
        old = capability_rules.capability(before or rules.blank(account_id, after["created"]), name)
        new = capability_rules.capability(after, name)
        if old != new:
            events.record(
                uow,
                scope,
                "capability.updated",
                "capability",
                new,
                previous_attributes=events.changed_attributes(old, new),
                account=account_id,
            )
    if before is not None:
        changed = events.changed_attributes(rules.public(before), rules.public(after))
        if changed:
            events.record(
                uow,
                scope,
                "account.updated",
                TYPE,
                rules.public(after),
                previous_attributes=changed,
                account=account_id,
            )
    if _statuses(before) != _statuses(after):
        _refresh_treasury_features(uow, scope, account_id)


def _statuses(record: dict[str, Any] | None) -> tuple[Any, Any]:
    """What financial-account features follow: capability statuses and a rejection."""
    if record is None:
        return {}, None
    return record["capabilities"], record["requirements"]["disabled_reason"]


def _refresh_treasury_features(uow: UnitOfWork, scope: Scope, account_id: str) -> None:
    # Imported here: financial accounts depend on accounts, not the other way round.
    from openissuing.services import financial_accounts

    financial_accounts.refresh_features_for_account(uow, scope, account_id)
