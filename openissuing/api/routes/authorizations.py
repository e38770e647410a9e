"""/v1/issuing/authorizations and their test helpers."""

from __future__ import annotations

from openissuing.api.routing import Call, Continuation, route
from openissuing.services import authorization_actions as actions
from openissuing.services import authorizations, issuing_transactions, recovery
from openissuing.services import realtime_authorizations as realtime

TYPE = "issuing.authorization"
TXN = "issuing.transaction"


@route("POST", "/v1/test_helpers/issuing/authorizations")
def create(call: Call) -> dict | Continuation:
    result = authorizations.create(call.uow, call.scope, call.params)
    if not isinstance(result, realtime.Pending):
        return call.render(TYPE, result)
    client = call.runtime.realtime
    # The platform decides in real time: ask it with no transaction open, then conclude.
    return Continuation(
        outside=lambda: client.ask(
            result.url, result.body, result.secret, latency_seconds=result.latency_seconds
        ),
        inside=lambda again, reply: again.render(
            TYPE,
            authorizations.conclude(again.uow, again.scope, result, reply, client.timeout_approves),
        ),
        resume=(recovery.REALTIME_AUTHORIZATION, result.authorization_id),
        outside_async=lambda: client.ask_async(
            result.url, result.body, result.secret, latency_seconds=result.latency_seconds
        ),
    )


@route("GET", "/v1/issuing/authorizations/{authorization}")
def retrieve(call: Call) -> dict:
    return call.render(TYPE, actions.retrieve(call.uow, call.scope, call.path["authorization"]))


@route("GET", "/v1/issuing/authorizations")
def list_(call: Call) -> dict:
    return call.render_list(
        TYPE, actions.list_(call.uow, call.scope, call.params, **call.list_args().as_kwargs())
    )


@route("POST", "/v1/issuing/authorizations/{authorization}")
def update(call: Call) -> dict:
    return call.render(
        TYPE, actions.update(call.uow, call.scope, call.path["authorization"], call.params)
    )


@route("POST", "/v1/issuing/authorizations/{authorization}/approve")
def approve(call: Call) -> dict:
    return call.render(
        TYPE,
        actions.record_api_decision(
            call.uow, call.scope, call.path["authorization"], True, call.params
        ),
    )


@route("POST", "/v1/issuing/authorizations/{authorization}/decline")
def decline(call: Call) -> dict:
    return call.render(
        TYPE,
        actions.record_api_decision(
            call.uow, call.scope, call.path["authorization"], False, call.params
        ),
    )


@route("POST", "/v1/test_helpers/issuing/authorizations/{authorization}/capture")
def capture(call: Call) -> dict:
    issuing_transactions.capture(call.uow, call.scope, call.path["authorization"], call.params)
    return call.render(TYPE, authorizations.load(call.uow, call.scope, call.path["authorization"]))


@route("POST", "/v1/test_helpers/issuing/authorizations/{authorization}/expire")
def expire(call: Call) -> dict:
    record = authorizations.load(call.uow, call.scope, call.path["authorization"], for_update=True)
    return call.render(TYPE, authorizations.expire(call.uow, call.scope, record))


@route("POST", "/v1/test_helpers/issuing/authorizations/{authorization}/increment")
def increment(call: Call) -> dict:
    return call.render(
        TYPE, actions.increment(call.uow, call.scope, call.path["authorization"], call.params)
    )


@route("POST", "/v1/test_helpers/issuing/authorizations/{authorization}/reverse")
def reverse(call: Call) -> dict:
    return call.render(
        TYPE, actions.reverse(call.uow, call.scope, call.path["authorization"], call.params)
    )


@route("POST", "/v1/test_helpers/issuing/authorizations/{authorization}/finalize_amount")
def finalize_amount(call: Call) -> dict:
    return call.render(
        TYPE, actions.finalize_amount(call.uow, call.scope, call.path["authorization"], call.params)
    )
