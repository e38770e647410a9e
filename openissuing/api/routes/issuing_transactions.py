"""/v1/issuing/transactions and their test helpers."""

from __future__ import annotations

from openissuing.api.routing import Call, route
from openissuing.services import issuing_transactions as transactions

TYPE = "issuing.transaction"


@route("GET", "/v1/issuing/transactions/{transaction}")
def retrieve(call: Call) -> dict:
    return call.render(
        TYPE, transactions.load(call.uow, call.scope, call.path["transaction"], param="id")
    )


@route("GET", "/v1/issuing/transactions")
def list_(call: Call) -> dict:
    return call.render_list(
        TYPE, transactions.list_(call.uow, call.scope, call.params, **call.list_args().as_kwargs())
    )


@route("POST", "/v1/issuing/transactions/{transaction}")
def update(call: Call) -> dict:
    return call.render(
        TYPE, transactions.update(call.uow, call.scope, call.path["transaction"], call.params)
    )


@route("POST", "/v1/test_helpers/issuing/transactions/create_force_capture")
def force_capture(call: Call) -> dict:
    return call.render(TYPE, transactions.force_capture(call.uow, call.scope, call.params))


@route("POST", "/v1/test_helpers/issuing/transactions/create_unlinked_refund")
def unlinked_refund(call: Call) -> dict:
    return call.render(TYPE, transactions.unlinked_refund(call.uow, call.scope, call.params))


@route("POST", "/v1/test_helpers/issuing/transactions/{transaction}/refund")
def refund(call: Call) -> dict:
    """Stripe answers with the capture named in the URL, not the refund it creates (that one is
    reached from the authorization's ``transactions`` and from ``issuing_transaction.created``)."""
    transactions.refund(call.uow, call.scope, call.path["transaction"], call.params)
    return call.render(
        TYPE, transactions.load(call.uow, call.scope, call.path["transaction"], param="transaction")
    )
