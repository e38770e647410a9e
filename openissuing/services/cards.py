"""Issuing card use cases: create, retrieve, update, list, shipping test helpers,
and the one place card numbers and CVCs are sealed and opened.

Card credentials never enter the JSON document: they are encrypted with the
server's key into ``card_secrets``, written in the same transaction as the
card, and only read back by ``reveal`` for an explicit retrieve expand.
"""

from __future__ import annotations

import secrets
from typing import Any

from openissuing.domain.errors import ResourceMissing
from openissuing.domain.issuing import card_numbers, physical_bundles
from openissuing.domain.issuing import cards as rules
from openissuing.domain.issuing import personalization_designs as design_rules
from openissuing.secrets_box import SecretBox
from openissuing.services import cardholders, events, issuing_tokens
from openissuing.services.scope import Scope
from openissuing.storage import card_secrets
from openissuing.storage.documents import Page
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

TYPE = "issuing.card"
FINANCIAL_ACCOUNT = "treasury.financial_account"
PERSONALIZATION_DESIGN = "issuing.personalization_design"
LIST_FILTERS = (
    "cardholder",
    "status",
    "type",
    "exp_month",
    "exp_year",
    "last4",
    "personalization_design",
)

# Tests may replace this to make generated numbers predictable.
randbelow = secrets.randbelow


def load(
    uow: UnitOfWork, scope: Scope, card_id: str, *, param: str = "card", for_update: bool = False
) -> dict[str, Any]:
    return uow.docs.require(TYPE, card_id, scope.account, param=param, for_update=for_update)


def create(uow: UnitOfWork, scope: Scope, params: dict[str, Any]) -> dict[str, Any]:
    now = scope.now()
    rules.check_create(params, now)
    cardholder = cardholders.load(uow, scope, params["cardholder"], param="cardholder")
    _check_financial_account(uow, scope, params.get("financial_account"), params["currency"])
    design = _design_for(uow, scope, params)
    original = None
    if params.get("replacement_for"):
        original = load(
            uow, scope, params["replacement_for"], param="replacement_for", for_update=True
        )
        rules.check_replacement(original, cardholder["id"], params.get("replacement_reason"))
    keeps_number = original is not None and params.get("replacement_reason") in rules.KEEPS_NUMBER
    secret = (
        card_numbers.reissue(_number_of(uow, scope, original["id"]), randbelow)
        if keeps_number and original is not None
        else card_numbers.generate(randbelow)
    )
    if design is not None:
        params = {**params, "personalization_design": design["id"]}
    record = rules.new(
        registry.id_for(TYPE), now, params, cardholder=cardholder, last4=secret.last4
    )
    # Everything is validated: nothing below depends on client input.
    uow.docs.insert(TYPE, scope.account, record, rules.filter_keys(record))
    _seal(uow, scope.box, record["id"], secret)
    events.record(uow, scope, "issuing_card.created", TYPE, record)
    if original is not None:
        replaced = rules.mark_replaced(original, record)
        if rules.activation_cancels_original(None, record):
            issuing_tokens.card_replaced(uow, scope, original["id"], record["id"])
            replaced = rules.cancel(replaced)
        _save(uow, scope, original, replaced)
    return record


def update(uow: UnitOfWork, scope: Scope, card_id: str, params: dict[str, Any]) -> dict[str, Any]:
    before = load(uow, scope, card_id, for_update=True)
    if params.get("financial_account"):
        _check_financial_account(uow, scope, params["financial_account"], before["currency"])
    if params.get("personalization_design") and before["type"] == "physical":
        _design_for(uow, scope, {**params, "second_line": before.get("second_line")})
    after = rules.update(before, params)
    _save(uow, scope, before, after)
    if rules.activation_cancels_original(before, after):
        # Lock order: the replacement (locked above), then the card it replaces, its tokens.
        original = uow.docs.get(TYPE, after["replacement_for"], scope.account, for_update=True)
        if original is not None:
            issuing_tokens.card_replaced(uow, scope, original["id"], after["id"])
            _save(uow, scope, original, rules.cancel(original))
    return after


def cancel(
    uow: UnitOfWork, scope: Scope, card: dict[str, Any], reason: str | None = None
) -> dict[str, Any]:
    """Cancel a locked card (terminal): its shipment if not handed over, and its tokens."""
    after = rules.cancel(card, reason)
    _save(uow, scope, card, after)
    return after


