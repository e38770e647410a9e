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
from openissuing.domain.issuing import card_numbers
from openissuing.domain.issuing import cards as rules
from openissuing.secrets_box import SecretBox
from openissuing.services import cardholders, events
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
    _check_design(uow, scope, params.get("personalization_design"))
    original = None
    if params.get("replacement_for"):
        original = load(
            uow, scope, params["replacement_for"], param="replacement_for", for_update=True
        )
        rules.check_replacement(original, cardholder["id"], params.get("replacement_reason"))
    secret = card_numbers.generate(randbelow)
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
            replaced = rules.cancel(replaced)
        _save(uow, scope, original, replaced)
    return record


def update(uow: UnitOfWork, scope: Scope, card_id: str, params: dict[str, Any]) -> dict[str, Any]:
    before = load(uow, scope, card_id, for_update=True)
    if params.get("financial_account"):
        _check_financial_account(uow, scope, params["financial_account"], before["currency"])
    _check_design(uow, scope, params.get("personalization_design"))
    after = rules.update(before, params)
    _save(uow, scope, before, after)
    if rules.activation_cancels_original(before, after):
        # Lock order: the replacement (locked above), then the card it replaces.
        original = uow.docs.get(TYPE, after["replacement_for"], scope.account, for_update=True)
        if original is not None:
            _save(uow, scope, original, rules.cancel(original))
    return after


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
        return
    uow.docs.update(after, rules.filter_keys(after))
    events.record(uow, scope, "issuing_card.updated", TYPE, after, previous_attributes=changed)


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


def _check_design(uow: UnitOfWork, scope: Scope, design_id: str | None) -> None:
    if design_id and uow.docs.get(PERSONALIZATION_DESIGN, design_id, scope.account) is None:
        raise ResourceMissing(PERSONALIZATION_DESIGN, design_id, param="personalization_design")
