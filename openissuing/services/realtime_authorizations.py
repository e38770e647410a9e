"""Real-time authorizations: ask the platform, then decide — without holding a lock while asking.

Three steps, the middle one outside any database transaction:

1. ``begin`` (inside the request's first transaction, after the built-in
   checks approved): the authorization is stored ``pending`` with
   ``pending_request`` filled, ``approved=false``, ``amount=0``; the
   ``issuing_authorization.request`` event is recorded and rendered. No hold yet.
2. ``ask`` (no transaction): the signed event is POSTed to the endpoint,
   bounded by the deadline. Meanwhile the deprecated ``approve``/``decline``
   calls may record a decision on the stored authorization.
3. ``authorizations.conclude`` (a second transaction): the decision is read
   (API call first, then the answer, else the timeout default), the hold is
   placed only if it approves and the cash is still there (the ledger checks
   under its lock), and ``issuing_authorization.created`` is recorded.

This module is the lower half: ``authorizations`` calls it, never the other
way round. The deprecated approve/decline calls are
``authorization_actions.record_api_decision``.

Which endpoint: an enabled webhook endpoint that names
``issuing_authorization.request`` explicitly in ``enabled_events`` (a ``*``
subscriber is an ordinary listener, not a decision maker) and hears the
account — the platform's Connect endpoint, or the account's own.
The timeout default is the setting ``OPENISSUING_REALTIME_TIMEOUT_DECISION``
(approve|decline, default decline), overridable per connected account with
the account metadata key ``openissuing_realtime_timeout_decision``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openissuing import wire
from openissuing.domain import webhook_matching as matching
from openissuing.domain.issuing import authorizations as domain
from openissuing.domain.issuing import lifecycle
from openissuing.services import events, presenter, webhook_endpoints
from openissuing.services.scope import Scope
from openissuing.storage.issuing_side import enabled_webhook_endpoints
from openissuing.storage.uow import UnitOfWork

TYPE = "issuing.authorization"
REQUEST_EVENT = "issuing_authorization.request"
TIMEOUT_METADATA_KEY = "openissuing_realtime_timeout_decision"


@dataclass(frozen=True)
class Pending:
    """An authorization waiting for the platform: what step 2 needs, no database handles."""

    authorization_id: str
    url: str
    secret: str
    body: str
    # A sandbox's realtime_slow fault: how late the handler answers, simulated before asking.
    latency_seconds: float = 0


def find_endpoint(uow: UnitOfWork, scope: Scope) -> dict[str, Any] | None:
    owners = matching.candidate_owners(scope.account, scope.platform)
    for owner, endpoint in enabled_webhook_endpoints(uow.docs, owners):
        if REQUEST_EVENT in (endpoint.get("enabled_events") or []) and matching.hears_account(
            endpoint, owner, scope.account, scope.platform
        ):
            return endpoint
    return None


def begin(
    uow: UnitOfWork,
    scope: Scope,
    record: dict[str, Any],
    request: domain.Request,
    endpoint: dict[str, Any],
    now: int,
) -> Pending:
    # Pending while the platform decides; ``authorizations.conclude`` moves it on.
    record["status"] = lifecycle.transition(None, lifecycle.PENDING)
    record["pending_request"] = {
        "amount": request.amount,
        "amount_details": record["amount_details"],
        "currency": request.currency,
        "is_amount_controllable": bool(record.pop("_is_amount_controllable", False)),
        "merchant_amount": record["merchant_amount"],
        "merchant_currency": record["merchant_currency"],
        "network_risk_score": None,
    }
    record["_requested"] = request.amount
    record["amount"] = 0
    uow.docs.insert(TYPE, scope.account, record, domain.index_keys(record))
    event = events.record(uow, scope, REQUEST_EVENT, TYPE, record)
    payload = presenter.present(uow, scope, "event", event)
    secret = webhook_endpoints.secret_for(uow, scope.box, endpoint["id"])
    return Pending(record["id"], endpoint["url"], secret or "", wire.pretty(payload))


def timeout_approves(uow: UnitOfWork, scope: Scope, default: bool) -> bool:
    if scope.is_platform:
        return default
    account = uow.docs.get("account", scope.account, scope.platform) or {}
    choice = (account.get("metadata") or {}).get(TIMEOUT_METADATA_KEY)
    return default if choice not in ("approve", "decline") else choice == "approve"
