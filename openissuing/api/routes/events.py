"""/v1/events: the acting account's events of the last 30 days."""

from __future__ import annotations

from openissuing.api.routing import Call, route
from openissuing.services import deliveries

TYPE = "event"


@route("GET", "/v1/events/{id}")
def retrieve(call: Call) -> dict:
    return call.render(TYPE, deliveries.load_event(call.uow, call.scope, call.path["id"]))


@route("GET", "/v1/events")
def list_(call: Call) -> dict:
    page = deliveries.list_events(call.uow, call.scope, call.params, **call.list_args().as_kwargs())
    return call.render_list(TYPE, page)
