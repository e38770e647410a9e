"""Every SDK method in openissuing's namespaces reaches a route of its own.

The methods are read off the installed ``stripe`` SDK (``tools/sdk_surface.py``), never a
hand-kept list, and each is called through the SDK as a user would, with ids that name nothing
and no parameters: the answer may be any Stripe error (404 for the unknown id, 400 for a missing
parameter), but never Stripe's "Unrecognized request URL", which is what a route that does not
exist answers.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest
import stripe

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import sdk_surface  # noqa: E402

ENDPOINTS = sdk_surface.endpoints()


def _call(client: stripe.StripeClient, endpoint: sdk_surface.Endpoint) -> str | None:
    """Call the SDK method; the error message it raised, or None when it answered."""
    method = client
    for part in endpoint.accessor.split(".")[1:]:
        method = getattr(method, part)
    ids = [
        name
        for name, parameter in inspect.signature(method).parameters.items()
        if name not in ("params", "options") and parameter.default is inspect.Parameter.empty
    ]
    kwargs = {"params": {}} if "params" in inspect.signature(method).parameters else {}
    try:
        method(*[f"{name}_nothing_here" for name in ids], **kwargs)
    except stripe.StripeError as error:
        return str(error.user_message or error)
    return None


def test_the_surface_is_read_off_the_sdk():
    keys = {endpoint.key for endpoint in ENDPOINTS}
    assert len(ENDPOINTS) >= 130
    assert "POST /v1/treasury/outbound_payments" in keys
    assert "GET /v1/issuing/tokens/{token}" in keys
    assert "POST /v1/topups" in keys


def test_no_sdk_method_reaches_an_unrecognized_url(server):
    client = server.client()
    unrecognized = set()
    for endpoint in ENDPOINTS:
        message = _call(client, endpoint)
        if message and "Unrecognized request URL" in message:
            unrecognized.add(endpoint.accessor)
    assert not unrecognized, f"no route for: {sorted(unrecognized)}"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.accessor.removeprefix("client."))
def test_every_endpoint_has_a_param_spec(endpoint):
    import json

    from openissuing.api import params

    spec = json.loads(Path(params.__file__).with_name("param_spec.json").read_text())
    assert endpoint.key in spec["endpoints"]
