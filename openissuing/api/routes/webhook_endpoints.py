"""/v1/webhook_endpoints"""

from __future__ import annotations

from openissuing.api.routing import Call, route
from openissuing.services import webhook_endpoints

TYPE = "webhook_endpoint"


@route("POST", "/v1/webhook_endpoints")
def create(call: Call) -> dict:
    record, secret = webhook_endpoints.create(call.uow, call.scope, call.params)
    # The only response that ever carries the signing secret.
    return call.render(TYPE, dict(record, secret=secret), reveal_secrets=True)


@route("GET", "/v1/webhook_endpoints/{webhook_endpoint}")
def retrieve(call: Call) -> dict:
    return call.render(
        TYPE, webhook_endpoints.load(call.uow, call.scope, call.path["webhook_endpoint"])
    )


@route("POST", "/v1/webhook_endpoints/{webhook_endpoint}")
def update(call: Call) -> dict:
    return call.render(
        TYPE,
        webhook_endpoints.update(call.uow, call.scope, call.path["webhook_endpoint"], call.params),
    )


@route("DELETE", "/v1/webhook_endpoints/{webhook_endpoint}")
def delete(call: Call) -> dict:
    return webhook_endpoints.delete(call.uow, call.scope, call.path["webhook_endpoint"])


@route("GET", "/v1/webhook_endpoints")
def list_(call: Call) -> dict:
    return call.render_list(
        TYPE, webhook_endpoints.list_(call.uow, call.scope, **call.list_args().as_kwargs())
    )
