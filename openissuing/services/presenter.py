"""Rendering a record for the wire: load its relations through storage, then serialize it purely.

The serializers (``openissuing.wire``) never touch a database; the relations they show (the
financial account's balance, a card's cardholder, an authorization's card and transactions,
revealed secrets, an event's ``pending_webhooks``) are loaded here, one loader per type that
has any. ``api.render`` adds ``expand[]`` and lists on top; ``services.events`` calls
``snapshot`` so an event keeps its object as it was.

Rendering once: an object rendered for an event (``snapshot``) is remembered on the unit of
work, and the response rendering of the same record in the same transaction reuses it when
it would be identical: same bytes of record, same owner, default view (no expand, no
secrets), and no document written since. Types whose rendering reads more than documents
(the ledger balance, delivery counts) are never reused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import orjson

from openissuing.domain.issuing import physical_bundles
from openissuing.domain.issuing import tokens as token_rules
from openissuing.services import balances, deliveries
from openissuing.services.scope import Scope
from openissuing.storage import card_secrets
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import View, registry
from openissuing.wire import cards as card_wire
from openissuing.wire import financial_accounts as fa_wire
from openissuing.wire import issuing_extra as extra_wire
from openissuing.wire import treasury_flows as flow_wire

Json = dict[str, Any]
Loader = Callable[[UnitOfWork, Scope, str, Json, View], dict[str, Any]]

# Rendered from more than documents (ledger totals, delivery rows): never reused from memory.
_NOT_REUSABLE = frozenset(
    {"treasury.financial_account", "event", "ephemeral_key", "ephemeral_key_nonce"}
)


def present(
    uow: UnitOfWork,
    scope: Scope,
    object_type: str,
    record: Json,
    *,
    expand: frozenset[str] | set[str] = frozenset(),
    reveal_secrets: bool = False,
    owner: str | None = None,
) -> Json:
    """``record`` on the wire; ``owner`` is the account it lives in (default: the acting one)."""
    owner = owner or scope.account
    view = View(frozenset(expand), reveal_secrets)
    if uow.rendered and not view.expand and not reveal_secrets:
        reused = _reuse(uow, object_type, record, owner)
        if reused is not None:
            return reused
    loader = _LOADERS.get(object_type)
    if loader is not None:
        view = dataclasses.replace(view, related=loader(uow, scope, owner, record, view))
    return registry.serializer(object_type)(record, view)


def snapshot(uow: UnitOfWork, scope: Scope, object_type: str, record: Json, owner: str) -> Json:
    """The object as an event records it: rendered now, in the default view."""
    return present(uow, scope, object_type, record, owner=owner)


def remember(uow: UnitOfWork, object_type: str, record: Json, owner: str, rendered: Json) -> None:
    """Offer an event's rendering to the response of this transaction (see the module doc)."""
    if object_type in _NOT_REUSABLE or "id" not in record:
        return
    uow.rendered[record["id"]] = (
        object_type,
        owner,
        orjson.dumps(record),
        uow.docs.writes,
        rendered,
    )


def _reuse(uow: UnitOfWork, object_type: str, record: Json, owner: str) -> Json | None:
    # Taken once: the response may be changed by expand[] later, the event must not see that.
    kept = uow.rendered.pop(record.get("id"), None)
    if kept is None:
        return None
    kept_type, kept_owner, kept_bytes, kept_writes, rendered = kept
    if (kept_type, kept_owner, kept_writes) != (object_type, owner, uow.docs.writes):
        return None
    return rendered if orjson.dumps(record) == kept_bytes else None


def load_visible(uow: UnitOfWork, scope: Scope, object_id: str) -> tuple[str, Json] | None:
    """An object by id, only if it lives in the acting account (or is that account)."""
    found = uow.docs.owner_of(object_id)
    if found is None:
        # The physical bundles are one catalogue, the same for every account (never stored).
        bundle = physical_bundles.get(object_id)
        return None if bundle is None else (physical_bundles.TYPE, bundle)
    object_type, owner = found
    visible = owner == scope.account or object_id == scope.account
    if not visible or object_type not in registry.TYPES:
        return None
    record = uow.docs.get(object_type, object_id, owner)
    return None if record is None else (object_type, record)


# ------------------------------------------------------------------ one loader per type


def _card(uow: UnitOfWork, scope: Scope, owner: str, record: Json, view: View) -> dict[str, Any]:
    related: dict[str, Any] = {}
    # A card and its cardholder always live in the same account, so the cardholder is found
    # through its own owner; this also works outside the card's account's request.
    found = uow.docs.owner_of(record["cardholder"])
    holder = uow.docs.get("issuing.cardholder", record["cardholder"], found[1]) if found else None
    if holder is not None:
        # The embedded cardholder gets none of the card's expand paths or secrets.
        related["cardholder"] = present(uow, scope, "issuing.cardholder", holder, owner=found[1])
    if card_wire.wants_secrets(record, view):
        sealed = card_secrets.sealed(uow.conn, record["id"])
        if sealed is not None:
            related["secrets"] = (scope.box.open(sealed[0]), scope.box.open(sealed[1]))
    return related


