"""/v1/balance, /v1/topups, and the Issuing balance's funding instructions and test helper."""

from __future__ import annotations

from openissuing.api.pagination import created_range
from openissuing.api.routing import Call, route
from openissuing.services import issuing_balance, topups

TYPE = "topup"
FUNDING = "funding_instructions"


@route("GET", "/v1/balance")
def balance(call: Call) -> dict:
    return call.render("balance", issuing_balance.balance(call.uow, call.scope.account))


@route("POST", "/v1/topups")
def create(call: Call) -> dict:
    return call.render(TYPE, topups.create(call.uow, call.scope, call.params))


@route("GET", "/v1/topups/{topup}")
def retrieve(call: Call) -> dict:
    return call.render(TYPE, topups.retrieve(call.uow, call.scope, call.path["topup"]))


@route("POST", "/v1/topups/{topup}")
def update(call: Call) -> dict:
    return call.render(TYPE, topups.update(call.uow, call.scope, call.path["topup"], call.params))


@route("POST", "/v1/topups/{topup}/cancel")
def cancel(call: Call) -> dict:
    return call.render(TYPE, topups.cancel(call.uow, call.scope, call.path["topup"]))


@route("GET", "/v1/topups")
def list_(call: Call) -> dict:
    amounts = created_range(call.params.get("amount"), "amount")
    page = topups.list_(call.uow, call.scope, call.params, amounts, call.list_args().as_kwargs())
    return call.render_list(TYPE, page)


@route("POST", "/v1/issuing/funding_instructions")
def create_funding_instructions(call: Call) -> dict:
    return call.render(
        FUNDING, topups.create_funding_instructions(call.uow, call.scope, call.params)
    )


@route("GET", "/v1/issuing/funding_instructions")
def list_funding_instructions(call: Call) -> dict:
    page = topups.list_funding_instructions(call.uow, call.scope, call.list_args().as_kwargs())
    return call.render_list(FUNDING, page)


@route("POST", "/v1/test_helpers/issuing/fund_balance")
def fund_balance(call: Call) -> dict:
    return call.render(FUNDING, topups.fund_balance(call.uow, call.scope, call.params))
