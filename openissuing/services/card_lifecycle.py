"""Lifecycle controls at work: counting a card's payments, and canceling it at the limit.

The authorization path calls ``approved`` for every approval of a card with lifecycle controls,
the capture paths call ``captured``; both lock the card, count (``domain.issuing.
lifecycle_controls``), and cancel the card in the same transaction once it has made
``payment_count`` payments (``issuing_card.updated``; its tokens are deleted). Cards without
lifecycle controls cost nothing here: the callers know from records they already hold.
"""

from __future__ import annotations

from typing import Any

from openissuing.domain.issuing import authorizations as auth_rules
from openissuing.domain.issuing import cards as card_rules
from openissuing.domain.issuing import lifecycle_controls as rules
from openissuing.services import cards
from openissuing.services.scope import Scope
from openissuing.storage.uow import UnitOfWork

SMALL_LIMIT_MESSAGE = (
    "The card has as many uncaptured authorizations of 1 USD or less as its lifecycle "
    "controls allow (`payment_count`)."
)


def counts(card: dict[str, Any]) -> bool:
    """Whether this card's payments are counted (it has lifecycle controls)."""
    return rules.limit(card) is not None


def screen(card: dict[str, Any], amount: int, decision: auth_rules.Decision) -> auth_rules.Decision:
    """Decline one small authorization more than the uncaptured ones allowed."""
    if decision.approved and rules.small_authorization_refused(card, amount):
        return auth_rules.Decision(False, "not_allowed", SMALL_LIMIT_MESSAGE)
    return decision


def approved(
    uow: UnitOfWork, scope: Scope, card_id: str, authorization_id: str, amount: int
) -> None:
    card = cards.load(uow, scope, card_id, for_update=True)
    _count(uow, scope, card, rules.approved(card, authorization_id, amount))


def captured(
    uow: UnitOfWork, scope: Scope, card: dict[str, Any], authorization_id: str | None
) -> None:
    if not counts(card):
        return
    locked = cards.load(uow, scope, card["id"], for_update=True)
    _count(uow, scope, locked, rules.captured(locked, authorization_id))


def _count(uow: UnitOfWork, scope: Scope, before: dict[str, Any], after: dict[str, Any]) -> None:
    if after is before:
        return
    if rules.reached(after) and after["status"] != "canceled":
        after = card_rules.cancel(after)
    cards.save(uow, scope, before, after)
