"""/v1/treasury/financial_accounts and their /features and /close."""

from __future__ import annotations

from openissuing.api.routing import Call, route
from openissuing.services import financial_accounts
from openissuing.wire.financial_accounts import ACCOUNT_NUMBER_PATH, FEATURES_TYPE

TYPE = "treasury.financial_account"


def _render(call: Call, record: dict) -> dict:
    # The full ABA account number is shown only when exactly that path is expanded.
    return call.render(TYPE, record, reveal_secrets=ACCOUNT_NUMBER_PATH in call.expand)


@route("POST", "/v1/treasury/financial_accounts")
def create(call: Call) -> dict:
    return _render(call, financial_accounts.create(call.uow, call.scope, call.params))


@route("GET", "/v1/treasury/financial_accounts/{financial_account}")
def retrieve(call: Call) -> dict:
    return _render(
        call,
        financial_accounts.load(call.uow, call.scope, call.path["financial_account"], param="id"),
    )


@route("POST", "/v1/treasury/financial_accounts/{financial_account}")
def update(call: Call) -> dict:
    return _render(
        call,
        financial_accounts.update(
            call.uow, call.scope, call.path["financial_account"], call.params
        ),
    )


@route("POST", "/v1/treasury/financial_accounts/{financial_account}/close")
def close(call: Call) -> dict:
    return _render(
        call,
        financial_accounts.close(call.uow, call.scope, call.path["financial_account"], call.params),
    )


@route("GET", "/v1/treasury/financial_accounts/{financial_account}/features")
def retrieve_features(call: Call) -> dict:
    record = financial_accounts.load(call.uow, call.scope, call.path["financial_account"])
    return call.render(FEATURES_TYPE, record["features"])


@route("POST", "/v1/treasury/financial_accounts/{financial_account}/features")
def update_features(call: Call) -> dict:
    record = financial_accounts.update_features(
        call.uow, call.scope, call.path["financial_account"], call.params
    )
    return call.render(FEATURES_TYPE, record["features"])


@route("GET", "/v1/treasury/financial_accounts")
def list_(call: Call) -> dict:
    return call.render_list(
        TYPE,
        financial_accounts.list_(call.uow, call.scope, call.params, **call.list_args().as_kwargs()),
    )
