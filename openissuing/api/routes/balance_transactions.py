"""/v1/balance_transactions, and the fraud-challenge test helper.

Balance transactions record the Stripe balance's movements (``services.balance_transactions``):
the Issuing balance of cards without a financial account, and top-ups. Fraud challenges (a
Stripe preview) are never raised here, so there is never one to respond to.
"""

from __future__ import annotations

from openissuing.api.routing import Call, route
from openissuing.domain.errors import InvalidRequest
from openissuing.services import authorizations, balance_transactions

TYPE = "balance_transaction"


@route("GET", "/v1/balance_transactions")
def list_(call: Call) -> dict:
    page = balance_transactions.list_(
        call.uow, call.scope, call.params, **call.list_args().as_kwargs()
    )
    return call.render_list(TYPE, page)


@route("GET", "/v1/balance_transactions/{id}")
def retrieve(call: Call) -> dict:
    return call.render(TYPE, balance_transactions.retrieve(call.uow, call.scope, call.path["id"]))


@route("POST", "/v1/test_helpers/issuing/authorizations/{authorization}/fraud_challenges/respond")
def respond_to_fraud_challenge(call: Call) -> dict:
    authorizations.load(call.uow, call.scope, call.path["authorization"])
    raise InvalidRequest(
        "This authorization has no pending fraud challenge to respond to.", param="authorization"
    )
