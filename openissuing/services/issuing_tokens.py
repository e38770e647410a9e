"""Issuing network tokens: list, retrieve, update, and how tokens follow purchases and cards.

Tokens are born in the authorization path (``for_wallet``: a wallet purchase on a card
with no live token for that wallet provisions one) and follow their card
(``card_canceled``, ``card_replaced``); see ``domain.issuing.tokens`` for the rules.
"""

from __future__ import annotations

from typing import Any

from openissuing.domain.issuing import tokens as rules
from openissuing.services import events
from openissuing.services.scope import Scope
from openissuing.storage.documents import Page
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

TYPE = rules.TYPE
CARD = "issuing.card"


def load(
    uow: UnitOfWork, scope: Scope, token_id: str, *, for_update: bool = False
) -> dict[str, Any]:
    return uow.docs.require(TYPE, token_id, scope.account, param="token", for_update=for_update)


def update(uow: UnitOfWork, scope: Scope, token_id: str, params: dict[str, Any]) -> dict[str, Any]:
    before = load(uow, scope, token_id, for_update=True)
    after = rules.change_status(before, params["status"], scope.now())
    _save(uow, scope, before, after)
    return after


def list_(uow: UnitOfWork, scope: Scope, params: dict[str, Any], **page: Any) -> Page:
    # The card must be one the acting account can see (Stripe: 404 naming `card`).
    uow.docs.require(CARD, params["card"], scope.account, param="card")
    filters = {"card": params["card"]}
    if params.get("status"):
        filters["status"] = params["status"]
    return uow.docs.list(TYPE, scope.account, filters=filters, **page)


def for_wallet(
    uow: UnitOfWork, scope: Scope, card: dict[str, Any], wallet: str | None, now: int
) -> dict[str, Any] | None:
    """The token a wallet purchase on ``card`` goes through: the wallet's live token, or a new
    one when the card can still be provisioned (not canceled); None without a wallet."""
    if not wallet:
        return None
    live = [
        t
        for t in uow.docs.list(
            TYPE, scope.account, filters={"card": card["id"], "wallet": wallet}, limit=None
        ).records
        if t["status"] in rules.LIVE
    ]
    if live:
        return live[0]  # newest first
    if card["status"] == "canceled":
        return None
    token = rules.new(registry.id_for(TYPE), card, wallet, now)
    uow.docs.insert(TYPE, scope.account, token, rules.filter_keys(token))
    events.record(uow, scope, "issuing_token.created", TYPE, token)
    return token


def card_canceled(uow: UnitOfWork, scope: Scope, card_id: str) -> None:
    """A canceled card's tokens are deleted, each with its ``issuing_token.updated``."""
    now = scope.now()
    for token in _live_tokens(uow, scope, card_id):
        _save(uow, scope, token, rules.deleted(token, now))


def card_replaced(uow: UnitOfWork, scope: Scope, original_id: str, replacement_id: str) -> None:
    """A replacement with the original's number carries its tokens over (wallets keep working)."""
    now = scope.now()
    for token in _live_tokens(uow, scope, original_id):
        _save(uow, scope, token, rules.moved(token, replacement_id, now))


def _live_tokens(uow: UnitOfWork, scope: Scope, card_id: str) -> list[dict[str, Any]]:
    found = uow.docs.list(TYPE, scope.account, filters={"card": card_id}, limit=None).records
    ids = sorted(t["id"] for t in found if t["status"] in rules.LIVE)  # lock in id order
    return [load(uow, scope, token_id, for_update=True) for token_id in ids]


def _save(uow: UnitOfWork, scope: Scope, before: dict[str, Any], after: dict[str, Any]) -> None:
    changed = events.changed_attributes(before, after)
    if not changed:
        return
    uow.docs.update(after, rules.filter_keys(after))
    events.record(uow, scope, "issuing_token.updated", TYPE, after, previous_attributes=changed)
