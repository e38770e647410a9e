"""/v1/issuing/disputes: create, retrieve, update, list, submit."""

from __future__ import annotations

from openissuing.api.routing import Call, route
from openissuing.services import disputes

TYPE = disputes.TYPE


@route("POST", "/v1/issuing/disputes")
def create(call: Call) -> dict:
    return call.render(TYPE, disputes.create(call.uow, call.scope, call.params))


@route("GET", "/v1/issuing/disputes/{dispute}")
def retrieve(call: Call) -> dict:
    return call.render(TYPE, disputes.retrieve(call.uow, call.scope, call.path["dispute"]))


@route("GET", "/v1/issuing/disputes")
def list_(call: Call) -> dict:
    return call.render_list(
        TYPE, disputes.list_(call.uow, call.scope, call.params, **call.list_args().as_kwargs())
    )


@route("POST", "/v1/issuing/disputes/{dispute}")
def update(call: Call) -> dict:
    return call.render(
        TYPE, disputes.update(call.uow, call.scope, call.path["dispute"], call.params)
    )


@route("POST", "/v1/issuing/disputes/{dispute}/submit")
def submit(call: Call) -> dict:
    return call.render(
        TYPE, disputes.submit(call.uow, call.scope, call.path["dispute"], call.params)
    )
