"""The suite-wide hooks (tests/shape_hooks.py) fail the call that receives a bad body, through
the SDK and through httpx, and leave non-Stripe bodies alone; the webhook receiver's bodies
fail the test at its end."""

from __future__ import annotations

import json

import httpx
import pytest
import stripe

from tests import shapes
from tests.webhook_receiver import WebhookReceiver

BAD_CAPABILITY = {"id": "card_issuing", "object": "capability", "status": "enabled"}


class CannedClient(stripe.HTTPClient):
    """An SDK http client that answers every request with one body, no network."""

    name = "canned"

    def __init__(self, body: dict) -> None:
        super().__init__()
        self.body = json.dumps(body)

    def request(self, method, url, headers, post_data=None):
        return self.body, 200, {"Content-Type": "application/json", "Request-Id": "req_1"}

    def close(self):
        pass


def test_the_sdk_call_that_receives_a_bad_body_fails_naming_the_path():
    client = stripe.StripeClient("sk_test_x", http_client=CannedClient(BAD_CAPABILITY))
    with pytest.raises(shapes.ShapeError) as raised:
        client.v1.accounts.capabilities.retrieve("acct_1", "card_issuing")
    assert "GET /v1/accounts/acct_1/capabilities/card_issuing" in str(raised.value)
    assert "capability.status: 'enabled' is not one of" in str(raised.value)
    assert shapes.CURRENT.drain()  # kept for the test too (drained: this one expected it)


def _httpx(body: dict, path: str, content_type: str = "application/json") -> httpx.Response:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=json.dumps(body), headers={"content-type": content_type})

    with httpx.Client(transport=httpx.MockTransport(handler), base_url="http://server") as http:
        return http.get(path)


def test_a_raw_http_call_that_receives_a_bad_body_fails():
    with pytest.raises(shapes.ShapeError, match="capability.account: missing"):
        _httpx(BAD_CAPABILITY, "/v1/accounts/acct_1/capabilities/card_issuing")
    shapes.CURRENT.drain()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/_openissuing/sandboxes", "application/json"),  # the control API is ours
        ("/healthz", "application/json"),
        ("/metrics", "text/plain"),
        ("/v1/accounts", "text/html"),  # not JSON
    ],
)
def test_what_is_not_a_stripe_body_is_left_alone(path, content_type):
    assert _httpx({"anything": True}, path, content_type).status_code == 200
    assert shapes.CURRENT.drain() == []


def test_an_expanded_id_is_allowed_where_the_request_expanded_it():
    fa = {"id": "fa_1", "object": "treasury.financial_account"}
    card = {k: None for k in shapes.fields_of(stripe.issuing.Card)}
    card.update(object="issuing.card", financial_account=fa)

    def get(path: str) -> list[str]:
        try:
            _httpx(card, path)
        except shapes.ShapeError:
            pass
        return shapes.CURRENT.drain()

    assert "expected str" in "".join(get("/v1/issuing/cards/ic_1"))
    expanded = "".join(get("/v1/issuing/cards/ic_1?expand[0]=financial_account"))
    assert "expected str" not in expanded and "financial_account.balance: missing" in expanded


def test_a_webhook_body_fails_the_test_at_its_end():
    with WebhookReceiver() as receiver:
        httpx.post(receiver.url, content=json.dumps({"object": "event", "id": "evt_1"}))
        receiver.wait_for(1)
    found = shapes.CURRENT.drain()
    assert len(found) == 1 and "webhook POST /webhooks" in found[0]
    assert "event.data: missing" in found[0]
