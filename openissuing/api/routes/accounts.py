"""/v1/account, /v1/accounts and /v1/accounts/{account}/capabilities"""

from __future__ import annotations

from openissuing.api.routing import Call, route
from openissuing.services import account_setup, accounts

TYPE = "account"
CAPABILITY = "capability"


@route("GET", "/v1/account")
def retrieve_current(call: Call) -> dict:
    return call.render(TYPE, accounts.current(call.uow, call.scope))


@route("POST", "/v1/accounts")
def create(call: Call) -> dict:
    return call.render(TYPE, account_setup.create(call.uow, call.scope, call.params))


@route("GET", "/v1/accounts")
def list_(call: Call) -> dict:
    return call.render_list(
        TYPE, accounts.list_(call.uow, call.scope, call.params, **call.list_args().as_kwargs())
    )


@route("GET", "/v1/accounts/{account}")
def retrieve(call: Call) -> dict:
    return call.render(TYPE, accounts.load(call.uow, call.scope, call.path["account"]))


@route("POST", "/v1/accounts/{account}")
def update(call: Call) -> dict:
    return call.render(
        TYPE, account_setup.update(call.uow, call.scope, call.path["account"], call.params)
    )


@route("DELETE", "/v1/accounts/{account}")
def delete(call: Call) -> dict:
    return accounts.delete(call.uow, call.scope, call.path["account"])


@route("POST", "/v1/accounts/{account}/reject")
def reject(call: Call) -> dict:
    return call.render(
        TYPE, accounts.reject(call.uow, call.scope, call.path["account"], call.params)
    )


@route("POST", "/v1/accounts/{account}/unreject")
def unreject(call: Call) -> dict:
    return call.render(TYPE, accounts.unreject(call.uow, call.scope, call.path["account"]))


@route("GET", "/v1/accounts/{account}/capabilities")
def list_capabilities(call: Call) -> dict:
    return call.render_list(
        CAPABILITY, accounts.list_capabilities(call.uow, call.scope, call.path["account"])
    )


@route("GET", "/v1/accounts/{account}/capabilities/{capability}")
def retrieve_capability(call: Call) -> dict:
    record = accounts.retrieve_capability(
        call.uow, call.scope, call.path["account"], call.path["capability"]
    )
    return call.render(CAPABILITY, record)


@route("POST", "/v1/accounts/{account}/capabilities/{capability}")
def update_capability(call: Call) -> dict:
    record = accounts.update_capability(
        call.uow, call.scope, call.path["account"], call.path["capability"], call.params
    )
    return call.render(CAPABILITY, record)
