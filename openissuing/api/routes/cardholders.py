"""/v1/issuing/cardholders"""

from __future__ import annotations

from openissuing.api.routing import Call, route
from openissuing.services import cardholders

TYPE = "issuing.cardholder"


@route("POST", "/v1/issuing/cardholders")
def create(call: Call) -> dict:
    return call.render(TYPE, cardholders.create(call.uow, call.scope, call.params))


@route("GET", "/v1/issuing/cardholders/{cardholder}")
def retrieve(call: Call) -> dict:
    return call.render(
        TYPE, cardholders.load(call.uow, call.scope, call.path["cardholder"], param="id")
    )


@route("POST", "/v1/issuing/cardholders/{cardholder}")
def update(call: Call) -> dict:
    return call.render(
        TYPE, cardholders.update(call.uow, call.scope, call.path["cardholder"], call.params)
    )


@route("GET", "/v1/issuing/cardholders")
def list_(call: Call) -> dict:
    return call.render_list(
        TYPE, cardholders.list_(call.uow, call.scope, call.params, **call.list_args().as_kwargs())
    )
