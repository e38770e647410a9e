"""/v1/balance_transactions, and the fraud-challenge test helper.

Every card here draws on a Treasury financial account, and Treasury-backed
Issuing moves money through Treasury objects (received debits and credits,
debit reversals), not through the Stripe balance; so, as on Stripe for such
cards, there are no Issuing balance transactions: the list is empty and any id
is unknown. Fraud challenges (a Stripe preview) are never raised here, so
there is never one to respond to.
"""

from __future__ import annotations

from openissuing.api.routing import Call, route
from openissuing.domain.errors import InvalidRequest, ResourceMissing
from openissuing.services import authorizations
from openissuing.storage.documents import Page


@route("GET", "/v1/balance_transactions")
def list_(call: Call) -> dict:
    args = call.list_args()  # the paging parameters are still validated
    for param, cursor in (
        ("starting_after", args.starting_after),
        ("ending_before", args.ending_before),
    ):
        if cursor is not None:  # there is no balance transaction a cursor could name
            raise ResourceMissing("balance_transaction", cursor, param=param)
    return call.render_list("balance_transaction", Page([], False))


@route("GET", "/v1/balance_transactions/{id}")
def retrieve(call: Call) -> dict:
    raise ResourceMissing("balance_transaction", call.path["id"])


@route("POST", "/v1/test_helpers/issuing/authorizations/{authorization}/fraud_challenges/respond")
def respond_to_fraud_challenge(call: Call) -> dict:
    authorizations.load(call.uow, call.scope, call.path["authorization"])
    raise InvalidRequest(
        "This authorization has no pending fraud challenge to respond to.", param="authorization"
    )
