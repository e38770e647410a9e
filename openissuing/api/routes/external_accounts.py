"""/v1/accounts/{account}/external_accounts"""

from __future__ import annotations

from openissuing.api.routing import Call, route
from openissuing.services import external_accounts


@route("POST", "/v1/accounts/{account}/external_accounts")
def create(call: Call) -> dict:
    record = external_accounts.create(call.uow, call.scope, call.path["account"], call.params)
    return call.render(record["object"], record)


@route("GET", "/v1/accounts/{account}/external_accounts")
def list_(call: Call) -> dict:
    page = external_accounts.list_(
        call.uow, call.scope, call.path["account"], call.params, **call.list_args().as_kwargs()
    )
    # Bank accounts and cards in one list: each rendered as its own type.
    return {
        "object": "list",
        "data": [call.render(record["object"], record) for record in page.records],
        "has_more": page.has_more,
        "url": call.url_path,
    }


@route("GET", "/v1/accounts/{account}/external_accounts/{id}")
def retrieve(call: Call) -> dict:
    record = external_accounts.retrieve(call.uow, call.scope, call.path["account"], call.path["id"])
    return call.render(record["object"], record)


@route("POST", "/v1/accounts/{account}/external_accounts/{id}")
def update(call: Call) -> dict:
    record = external_accounts.update(
        call.uow, call.scope, call.path["account"], call.path["id"], call.params
    )
    return call.render(record["object"], record)


@route("DELETE", "/v1/accounts/{account}/external_accounts/{id}")
def delete(call: Call) -> dict:
    return external_accounts.delete(call.uow, call.scope, call.path["account"], call.path["id"])
