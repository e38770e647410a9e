"""/v1/treasury/debit_reversals: reverse an ACH received debit; list and retrieve reversals
(won Issuing disputes make card ones, see services.disputes)."""

from __future__ import annotations

from openissuing.api.routing import Call, route
from openissuing.services import debit_reversals

TYPE = debit_reversals.TYPE


@route("POST", "/v1/treasury/debit_reversals")
def create(call: Call) -> dict:
    return call.render(TYPE, debit_reversals.create(call.uow, call.scope, call.params))


@route("GET", "/v1/treasury/debit_reversals/{debit_reversal}")
def retrieve(call: Call) -> dict:
    return call.render(
        TYPE, debit_reversals.load(call.uow, call.scope, call.path["debit_reversal"])
    )


@route("GET", "/v1/treasury/debit_reversals")
def list_(call: Call) -> dict:
    page = debit_reversals.list_(call.uow, call.scope, call.params, **call.list_args().as_kwargs())
    return call.render_list(TYPE, page)
