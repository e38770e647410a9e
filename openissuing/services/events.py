"""Events, written in the same transaction as the change they describe (an outbox).

``data.object`` is the domain record as it was after the change; delivery
(webhooks) reads from here later.
"""

from __future__ import annotations

from typing import Any

from openissuing import ids, observability
from openissuing.services import deliveries
from openissuing.services.scope import Scope
from openissuing.storage.uow import UnitOfWork


def record(
    uow: UnitOfWork,
    scope: Scope,
    event_type: str,
    object_type: str,
    obj: dict[str, Any],
    *,
    previous_attributes: dict[str, Any] | None = None,
    account: str | None = None,
) -> dict[str, Any]:
    """Store one event; ``account`` defaults to the acting connected account."""
    owner = account or scope.account
    event = {
        "id": ids.id_for("event"),
        "object": "event",
        "account": None if owner == scope.platform else owner,
        "api_version": None,
        "created": scope.now(),
        "data": {"object": obj, "object_type": object_type},
        "livemode": False,
        "pending_webhooks": 0,
        "request": {"id": scope.request_id, "idempotency_key": scope.idempotency_key},
        "type": event_type,
    }
    if previous_attributes is not None:
        event["data"]["previous_attributes"] = previous_attributes
    uow.docs.insert("event", owner, event, keys={"type": event_type})
    # The outbox: queue one delivery per matching webhook endpoint in this same transaction.
    deliveries.fan_out(uow, scope.platform, event, owner)
    observability.event_recorded(uow.after_commit, event_type, obj)  # counted once committed
    return event


def changed_attributes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Stripe's previous_attributes: the old values of top-level fields that changed."""
    return {key: before.get(key) for key in after if before.get(key) != after.get(key)}
