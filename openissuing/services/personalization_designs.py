"""Personalization designs and physical bundles: create, update, list, the review helpers.

Per account, a lookup key names at most one design and at most one design is the default
(``preferences.is_default``); setting either on a design takes it from the one that had it
(a lookup key only with ``transfer_lookup_key=true``), each change with its
``issuing_personalization_design.updated``. Rejecting a design cancels the account's cards
printed with it that have not been handed to the printer yet (``cancellation_reason``
``design_rejected``).
"""

from __future__ import annotations

from typing import Any

from openissuing.domain.errors import InvalidRequest
from openissuing.domain.issuing import personalization_designs as rules
from openissuing.domain.issuing import physical_bundles
from openissuing.services import cards, events
from openissuing.services.scope import Scope
from openissuing.storage.documents import Page, require_cursors
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

TYPE = rules.TYPE
UPDATED = "issuing_personalization_design.updated"


def load(
    uow: UnitOfWork,
    scope: Scope,
    design_id: str,
    *,
    param: str = "personalization_design",
    for_update: bool = False,
) -> dict[str, Any]:
    return uow.docs.require(TYPE, design_id, scope.account, param=param, for_update=for_update)


def create(uow: UnitOfWork, scope: Scope, params: dict[str, Any]) -> dict[str, Any]:
    bundle = physical_bundles.usable(params["physical_bundle"])
    record = rules.new(
        registry.id_for(TYPE), scope.now(), params, bundle, is_platform=scope.is_platform
    )
    holder = _lookup_key_holder(uow, scope, record, params)
    # Validated: the writes below cannot fail on client input.
    _take_lookup_key(uow, scope, holder)
    _take_default(uow, scope, record)
    uow.docs.insert(TYPE, scope.account, record, rules.filter_keys(record))
    return record


def update(uow: UnitOfWork, scope: Scope, design_id: str, params: dict[str, Any]) -> dict[str, Any]:
    before = load(uow, scope, design_id, for_update=True)
    bundle_id = params.get("physical_bundle")
    bundle = (
        physical_bundles.usable(bundle_id)
        if bundle_id and bundle_id != before["physical_bundle"]
        else physical_bundles.require(before["physical_bundle"])
    )
    after = rules.update(before, params, bundle, is_platform=scope.is_platform)
    holder = _lookup_key_holder(uow, scope, after, params)
    _take_lookup_key(uow, scope, holder)
    _take_default(uow, scope, after)
    _save(uow, scope, before, after, UPDATED)
    return after


def helper(
    uow: UnitOfWork, scope: Scope, design_id: str, action: str, params: dict[str, Any]
) -> dict[str, Any]:
    """A test helper: activate, deactivate or reject (Stripe's review, simulated)."""
    before = load(uow, scope, design_id, for_update=True)
    after, event_type = rules.helper(before, action, params)
    _save(uow, scope, before, after, event_type)
    if action == "reject":
        cards.cancel_unprinted(uow, scope, design_id, "design_rejected")
    return after


def list_(uow: UnitOfWork, scope: Scope, params: dict[str, Any], **page: Any) -> Page:
    filters: dict[str, str] = {}
    if params.get("status"):
        filters["status"] = params["status"]
    for name, value in (params.get("preferences") or {}).items():
        filters[name] = str(value).lower()
    keys = params.get("lookup_keys")
    if not keys:
        return uow.docs.list(TYPE, scope.account, filters=filters, **page)
    # A lookup key names at most one design: the matches are few; page them here.
    require_cursors(uow.conn, TYPE, scope.account, page["starting_after"], page["ending_before"])
    found = {
        d["id"]: d
        for key in keys
        for d in uow.docs.list(
            TYPE, scope.account, filters={**filters, "lookup_key": key}, created=page["created"]
        ).records
    }
    ordered = sorted(found.values(), key=lambda d: d["id"], reverse=True)
    if page["starting_after"]:
        ordered = [d for d in ordered if d["id"] < page["starting_after"]]
    if page["ending_before"]:
        ordered = [d for d in ordered if d["id"] > page["ending_before"]][-page["limit"] :]
    return Page(ordered[: page["limit"]], len(ordered) > page["limit"])


def bundle(bundle_id: str) -> dict[str, Any]:
    return physical_bundles.require(bundle_id, "physical_bundle")


def list_bundles(params: dict[str, Any], **page: Any) -> Page:
    records, has_more = physical_bundles.list_(
        status=params.get("status") or None,
        kind=params.get("type") or None,
        limit=page["limit"],
        starting_after=page["starting_after"],
        ending_before=page["ending_before"],
    )
    return Page(records, has_more)


def _lookup_key_holder(
    uow: UnitOfWork, scope: Scope, record: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any] | None:
    """The other design holding ``record``'s lookup key (to be moved), or an error."""
    key = record["lookup_key"]
    if not key:
        return None
    holders = [
        d for d in uow.docs.find(TYPE, scope.account, "lookup_key", key) if d["id"] != record["id"]
    ]
    if not holders:
        return None
    if not params.get("transfer_lookup_key"):
        raise InvalidRequest(
            f"A personalization design with the lookup key `{key}` already exists "
            f"({holders[0]['id']}). Pass `transfer_lookup_key=true` to move the key to this "
            "design.",
            param="lookup_key",
        )
    return holders[0]


def _take_lookup_key(uow: UnitOfWork, scope: Scope, holder: dict[str, Any] | None) -> None:
    if holder is None:
        return
    locked = load(uow, scope, holder["id"], for_update=True)
    _save(uow, scope, locked, {**locked, "lookup_key": None}, UPDATED)


def _take_default(uow: UnitOfWork, scope: Scope, record: dict[str, Any]) -> None:
    if not record["preferences"]["is_default"]:
        return
    for other in uow.docs.find(TYPE, scope.account, "is_default", "true"):
        if other["id"] == record["id"]:
            continue
        locked = load(uow, scope, other["id"], for_update=True)
        prefs = {"is_default": False, "is_platform_default": False if scope.is_platform else None}
        _save(uow, scope, locked, {**locked, "preferences": prefs}, UPDATED)


def _save(
    uow: UnitOfWork, scope: Scope, before: dict[str, Any], after: dict[str, Any], event_type: str
) -> None:
    changed = events.changed_attributes(before, after)
    if not changed:
        return
    uow.docs.update(after, rules.filter_keys(after))
    events.record(uow, scope, event_type, TYPE, after, previous_attributes=changed)
