"""Faults on purpose: a client's retries and idempotency, tested against real failures.

The official SDK, with its own retries on, meets an injected 429, 500 or hang;
the retry (same Idempotency-Key, sent by the SDK itself) must apply exactly once.
"""

from __future__ import annotations

import time

import httpx
import pytest
import stripe

from tests.contract.test_sandboxes import CARDHOLDER, control


def faults_of(server) -> list[dict]:
    return control(server, "GET", "/sandboxes/current/faults").json()["data"]


def retrying(server, **http) -> stripe.StripeClient:
    return stripe.StripeClient(
        server.api_key,
        base_addresses={"api": server.url},
        max_network_retries=3,
        http_client=stripe.RequestsClient(**http) if http else None,
    )


@pytest.mark.parametrize(("kind", "status"), [("rate_limit", 429), ("api_error", 500)])
def test_the_sdk_retries_an_injected_refusal_and_creates_once(server, kind, status):
    made = control(
        server,
        "POST",
        "/sandboxes/current/faults",
        kind=kind,
        method="POST",
        path="/v1/issuing/cardholders",
        count="2",
    )
    assert made.status_code == 200, made.text
    assert made.json()["count_remaining"] == 2
    # Without retries the refusal is what a client sees, Stripe-shaped.
    with pytest.raises(stripe.StripeError) as refused:
        server.client().v1.issuing.cardholders.create(params=CARDHOLDER)
    assert refused.value.http_status == status
    assert refused.value.headers.get("stripe-should-retry") == "true"
    if kind == "rate_limit":
        assert isinstance(refused.value, stripe.RateLimitError)
        assert refused.value.json_body["error"]["code"] == "rate_limit"
    # One fault left: the SDK's first try meets it, its own retry succeeds.
    holder = retrying(server).v1.issuing.cardholders.create(params=CARDHOLDER)
    assert holder.id.startswith("ich_")
    assert faults_of(server) == []
    listed = server.client().v1.issuing.cardholders.list().data
    assert [c.id for c in listed] == [holder.id]


def test_a_hang_past_the_client_timeout_is_replayed_on_the_retry(server):
    control(
        server,
        "POST",
        "/sandboxes/current/faults",
        kind="hang",
        path="/v1/issuing/cardholders",
        method="POST",
        seconds="3",
        count="1",
    ).raise_for_status()
    client = retrying(server, timeout=1.0)
    started = time.monotonic()
    holder = client.v1.issuing.cardholders.create(params=CARDHOLDER)
    assert time.monotonic() - started >= 1.0  # the first try timed out; the SDK retried
    assert faults_of(server) == []
    # The hung request ran and committed; the SDK's retry (same key) got its replay.
    listed = server.client().v1.issuing.cardholders.list().data
    assert [c.id for c in listed] == [holder.id]


def test_faults_match_method_and_path_patterns_and_can_be_cleared(server):
    control(
        server,
        "POST",
        "/sandboxes/current/faults",
        kind="api_error",
        method="GET",
        path="/v1/issuing/*",
    ).raise_for_status()
    client = server.client()
    created = client.v1.issuing.cardholders.create(params=CARDHOLDER)  # POST: untouched
    for _ in range(3):  # no count: every match, until cleared
        with pytest.raises(stripe.APIError):
            client.v1.issuing.cardholders.retrieve(created.id)
    assert client.v1.accounts.retrieve_current().id == server.platform_id  # other paths fine
    assert len(faults_of(server)) == 1
    cleared = control(server, "DELETE", "/sandboxes/current/faults")
    assert cleared.status_code == 200 and faults_of(server) == []
    assert client.v1.issuing.cardholders.retrieve(created.id).id == created.id


def test_faults_expire_and_belong_to_one_sandbox(server, make_sandbox):
    other = make_sandbox("other")
    control(
        server,
        "POST",
        "/sandboxes/current/faults",
        kind="rate_limit",
        expires_in="60s",
    ).raise_for_status()
    with pytest.raises(stripe.RateLimitError):
        server.client().v1.issuing.cardholders.list()
    assert other.client().v1.issuing.cardholders.list().data == []
    server.live.clock.advance(61)
    try:
        assert server.client().v1.issuing.cardholders.list().data == []
        assert faults_of(server) == []
    finally:
        server.live.clock.advance(-61)


def test_one_fault_removed_by_id(server):
    made = control(server, "POST", "/sandboxes/current/faults", kind="api_error").json()
    gone = control(server, "DELETE", f"/sandboxes/current/faults/{made['id']}")
    assert gone.json() == {"id": made["id"], "object": "fault", "deleted": True}
    again = control(server, "DELETE", f"/sandboxes/current/faults/{made['id']}")
    assert again.status_code == 404 and again.json()["error"]["param"] == "fault"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"kind": "explode"}, "kind"),
        ({}, "kind"),
        ({"kind": "api_error", "method": "PATCH"}, "method"),
        ({"kind": "api_error", "path": "v1/no-slash"}, "path"),
        ({"kind": "api_error", "count": "0"}, "count"),
        ({"kind": "api_error", "count": "many"}, "count"),
        ({"kind": "hang"}, "seconds"),
        ({"kind": "hang", "seconds": "100000"}, "seconds"),
        ({"kind": "api_error", "expires_in": "later"}, "expires_in"),
    ],
)
def test_bad_faults_are_refused(server, params, param):
    answer = control(server, "POST", "/sandboxes/current/faults", **params)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == param
    assert faults_of(server) == []


def test_a_sandbox_without_faults_is_untouched(server):
    assert (
        httpx.get(
            f"{server.url}/v1/issuing/cardholders",
            headers={"Authorization": f"Bearer {server.api_key}"},
            timeout=10,
        ).status_code
        == 200
    )


def test_the_cli_adds_lists_and_clears_faults(server, capsys):
    from openissuing import cli

    base = ["--api-base", server.url, "--api-key", server.api_key]
    args = ["faults", "add", "api_error", "--method", "POST", "--path", "/v1/issuing/*"]
    assert cli.main([*args, "--count", "2", *base]) == 0
    assert "api_error  POST /v1/issuing/*  (2 left)" in capsys.readouterr().out
    assert cli.main(["faults", "list", *base]) == 0
    assert "flt_" in capsys.readouterr().out
    assert cli.main(["faults", "add", "explode", *base]) == 1
    assert "Invalid kind" in capsys.readouterr().err
    assert cli.main(["faults", "clear", *base]) == 0
    assert faults_of(server) == []
