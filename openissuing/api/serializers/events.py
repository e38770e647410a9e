"""event on the wire.

``data.object`` is stored as the domain record after the change, tagged with
its Stripe object type (``data.object_type``, never sent); it is rendered here
through that type's own serializer, so an event shows the object exactly as
retrieving it would have shown it then.
"""

from __future__ import annotations

from typing import Any

from openissuing.api.render import SERIALIZERS, RenderContext, base, render, serializer
from openissuing.services import deliveries
from openissuing.settings import STRIPE_API_VERSION


def data_object(
    object_type: str | None, record: dict[str, Any], ctx: RenderContext
) -> dict[str, Any]:
    if object_type in SERIALIZERS:
        # A fresh context: the event's own expand[] and secret reveal do not apply inside.
        return render(object_type, record, RenderContext(ctx.uow, ctx.scope))
    out = dict(record)
    if object_type:
        out["object"] = object_type
    return out


@serializer("event")
def event(record: dict, ctx: RenderContext) -> dict:
    out = base(record, "event")
    stored = record.get("data") or {}
    data: dict[str, Any] = {
        "object": data_object(stored.get("object_type"), stored.get("object") or {}, ctx)
    }
    if stored.get("previous_attributes") is not None:
        data["previous_attributes"] = stored["previous_attributes"]
    out["data"] = data
    # Stripe sends ``account`` only on connected accounts' events.
    if out.get("account") is None:
        out.pop("account", None)
    # Webhook delivery overrides this with the endpoint's version (see webhooks.dispatcher).
    out["api_version"] = record.get("api_version") or STRIPE_API_VERSION
    out["pending_webhooks"] = deliveries.pending_count(ctx.uow, record["id"])
    out["request"] = record.get("request") or {"id": None, "idempotency_key": None}
    return out
