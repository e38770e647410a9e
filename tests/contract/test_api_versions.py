"""``Stripe-Version``: published versions are spoken and echoed, anything else is refused as
Stripe refuses it (400 ``invalid_request_error``, "Invalid Stripe API version: …")."""

from __future__ import annotations

import httpx
import pytest
import stripe

from openissuing.api.versions import published


@pytest.fixture()
def http(server):
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {server.api_key}"}
    ) as session:
        yield session


@pytest.mark.parametrize(
    "version",
    [
        stripe.api_version,  # the SDK's pinned version
        "2024-06-20",
        "2020-08-27",
        "2011-06-21",
        "2024-09-30.acacia",
        "2025-03-31.basil",
        "2025-08-27.basil",
        "2025-12-15.clover",
        "2026-04-22.dahlia",
        "2026-09-30.endive",
        "2025-03-31.basil; issuing_beta=v1",
    ],
)
def test_published_versions_are_spoken_and_echoed(http, version):
    response = http.get("/v1/issuing/cardholders", headers={"Stripe-Version": version})
    assert response.status_code == 200, response.text
    assert response.headers["Stripe-Version"] == version


@pytest.mark.parametrize(
    "version",
    [
        "garbage",
        "2019-2-19",  # Stripe's own example of a typo
        "2024-06-21",  # a date with no release
        "2025-03-31.clover",  # a real date under the wrong release's name
        "2024-09-30.banana",
        "2099-01-01.endive",  # later than anything this server speaks
        "2025-02-30.acacia",  # not a date
    ],
)
def test_unknown_versions_are_refused_as_stripe_does(http, server, version):
    response = http.get("/v1/issuing/cardholders", headers={"Stripe-Version": version})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"] == f"Invalid Stripe API version: {version}"
    assert "code" not in error and "param" not in error
    assert response.headers["Stripe-Version"] == server.runtime.settings.api_version
    assert response.headers["Request-Id"] == error["request_id"]


def test_no_header_speaks_the_default(http, server):
    response = http.get("/v1/issuing/cardholders")
    assert response.status_code == 200
    assert response.headers["Stripe-Version"] == server.runtime.settings.api_version


def test_the_sdk_names_the_refusal(server):
    client = stripe.StripeClient(
        server.api_key,
        base_addresses={"api": server.url},
        max_network_retries=0,
        stripe_version="garbage",
    )
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.issuing.cardholders.list()
    assert raised.value.http_status == 400
    assert "Invalid Stripe API version: garbage" in raised.value.user_message


def test_published_rule_is_pure():
    assert published("2026-10-28.endive", "2026-10-28.endive")
    assert not published("2026-11-25.endive", "2026-10-28.endive")
    assert not published("", "2026-10-28.endive")
