"""/v1/ephemeral_keys (Issuing cards) and /v1/ephemeral_key_nonces (what Stripe.js calls)."""

from __future__ import annotations

from openissuing.api.routing import Call, route
from openissuing.services import ephemeral_keys

TYPE = "ephemeral_key"
NONCE = "ephemeral_key_nonce"


@route("POST", "/v1/ephemeral_key_nonces")
def create_nonce(call: Call) -> dict:
    # The private nonce is shown once, here (its stored idempotent copy is sealed).
    nonce = ephemeral_keys.create_nonce(call.uow, call.scope, call.params)
    return call.render(NONCE, nonce, reveal_secrets=True)


@route("POST", "/v1/ephemeral_keys")
def create(call: Call) -> dict:
    key = ephemeral_keys.create(call.uow, call.scope, call.params, call.stripe_version)
    return call.render(TYPE, key, reveal_secrets=True)  # the secret, once


@route("DELETE", "/v1/ephemeral_keys/{key}")
def delete(call: Call) -> dict:
    return call.render(TYPE, ephemeral_keys.delete(call.uow, call.scope, call.path["key"]))
