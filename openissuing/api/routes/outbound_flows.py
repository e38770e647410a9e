"""/v1/treasury/outbound_payments and /v1/treasury/outbound_transfers, with their test helpers
(post, fail, return, tracking details); see services.outbound_flows."""

from __future__ import annotations

from openissuing.api.routing import Call, route
from openissuing.services import outbound_flows

PAYMENT, TRANSFER = outbound_flows.PAYMENT, outbound_flows.TRANSFER
PAYMENTS = "/v1/treasury/outbound_payments"
TRANSFERS = "/v1/treasury/outbound_transfers"
PAYMENT_HELPERS = "/v1/test_helpers/treasury/outbound_payments/{id}"
TRANSFER_HELPERS = "/v1/test_helpers/treasury/outbound_transfers/{outbound_transfer}"


def _act(call: Call, object_type: str, name: str, action: str) -> dict:
    record = outbound_flows.act(
        call.uow, call.scope, object_type, call.path[name], action, call.params
    )
    return call.render(object_type, record)


def _list(call: Call, object_type: str) -> dict:
    page = outbound_flows.list_(
        call.uow, call.scope, object_type, call.params, **call.list_args().as_kwargs()
    )
    return call.render_list(object_type, page)


def _tracking(call: Call, object_type: str, name: str) -> dict:
    record = outbound_flows.update_tracking(
        call.uow, call.scope, object_type, call.path[name], call.params
    )
    return call.render(object_type, record)


# ------------------------------------------------------------------ outbound payments


@route("POST", PAYMENTS)
def create_payment(call: Call) -> dict:
    return call.render(PAYMENT, outbound_flows.create(call.uow, call.scope, PAYMENT, call.params))


@route("GET", PAYMENTS + "/{id}")
def retrieve_payment(call: Call) -> dict:
    return call.render(PAYMENT, outbound_flows.load(call.uow, call.scope, PAYMENT, call.path["id"]))


@route("GET", PAYMENTS)
def list_payments(call: Call) -> dict:
    return _list(call, PAYMENT)


@route("POST", PAYMENTS + "/{id}/cancel")
def cancel_payment(call: Call) -> dict:
    return _act(call, PAYMENT, "id", "cancel")


@route("POST", PAYMENT_HELPERS + "/post")
def post_payment(call: Call) -> dict:
    return _act(call, PAYMENT, "id", "post")


@route("POST", PAYMENT_HELPERS + "/fail")
def fail_payment(call: Call) -> dict:
    return _act(call, PAYMENT, "id", "fail")


@route("POST", PAYMENT_HELPERS + "/return")
def return_payment(call: Call) -> dict:
    return _act(call, PAYMENT, "id", "return")


@route("POST", PAYMENT_HELPERS)
def update_payment(call: Call) -> dict:
    return _tracking(call, PAYMENT, "id")


# ------------------------------------------------------------------ outbound transfers


@route("POST", TRANSFERS)
def create_transfer(call: Call) -> dict:
    return call.render(TRANSFER, outbound_flows.create(call.uow, call.scope, TRANSFER, call.params))


@route("GET", TRANSFERS + "/{outbound_transfer}")
def retrieve_transfer(call: Call) -> dict:
    record = outbound_flows.load(call.uow, call.scope, TRANSFER, call.path["outbound_transfer"])
    return call.render(TRANSFER, record)


@route("GET", TRANSFERS)
def list_transfers(call: Call) -> dict:
    return _list(call, TRANSFER)


@route("POST", TRANSFERS + "/{outbound_transfer}/cancel")
def cancel_transfer(call: Call) -> dict:
    return _act(call, TRANSFER, "outbound_transfer", "cancel")


@route("POST", TRANSFER_HELPERS + "/post")
def post_transfer(call: Call) -> dict:
    return _act(call, TRANSFER, "outbound_transfer", "post")


@route("POST", TRANSFER_HELPERS + "/fail")
def fail_transfer(call: Call) -> dict:
    return _act(call, TRANSFER, "outbound_transfer", "fail")


@route("POST", TRANSFER_HELPERS + "/return")
def return_transfer(call: Call) -> dict:
    return _act(call, TRANSFER, "outbound_transfer", "return")


@route("POST", TRANSFER_HELPERS)
def update_transfer(call: Call) -> dict:
    return _tracking(call, TRANSFER, "outbound_transfer")