def cancel_unprinted(uow: UnitOfWork, scope: Scope, design_id: str, reason: str) -> None:
    """Cancel the cards printed with a design that Stripe has not handed to the printer yet."""
    found = uow.docs.list(
        TYPE, scope.account, filters={"personalization_design": design_id}, limit=None
    ).records
    for card_id in sorted(c["id"] for c in found):
        card = load(uow, scope, card_id, for_update=True)
        if card["status"] != "canceled" and (card.get("shipping") or {}).get("status") == "pending":
            cancel(uow, scope, card, reason)


def advance_shipping(uow: UnitOfWork, scope: Scope, card_id: str, action: str) -> dict[str, Any]:
    """One shipping test helper: submit, ship, deliver, return or fail."""
    before = load(uow, scope, card_id, for_update=True)
    after = rules.advance_shipping(before, action, scope.now())
    _save(uow, scope, before, after)
    return after


def list_(uow: UnitOfWork, scope: Scope, params: dict[str, Any], **page_args: Any) -> Page:
    filters = {key: params[key] for key in LIST_FILTERS if params.get(key) not in (None, "")}
    return uow.docs.list(TYPE, scope.account, filters=filters, **page_args)


def _seal(uow: UnitOfWork, box: SecretBox, card_id: str, secret: card_numbers.CardSecret) -> None:
    card_secrets.store(uow.conn, card_id, box.seal(secret.number), box.seal(secret.cvc))


def _save(uow: UnitOfWork, scope: Scope, before: dict[str, Any], after: dict[str, Any]) -> None:
    changed = events.changed_attributes(before, after)
    if not changed:
        if after != before:  # private bookkeeping only (e.g. the lifecycle count): no event
            uow.docs.update(after, rules.filter_keys(after))
        return
    uow.docs.update(after, rules.filter_keys(after))
    events.record(uow, scope, "issuing_card.updated", TYPE, after, previous_attributes=changed)
    if after["status"] == "canceled" and before["status"] != "canceled":
        issuing_tokens.card_canceled(uow, scope, after["id"])


def save(uow: UnitOfWork, scope: Scope, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Store a locked card's change, with its event when a public field changed."""
    _save(uow, scope, before, after)


def _number_of(uow: UnitOfWork, scope: Scope, card_id: str) -> str:
    sealed = card_secrets.sealed(uow.conn, card_id)
    if sealed is None:  # every card is sealed in its create transaction
        raise LookupError(f"card {card_id} has no sealed number")
    return scope.box.open(sealed[0])


def _check_financial_account(
    uow: UnitOfWork, scope: Scope, account_id: str | None, currency: str
) -> None:
    if not account_id:
        return
    # Scoped by owner: another account's financial account is simply not found.
    account = uow.docs.get(FINANCIAL_ACCOUNT, account_id, scope.account)
    if account is None:
        raise ResourceMissing(FINANCIAL_ACCOUNT, account_id, param="financial_account")
    rules.check_financial_account(account, currency)


def _design_for(uow: UnitOfWork, scope: Scope, params: dict[str, Any]) -> dict[str, Any] | None:
    """The design a physical card is printed with: the one asked for (which must be active), or
    the account's default, or, for a connected account without one, the platform's default."""
    if params.get("type", "physical") != "physical":
        return None
    design_id = params.get("personalization_design")
    if design_id:
        design = uow.docs.get(PERSONALIZATION_DESIGN, design_id, scope.account)
        if design is None:
            raise ResourceMissing(PERSONALIZATION_DESIGN, design_id, param="personalization_design")
        design_rules.require_active(design)
    else:
        design = _default_design(uow, scope.account) or (
            None if scope.is_platform else _default_design(uow, scope.platform)
        )
    if design is not None:
        bundle = physical_bundles.get(design["physical_bundle"])
        rules.check_second_line(params.get("second_line") or None, bundle)
    return design


def _default_design(uow: UnitOfWork, owner: str) -> dict[str, Any] | None:
    for design in uow.docs.find(PERSONALIZATION_DESIGN, owner, "is_default", "true"):
        if design["status"] == "active":
            return design
    return None
