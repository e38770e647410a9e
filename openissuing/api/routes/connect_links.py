"""/v1/account_links and /v1/accounts/{account}/login_links"""

from __future__ import annotations

from openissuing.api.routing import Call, route
from openissuing.services import connect_links


@route("POST", "/v1/account_links")
def create_account_link(call: Call) -> dict:
    record = connect_links.create_account_link(call.uow, call.scope, call.params, call.base_url)
    # The url is a bearer secret: the stored idempotent copy of this answer is sealed.
    return call.render("account_link", record, reveal_secrets=True)


@route("POST", "/v1/accounts/{account}/login_links")
def create_login_link(call: Call) -> dict:
    record = connect_links.create_login_link(
        call.uow, call.scope, call.path["account"], call.base_url
    )
    return call.render("login_link", record, reveal_secrets=True)
