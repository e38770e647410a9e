"""Treasury financial account use cases: create, retrieve, update, features, close, list.

Financial accounts live in connected accounts (``owner`` = the connected
account), and their features follow that account's capabilities: whenever the
capabilities change, the accounts service calls ``refresh_features_for_account``.
"""

from __future__ import annotations

import secrets
from typing import Any

from openissuing.domain.errors import InvalidRequest
from openissuing.domain.treasury import features as feature_rules
from openissuing.domain.treasury import financial_accounts as rules
from openissuing.services import balances, events
from openissuing.services.scope import Scope
from openissuing.storage.documents import Page
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

TYPE = "treasury.financial_account"
ACCOUNT_NUMBER_DIGITS = 12
_FEATURE_FIELDS = (
    "active_features",
    "pending_features",
    "restricted_features",
    "financial_addresses",
)


def load(
    uow: UnitOfWork,
    scope: Scope,
    fa_id: str,
    *,
    param: str = "financial_account",
    for_update: bool = False,
) -> dict[str, Any]:
    return uow.docs.require(TYPE, fa_id, scope.account, param=param, for_update=for_update)


def _account(uow: UnitOfWork, scope: Scope, account_id: str) -> dict[str, Any]:
    # Connected accounts are platform objects; the platform's own record is owned by itself,
    # which is the same owner id.
    return uow.docs.get("account", account_id, scope.platform) or {
        "id": account_id,
        "capabilities": {},
    }


def _capabilities(account: dict[str, Any]) -> dict[str, Any]:
    return account.get("capabilities") or {}


def create(uow: UnitOfWork, scope: Scope, params: dict[str, Any]) -> dict[str, Any]:
    if scope.is_platform:
        raise InvalidRequest(
            "Treasury financial accounts are created for connected accounts: send this request "
            "with "
            "the Stripe-Account header of a connected account that has requested the `treasury` "
            "capability."
        )
    account = _account(uow, scope, scope.account)
    capabilities = _capabilities(account)
    if not feature_rules.is_requested(capabilities, "treasury"):
        raise InvalidRequest(
            f"Account {scope.account} has not requested the `treasury` capability, which is "
            "required to "
            f"create a financial account. Request it first (POST /v1/accounts/{scope.account} with "
            "capabilities[treasury][requested]=true)."
        )
    is_default = not uow.docs.list(TYPE, scope.account, limit=1).records
    record = rules.new(registry.id_for(TYPE), scope.now(), params, is_default=is_default)
    requests = feature_rules.requests_from_params(params.get("features"))
    record = _with_address(scope, rules.with_features(record, capabilities, requests), account)
    # Nothing below can fail on the client's account.
    uow.docs.insert(TYPE, scope.account, record, rules.filter_keys(record))
    events.record(uow, scope, "treasury.financial_account.created", TYPE, record)
    return record


def update(uow: UnitOfWork, scope: Scope, fa_id: str, params: dict[str, Any]) -> dict[str, Any]:
    before = load(uow, scope, fa_id, for_update=True)
    after = rules.update(before, params)
    requests = feature_rules.requests_from_params(params.get("features"))
    return _save_features(uow, scope, before, after, requests)


def update_features(
    uow: UnitOfWork, scope: Scope, fa_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    before = load(uow, scope, fa_id, for_update=True)
    rules.check_open(before, "update the features of")
    return _save_features(uow, scope, before, before, feature_rules.requests_from_params(params))


def _save_features(
    uow: UnitOfWork,
    scope: Scope,
    before: dict[str, Any],
    after: dict[str, Any],
    requests: dict[str, bool],
) -> dict[str, Any]:
    account = _account(uow, scope, scope.account)
    after = _with_address(
        scope, rules.with_features(after, _capabilities(account), requests), account
    )
    if after != before:
        uow.docs.update(after, rules.filter_keys(after))
    if rules.features_changed(before, after):
        _features_event(uow, scope, before, after, scope.account)
    return after


def close(uow: UnitOfWork, scope: Scope, fa_id: str, params: dict[str, Any]) -> dict[str, Any]:
    before = load(uow, scope, fa_id, for_update=True)
    cards = uow.docs.list(
        "issuing.card", scope.account, filters={"financial_account": fa_id}, limit=None
    ).records
    live_cards = [card["id"] for card in cards if card.get("status") != "canceled"]
    rules.check_can_close(before, balances.financial_account_balance(uow, before), live_cards)
    account = _account(uow, scope, scope.account)
    after = rules.close(before, _capabilities(account), "closed_by_platform", params)
    uow.docs.update(after, rules.filter_keys(after))
    events.record(uow, scope, "treasury.financial_account.closed", TYPE, after)
    return after


def list_(uow: UnitOfWork, scope: Scope, params: dict[str, Any], **page_args: Any) -> Page:
    filters = {"status": params["status"]} if params.get("status") else {}
    return uow.docs.list(TYPE, scope.account, filters=filters, **page_args)


def refresh_features_for_account(uow: UnitOfWork, scope: Scope, account_id: str) -> None:
    """Re-evaluate the features of every financial account of ``account_id``.

    Called by the accounts service after capability statuses change, usually
    acting as the platform, so everything here is keyed on ``account_id``,
    never on ``scope.account``. A rejected account's open financial accounts
    are closed, as Stripe does (reason ``account_rejected``).
    """
    account = _account(uow, scope, account_id)
    capabilities = _capabilities(account)
    rejected = rules.account_rejected(account)
    for listed in uow.docs.list(TYPE, account_id, limit=None).records:
        before = uow.docs.get(TYPE, listed["id"], account_id, for_update=True) or listed
        after = _with_address(scope, rules.with_features(before, capabilities), account)
        closing = rejected and after["status"] == "open"
        if closing:
            after = rules.close(after, capabilities, "account_rejected")
        if after == before:
            continue
        uow.docs.update(after, rules.filter_keys(after))
        if closing:
            events.record(
                uow, scope, "treasury.financial_account.closed", TYPE, after, account=account_id
            )
        elif rules.features_changed(before, after):
            _features_event(uow, scope, before, after, account_id)


def _features_event(
    uow: UnitOfWork, scope: Scope, before: dict[str, Any], after: dict[str, Any], account_id: str
) -> None:
    # Only wire fields that show feature statuses (the stored features object is expand-only).
    changed = {
        k: v for k, v in events.changed_attributes(before, after).items() if k in _FEATURE_FIELDS
    }
    events.record(
        uow,
        scope,
        "treasury.financial_account.features_status_updated",
        TYPE,
        after,
        previous_attributes=changed,
        account=account_id,
    )


def _with_address(scope: Scope, record: dict[str, Any], account: dict[str, Any]) -> dict[str, Any]:
    """Issue the ABA account number the first time the feature is active; keep the holder name
    current."""
    holder = rules.account_holder_name(account)
    if not rules.needs_aba_number(record):
        return rules.with_holder_name(record, holder)
    number = "".join(str(secrets.randbelow(10)) for _ in range(ACCOUNT_NUMBER_DIGITS))
    return rules.with_aba_number(record, scope.box.seal(number).decode(), number[-4:], holder)
