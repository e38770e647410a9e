"""event on the wire.

``data.object`` is a snapshot: the object as rendered when the event was recorded
(``services.events.record``), so an event shows the object as it was then, never as it is
now. Relations: ``object`` (that snapshot, or for an event stored before snapshots existed,
its record rendered now) and ``pending_webhooks`` (a live count, as on Stripe).
"""

from __future__ import annotations

import copy

from openissuing.settings import STRIPE_API_VERSION
from openissuing.wire import View, base


def event(record: dict, view: View) -> dict:
    out = base(record, "event")
    stored = record.get("data") or {}
    data = {"object": copy.deepcopy(view.related["object"])}
    if stored.get("previous_attributes") is not None:
        data["previous_attributes"] = stored["previous_attributes"]
    out["data"] = data
    # Stripe sends ``account`` only on connected accounts' events.
    if out.get("account") is None:
        out.pop("account", None)
    # Webhook delivery overrides this with the endpoint's version (see webhooks.dispatcher).
    out["api_version"] = record.get("api_version") or STRIPE_API_VERSION
    out["pending_webhooks"] = view.related["pending_webhooks"]
    out["request"] = record.get("request") or {"id": None, "idempotency_key": None}
    # Stripe's context names the account behind an event of a v2 account; never ours.
    out.setdefault("context", None)
    return out
