"""Real-time authorizations: ask the platform, then decide — without holding a lock while asking.

Three steps, the middle one outside any database transaction:

1. ``begin`` (inside the request's first transaction, after the built-in
   checks approved): the authorization is stored ``pending`` with
   ``pending_request`` filled, ``approved=false``, ``amount=0``; the
   ``issuing_authorization.request`` event is recorded and rendered. No hold yet.
2. ``ask`` (no transaction): the signed event is POSTed to the endpoint,
   bounded by the deadline. Meanwhile the deprecated ``approve``/``decline``
   calls may record a decision on the stored authorization.
3. ``conclude`` (a second transaction): the decision is read (API call first,
   then the answer, else the timeout default), the hold is placed only if it
   approves and the cash is still there (the ledger checks under its lock),
   and ``issuing_authorization.created`` is recorded.

Which endpoint: an enabled webhook endpoint that names
``issuing_authorization.request`` explicitly in ``enabled_events`` (a ``*``
subscriber is an ordinary listener, not a decision maker) and hears the
account — the platform's Connect endpoint, or the account's own.
The timeout default is the setting ``OPENISSUING_REALTIME_TIMEOUT_DECISION``
(approve|decline, default decline), overridable per connected account with
the account metadata key ``openissuing_realtime_timeout_decision``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from openissuing.domain import webhook_matching as matching
from openissuing.domain.errors import InvalidRequest
from openissuing.domain.issuing import authorizations as domain
from openissuing.domain.issuing import realtime as rules
from openissuing.services import authorizations, events, presenter, webhook_endpoints
from openissuing.services.scope import Scope
from openissuing.storage.uow import UnitOfWork

REQUEST_EVENT = "issuing_authorization.request"
TIMEOUT_METADATA_KEY = "openissuing_realtime_timeout_decision"


@dataclass(frozen=True)
class Pending:
    """An authorization waiting for the platform: what step 2 needs, no database handles."""

    authorization_id: str
    url: str
    secret: str
    body: str


def find_endpoint(uow: UnitOfWork, scope: Scope) -> dict[str, Any] | None:
    owners = matching.candidate_owners(scope.account, scope.platform)
    rows = uow.docs.raw.all(
        "SELECT o.owner, o.data FROM objects o JOIN object_keys k ON k.object_id = o.id "
        f"WHERE o.type = 'webhook_endpoint' AND o.owner IN ({', '.join('?' * len(owners))}) "
        "AND k.name = 'status' AND k.value = 'enabled' ORDER BY o.id",
        tuple(owners),
    )
    for owner, data in rows:
        endpoint = json.loads(data)
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
    record["status"] = "pending"
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
    uow.docs.insert(authorizations.TYPE, scope.account, record, authorizations._keys(record))
    event = events.record(uow, scope, REQUEST_EVENT, authorizations.TYPE, record)
    payload = presenter.present(uow, scope, "event", event)
    secret = webhook_endpoints.secret_for(uow, scope.box, endpoint["id"])
    return Pending(record["id"], endpoint["url"], secret or "", json.dumps(payload, indent=2))


def conclude(
    uow: UnitOfWork,
    scope: Scope,
    pending: Pending,
    reply: rules.Reply,
    timeout_approves_default: bool,
) -> dict[str, Any]:
    record = authorizations.load(uow, scope, pending.authorization_id, for_update=True)
    request = record["pending_request"]
    outcome = rules.decide(
        reply,
        record.pop("_api_decision", None),
        requested=record["_requested"],
        amount_controllable=request["is_amount_controllable"],
        timeout_approves=_timeout_approves(uow, scope, timeout_approves_default),
    )
    now = scope.now()
    record["pending_request"] = None
    if outcome.metadata:
        record["metadata"] = {**record["metadata"], **outcome.metadata}
    if outcome.decision.approved:
        authorizations.approve_with_hold_last(
            uow, scope, record, outcome.amount, now, outcome.decision, insert=False
        )
    else:
        authorizations.finish(
            uow, scope, record, outcome.decision, outcome.amount, now, insert=False
        )
    return record


def _timeout_approves(uow: UnitOfWork, scope: Scope, default: bool) -> bool:
    if scope.is_platform:
        return default
    account = uow.docs.get("account", scope.account, scope.platform) or {}
    choice = (account.get("metadata") or {}).get(TIMEOUT_METADATA_KEY)
    return default if choice not in ("approve", "decline") else choice == "approve"


def record_api_decision(
    uow: UnitOfWork, scope: Scope, auth_id: str, approve: bool, params: dict[str, Any]
) -> dict[str, Any]:
    """The deprecated approve/decline calls: valid only while the request is in flight."""
    record = authorizations.load(uow, scope, auth_id, for_update=True, param="authorization")
    if record.get("pending_request") is None:
        verb = "approved" if approve else "declined"
        raise InvalidRequest(
            f"This authorization has already been decided and cannot be {verb}. Approve or decline "
            "only while its issuing_authorization.request webhook is in flight.",
            param="authorization",
        )
    if record.get("_api_decision") is not None:
        raise InvalidRequest(
            "This authorization was already approved or declined by an API call.",
            param="authorization",
        )
    decision: dict[str, Any] = {"approved": approve, "metadata": params.get("metadata") or None}
    if approve and params.get("amount") is not None:
        if params["amount"] <= 0:
            raise InvalidRequest("The amount must be greater than 0.", param="amount")
        decision["amount"] = params["amount"]
    record["_api_decision"] = decision
    uow.docs.update(record)
    view = dict(record)
    view["approved"] = approve
    return view
