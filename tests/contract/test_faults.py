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


# ---------------------------------------------------------------- authorization faults


def test_network_fallback_approves_without_asking_and_may_overdraw(server):
    from tests.contract.test_authorizations import make_world
    from tests.webhook_receiver import WebhookReceiver

    w = make_world(server.client(), server, fund=500)
    with WebhookReceiver() as receiver:
        w.client.v1.webhook_endpoints.create(
            params={
                "url": receiver.url,
                "enabled_events": ["issuing_authorization.request"],
                "connect": True,
            }
        )
        control(
            server, "POST", "/sandboxes/current/faults", kind="network_fallback", count="1"
        ).raise_for_status()
        auth = w.authorize(800)
        assert auth.approved is True and auth.status == "pending"
        assert [(h.approved, h.reason) for h in auth.request_history] == [
            (True, "network_fallback")
        ]
        assert receiver.requests == []  # Stripe was "down": nobody was asked
        # The network could not see the balance: the hold takes the cash below zero.
        w.books(cash=-300, outbound_pending=800)
        assert faults_of(server) == []
    w.audit_clean()


def test_network_fallback_can_decline(server):
    from tests.contract.test_authorizations import make_world

    w = make_world(server.client(), server, fund=5_000)
    control(
        server,
        "POST",
        "/sandboxes/current/faults",
        kind="network_fallback",
        outcome="decline",
        count="1",
    ).raise_for_status()
    declined = w.authorize(100)
    assert declined.approved is False
    assert declined.request_history[-1].reason == "network_fallback"
    w.books(cash=5_000)
    assert w.authorize(100).request_history[-1].reason == "card_active"  # used up
    w.books(cash=4_900, outbound_pending=100)


def test_a_slow_realtime_handler_past_the_deadline_times_out_unasked(server):
    from tests.contract.test_authorizations import make_world
    from tests.webhook_receiver import Reply, WebhookReceiver

    settings = server.runtime.settings
    before = settings.realtime_deadline_seconds
    settings.realtime_deadline_seconds = 0.5
    try:
        w = make_world(server.client(), server, fund=5_000)
        with WebhookReceiver() as receiver:
            receiver.responder = lambda request: Reply(
                200,
                b'{"approved": true}',
                {"Content-Type": "application/json", "Stripe-Version": "2026-10-28.endive"},
            )
            w.client.v1.webhook_endpoints.create(
                params={
                    "url": receiver.url,
                    "enabled_events": ["issuing_authorization.request"],
                    "connect": True,
                }
            )
            control(
                server,
                "POST",
                "/sandboxes/current/faults",
                kind="realtime_slow",
                seconds="2",
                count="1",
            ).raise_for_status()
            started = time.monotonic()
            slow = w.authorize(700)
            assert time.monotonic() - started >= 0.5
            assert slow.approved is False
            assert slow.request_history[-1].reason == "webhook_timeout"
            assert receiver.requests == []
            fast = w.authorize(700)  # the fault is used up: the handler decides
            assert fast.request_history[-1].reason == "webhook_approved"
            w.books(cash=4_300, outbound_pending=700)
    finally:
        settings.realtime_deadline_seconds = before


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"kind": "network_fallback", "outcome": "maybe"}, "outcome"),
        ({"kind": "api_error", "outcome": "approve"}, "outcome"),
        ({"kind": "network_fallback", "path": "/v1/*"}, "path"),
        ({"kind": "realtime_slow"}, "seconds"),
        ({"kind": "realtime_slow", "seconds": "600"}, "seconds"),
    ],
)
def test_bad_authorization_faults_are_refused(server, params, param):
    answer = control(server, "POST", "/sandboxes/current/faults", **params)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == param