def _authorization(
    uow: UnitOfWork, scope: Scope, owner: str, record: Json, view: View
) -> dict[str, Any]:
    related: dict[str, Any] = {}
    card = uow.docs.get("issuing.card", record["card"], owner)
    if card is not None:
        related["card"] = present(uow, scope, "issuing.card", card, owner=owner)
    # The authorization keeps its transactions' ids (oldest first), so no search is needed.
    loaded = [
        uow.docs.get("issuing.transaction", t, owner) for t in record.get("_transactions", [])
    ]
    related["transactions"] = [
        present(uow, scope, "issuing.transaction", t, owner=owner) for t in loaded if t
    ]
    return related


def _financial_account(
    uow: UnitOfWork, scope: Scope, owner: str, record: Json, view: View
) -> dict[str, Any]:
    related: dict[str, Any] = {"balance": balances.financial_account_balance(uow, record)}
    aba = record.get("_aba")
    if fa_wire.reveals_account_number(view):
        related["account_number"] = (
            scope.box.open(aba["account_number_sealed"].encode()) if aba else None
        )
    return related


def _flow_details(uow: UnitOfWork, scope: Scope, record: Json, view: View) -> dict[str, Any]:
    """``flow_details`` is includable: the full flow object, only when asked for."""
    if not flow_wire.wants_flow_details(record, view):
        return {}
    flow_type = record["flow_type"]
    details: Json = {"type": flow_type}
    loaded = load_visible(uow, scope, record["flow"])
    if loaded is not None:
        details[flow_type] = present(uow, scope, loaded[0], loaded[1])
    return {"flow_details": details}


def _treasury_transaction(
    uow: UnitOfWork, scope: Scope, owner: str, record: Json, view: View
) -> dict[str, Any]:
    related = _flow_details(uow, scope, record, view)
    if "entries" in view.expand:
        entries = uow.docs.list(
            "treasury.transaction_entry", owner, filters={"transaction": record["id"]}, limit=None
        )
        related["entries"] = [
            present(uow, scope, "treasury.transaction_entry", e, owner=owner)
            for e in entries.records
        ]
    return related


def _transaction_entry(
    uow: UnitOfWork, scope: Scope, owner: str, record: Json, view: View
) -> dict[str, Any]:
    return _flow_details(uow, scope, record, view)


def _received_credit(
    uow: UnitOfWork, scope: Scope, owner: str, record: Json, view: View
) -> dict[str, Any]:
    return {"now": scope.now()}


def _event(uow: UnitOfWork, scope: Scope, owner: str, record: Json, view: View) -> dict[str, Any]:
    stored = record.get("data") or {}
    obj = stored.get("object") or {}
    legacy_type = stored.get("object_type")
    if legacy_type in registry.TYPES:
        # Stored before events kept snapshots: the record, rendered as it is now.
        obj = present(uow, scope, legacy_type, obj, owner=owner)
    elif legacy_type:
        obj = {**obj, "object": legacy_type}
    return {"object": obj, "pending_webhooks": deliveries.pending_count(uow, record["id"])}


EXTERNAL_ACCOUNTS_SHOWN = 10  # the first page of account.external_accounts, as Stripe shows


def _account(uow: UnitOfWork, scope: Scope, owner: str, record: Json, view: View) -> dict[str, Any]:
    """An account's external accounts (they live in the account itself), newest first."""
    found: list[Json] = []
    for object_type in ("bank_account", "card"):
        page = uow.docs.list(object_type, record["id"], limit=EXTERNAL_ACCOUNTS_SHOWN + 1)
        found.extend(present(uow, scope, object_type, r, owner=record["id"]) for r in page.records)
    found.sort(key=lambda item: item["id"], reverse=True)
    return {
        "external_accounts": found[:EXTERNAL_ACCOUNTS_SHOWN],
        "external_accounts_more": len(found) > EXTERNAL_ACCOUNTS_SHOWN,
    }


def _token(uow: UnitOfWork, scope: Scope, owner: str, record: Json, view: View) -> dict[str, Any]:
    # Stripe shows network_data only when explicitly expanded on a retrieve or an update, and
    # only in the 24 hours after the token was created.
    if not extra_wire.wants_network_data(view):
        return {}
    return {"network_data": token_rules.network_data(record, scope.now())}


def _ephemeral_key(
    uow: UnitOfWork, scope: Scope, owner: str, record: Json, view: View
) -> dict[str, Any]:
    # The secret exists only in the create response: the service hands it over once, on the
    # record it returns (``_secret``), and stores only its digest.
    return {"secret": record.get("_secret") if view.reveal_secrets else None}


def _ephemeral_key_nonce(
    uow: UnitOfWork, scope: Scope, owner: str, record: Json, view: View
) -> dict[str, Any]:
    return {"private_nonce": record.get("_private_nonce") if view.reveal_secrets else None}


_LOADERS: dict[str, Loader] = {
    "account": _account,
    "issuing.token": _token,
    "ephemeral_key": _ephemeral_key,
    "ephemeral_key_nonce": _ephemeral_key_nonce,
    "issuing.card": _card,
    "issuing.authorization": _authorization,
    "treasury.financial_account": _financial_account,
    "treasury.received_credit": _received_credit,
    "treasury.transaction": _treasury_transaction,
    "treasury.transaction_entry": _transaction_entry,
    "event": _event,
}
