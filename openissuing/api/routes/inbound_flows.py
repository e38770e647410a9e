"""Treasury money in: /v1/treasury/inbound_transfers (and their test helpers) and
/v1/treasury/credit_reversals."""

from __future__ import annotations

from openissuing.api.routing import Call, route
from openissuing.services import credit_reversals, inbound_transfers

TRANSFER = inbound_transfers.TYPE
REVERSAL = credit_reversals.TYPE


@route("POST", "/v1/treasury/inbound_transfers")
def create_inbound_transfer(call: Call) -> dict:
    return call.render(TRANSFER, inbound_transfers.create(call.uow, call.scope, call.params))


@route("GET", "/v1/treasury/inbound_transfers/{id}")
def retrieve_inbound_transfer(call: Call) -> dict:
    return call.render(TRANSFER, inbound_transfers.load(call.uow, call.scope, call.path["id"]))


@route("GET", "/v1/treasury/inbound_transfers")
def list_inbound_transfers(call: Call) -> dict:
    page = inbound_transfers.list_(
        call.uow, call.scope, call.params, **call.list_args().as_kwargs()
    )
    return call.render_list(TRANSFER, page)


def _act(call: Call, transfer_id: str, action: str) -> dict:
    changed = inbound_transfers.act(call.uow, call.scope, transfer_id, action, call.params)
    return call.render(TRANSFER, changed)


@route("POST", "/v1/treasury/inbound_transfers/{inbound_transfer}/cancel")
def cancel_inbound_transfer(call: Call) -> dict:
    return _act(call, call.path["inbound_transfer"], "cancel")


@route("POST", "/v1/test_helpers/treasury/inbound_transfers/{id}/succeed")
def succeed_inbound_transfer(call: Call) -> dict:
    return _act(call, call.path["id"], "succeed")


@route("POST", "/v1/test_helpers/treasury/inbound_transfers/{id}/fail")
def fail_inbound_transfer(call: Call) -> dict:
    return _act(call, call.path["id"], "fail")


@route("POST", "/v1/test_helpers/treasury/inbound_transfers/{id}/return")
def return_inbound_transfer(call: Call) -> dict:
    return _act(call, call.path["id"], "return")


@route("POST", "/v1/treasury/credit_reversals")
def create_credit_reversal(call: Call) -> dict:
    return call.render(REVERSAL, credit_reversals.create(call.uow, call.scope, call.params))


@route("GET", "/v1/treasury/credit_reversals/{credit_reversal}")
def retrieve_credit_reversal(call: Call) -> dict:
    return call.render(
        REVERSAL, credit_reversals.load(call.uow, call.scope, call.path["credit_reversal"])
    )


@route("GET", "/v1/treasury/credit_reversals")
def list_credit_reversals(call: Call) -> dict:
    page = credit_reversals.list_(call.uow, call.scope, call.params, **call.list_args().as_kwargs())
    return call.render_list(REVERSAL, page)
