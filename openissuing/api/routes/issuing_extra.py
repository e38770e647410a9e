"""/v1/issuing/tokens, /v1/issuing/personalization_designs (and their test helpers),
/v1/issuing/physical_bundles."""

from __future__ import annotations

from openissuing.api.routing import Call, route
from openissuing.services import issuing_tokens, personalization_designs

TOKEN = "issuing.token"
DESIGN = "issuing.personalization_design"
BUNDLE = "issuing.physical_bundle"


@route("GET", "/v1/issuing/tokens")
def list_tokens(call: Call) -> dict:
    page = issuing_tokens.list_(call.uow, call.scope, call.params, **call.list_args().as_kwargs())
    return call.render_list(TOKEN, page)


@route("GET", "/v1/issuing/tokens/{token}")
def retrieve_token(call: Call) -> dict:
    # Retrieve and update may show network_data (when expanded, as on Stripe).
    token = issuing_tokens.load(call.uow, call.scope, call.path["token"])
    return call.render(TOKEN, token, reveal_secrets=True)


@route("POST", "/v1/issuing/tokens/{token}")
def update_token(call: Call) -> dict:
    token = issuing_tokens.update(call.uow, call.scope, call.path["token"], call.params)
    return call.render(TOKEN, token, reveal_secrets=True)


@route("POST", "/v1/issuing/personalization_designs")
def create_design(call: Call) -> dict:
    return call.render(DESIGN, personalization_designs.create(call.uow, call.scope, call.params))


@route("GET", "/v1/issuing/personalization_designs/{personalization_design}")
def retrieve_design(call: Call) -> dict:
    design_id = call.path["personalization_design"]
    return call.render(DESIGN, personalization_designs.load(call.uow, call.scope, design_id))


@route("POST", "/v1/issuing/personalization_designs/{personalization_design}")
def update_design(call: Call) -> dict:
    design_id = call.path["personalization_design"]
    return call.render(
        DESIGN, personalization_designs.update(call.uow, call.scope, design_id, call.params)
    )


@route("GET", "/v1/issuing/personalization_designs")
def list_designs(call: Call) -> dict:
    page = personalization_designs.list_(
        call.uow, call.scope, call.params, **call.list_args().as_kwargs()
    )
    return call.render_list(DESIGN, page)


def _design_helper(action: str) -> None:
    @route(
        "POST",
        f"/v1/test_helpers/issuing/personalization_designs/{{personalization_design}}/{action}",
    )
    def helper(call: Call) -> dict:
        design_id = call.path["personalization_design"]
        return call.render(
            DESIGN,
            personalization_designs.helper(call.uow, call.scope, design_id, action, call.params),
        )


for _action in ("activate", "deactivate", "reject"):
    _design_helper(_action)


@route("GET", "/v1/issuing/physical_bundles")
def list_bundles(call: Call) -> dict:
    page = personalization_designs.list_bundles(call.params, **call.list_args().as_kwargs())
    return call.render_list(BUNDLE, page)


@route("GET", "/v1/issuing/physical_bundles/{physical_bundle}")
def retrieve_bundle(call: Call) -> dict:
    return call.render(BUNDLE, personalization_designs.bundle(call.path["physical_bundle"]))
