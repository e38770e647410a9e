"""/v1/issuing/cards and the card-shipping test helpers."""

from __future__ import annotations

from openissuing.api.routing import Call, route
from openissuing.services import cards

TYPE = "issuing.card"


@route("POST", "/v1/issuing/cards")
def create(call: Call) -> dict:
    return call.render(TYPE, cards.create(call.uow, call.scope, call.params))


@route("GET", "/v1/issuing/cards/{card}")
def retrieve(call: Call) -> dict:
    # The only endpoint allowed to reveal number/cvc (and only when expanded).
    return call.render(
        TYPE, cards.load(call.uow, call.scope, call.path["card"]), reveal_secrets=True
    )


@route("POST", "/v1/issuing/cards/{card}")
def update(call: Call) -> dict:
    return call.render(TYPE, cards.update(call.uow, call.scope, call.path["card"], call.params))


@route("GET", "/v1/issuing/cards")
def list_(call: Call) -> dict:
    return call.render_list(
        TYPE, cards.list_(call.uow, call.scope, call.params, **call.list_args().as_kwargs())
    )


def _shipping_helper(action: str) -> None:
    @route("POST", f"/v1/test_helpers/issuing/cards/{{card}}/shipping/{action}")
    def helper(call: Call) -> dict:
        return call.render(
            TYPE, cards.advance_shipping(call.uow, call.scope, call.path["card"], action)
        )


for _action in ("submit", "ship", "deliver", "fail", "return"):
    _shipping_helper(_action)
