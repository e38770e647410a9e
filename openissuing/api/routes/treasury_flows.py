"""Received credits/debits (and their test helpers), Treasury transactions and entries."""

from __future__ import annotations

from openissuing.api.routing import Call, route
from openissuing.services import received_flows, treasury_records

CREDIT, DEBIT = received_flows.CREDIT, received_flows.DEBIT
TRANSACTION, ENTRY = treasury_records.TRANSACTION, treasury_records.ENTRY


@route("POST", "/v1/test_helpers/treasury/received_credits")
def create_received_credit(call: Call) -> dict:
    return call.render(CREDIT, received_flows.create_credit(call.uow, call.scope, call.params))


@route("POST", "/v1/test_helpers/treasury/received_debits")
def create_received_debit(call: Call) -> dict:
    return call.render(DEBIT, received_flows.create_debit(call.uow, call.scope, call.params))


@route("GET", "/v1/treasury/received_credits/{id}")
def retrieve_received_credit(call: Call) -> dict:
    return call.render(CREDIT, received_flows.load(call.uow, call.scope, CREDIT, call.path["id"]))


@route("GET", "/v1/treasury/received_debits/{id}")
def retrieve_received_debit(call: Call) -> dict:
    return call.render(DEBIT, received_flows.load(call.uow, call.scope, DEBIT, call.path["id"]))


@route("GET", "/v1/treasury/received_credits")
def list_received_credits(call: Call) -> dict:
    page = received_flows.list_(
        call.uow, call.scope, CREDIT, call.params, **call.list_args().as_kwargs()
    )
    return call.render_list(CREDIT, page)


@route("GET", "/v1/treasury/received_debits")
def list_received_debits(call: Call) -> dict:
    page = received_flows.list_(
        call.uow, call.scope, DEBIT, call.params, **call.list_args().as_kwargs()
    )
    return call.render_list(DEBIT, page)


@route("GET", "/v1/treasury/transactions/{id}")
def retrieve_transaction(call: Call) -> dict:
    return call.render(
        TRANSACTION, received_flows.load(call.uow, call.scope, TRANSACTION, call.path["id"])
    )


@route("GET", "/v1/treasury/transactions")
def list_transactions(call: Call) -> dict:
    page = received_flows.list_(
        call.uow, call.scope, TRANSACTION, call.params, **call.list_args().as_kwargs()
    )
    return call.render_list(TRANSACTION, page)


@route("GET", "/v1/treasury/transaction_entries/{id}")
def retrieve_entry(call: Call) -> dict:
    return call.render(ENTRY, received_flows.load(call.uow, call.scope, ENTRY, call.path["id"]))


@route("GET", "/v1/treasury/transaction_entries")
def list_entries(call: Call) -> dict:
    page = received_flows.list_(
        call.uow, call.scope, ENTRY, call.params, **call.list_args().as_kwargs()
    )
    return call.render_list(ENTRY, page)
