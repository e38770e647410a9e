"""/v1/accounts/{account}/persons"""

from __future__ import annotations

from openissuing.api.routing import Call, route
from openissuing.services import persons

TYPE = "person"


@route("POST", "/v1/accounts/{account}/persons")
def create(call: Call) -> dict:
    return call.render(
        TYPE, persons.create(call.uow, call.scope, call.path["account"], call.params)
    )


@route("GET", "/v1/accounts/{account}/persons")
def list_(call: Call) -> dict:
    page = persons.list_(
        call.uow,
        call.scope,
        call.path["account"],
        call.params,
        **call.list_args().as_kwargs(),
    )
    return call.render_list(TYPE, page)


@route("GET", "/v1/accounts/{account}/persons/{person}")
def retrieve(call: Call) -> dict:
    record = persons.retrieve(call.uow, call.scope, call.path["account"], call.path["person"])
    return call.render(TYPE, record)


@route("POST", "/v1/accounts/{account}/persons/{person}")
def update(call: Call) -> dict:
    record = persons.update(
        call.uow, call.scope, call.path["account"], call.path["person"], call.params
    )
    return call.render(TYPE, record)


@route("DELETE", "/v1/accounts/{account}/persons/{person}")
def delete(call: Call) -> dict:
    return persons.delete(call.uow, call.scope, call.path["account"], call.path["person"])
