"""Events, written in the same transaction as the change they describe (an outbox).

``data.object`` is a snapshot: the object rendered for the wire at the moment the event is
recorded (``presenter.snapshot``), so reading the event later, or delivering it, shows the
object as it was when the event happened, as Stripe does. ``pending_webhooks`` is the
event's own live field, counted when the event is read.
"""

from __future__ import annotations

from typing import Any

from openissuing import observability
from openissuing.services import deliveries, presenter
from openissuing.services.scope import Scope
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import is_private, registry


class UnknownEventType(Exception):
    """An event type with no entry in ``wire.registry`` (a programming error, never a 4xx)."""


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
    if object_type not in registry.EVENT_OBJECT_TYPES.get(event_type, ()):
        raise UnknownEventType(f"{event_type} of {object_type} is not in wire.registry")
    owner = account or scope.account
    rendered = presenter.snapshot(uow, scope, object_type, obj, owner)
    event = {
        "id": registry.id_for("event"),
        "object": "event",
        "account": None if owner == scope.platform else owner,
        "api_version": None,
        "created": scope.now(),
        "data": {"object": rendered},
        "livemode": False,
        "pending_webhooks": 0,
        "request": {"id": scope.request_id, "idempotency_key": scope.idempotency_key},
        "type": event_type,
    }
    if previous_attributes is not None:
        event["data"]["previous_attributes"] = previous_attributes
    uow.docs.insert("event", owner, event, keys={"type": event_type})
    # The outbox: queue one delivery per matching webhook endpoint in this same transaction.
    deliveries.fan_out(uow, scope.platform, event, owner, scope.faults)
    presenter.remember(uow, object_type, obj, owner, rendered)
    observability.event_recorded(uow.after_commit, event_type, obj)  # counted once committed
    return event


def changed_attributes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Stripe's previous_attributes: the old values of top-level fields that changed.

    Private bookkeeping (keys starting with ``_``) is never on the wire, so never here either
    (``wire.is_private`` is the one rule)."""
    return {
        key: before.get(key)
        for key in after
        if not is_private(key) and before.get(key) != after.get(key)
    }
