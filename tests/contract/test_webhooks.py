"""Webhook endpoints and delivery, end to end: the SDK registers endpoints, real
HTTP receivers in this process verify every signature with
``stripe.Webhook.construct_event``, and dispatchers run with a compressed
retry schedule (tenths of seconds, never real minutes)."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time

import pytest
import stripe

from openissuing import cli
from openissuing.app import create_app
from openissuing.domain import webhook_matching as matching
from openissuing.services import deliveries
from openissuing.storage.uow import transaction
from openissuing.webhooks.dispatcher import Dispatcher
from tests.flows import activated_account
from tests.webhook_fixtures import CARDHOLDER_EVENTS, eventually
from tests.webhook_receiver import Reply, WebhookReceiver

ADDRESS = {
    "line1": "1 Main St",
    "city": "Austin",
    "state": "TX",
    "postal_code": "78701",
    "country": "US",
}


# ---------------------------------------------------------------- helpers
# (the dispatchers, receiver and endpoints fixtures live in tests/webhook_fixtures.py)


def new_cardholder(client, name: str = "Ada Lovelace", **options):
    params = {"name": name, "billing": {"address": ADDRESS}}
    return client.v1.issuing.cardholders.create(params=params, options=options or None)


def delivery_rows(server, endpoint_id: str) -> list[dict]:
    return transaction(
        server.runtime.engine,
        lambda uow: deliveries.deliveries(uow, endpoint_id=endpoint_id),
        write=False,
    )


def attempts(server, endpoint_id: str) -> list[dict]:
    """Oldest first."""
    rows = transaction(
        server.runtime.engine,
        lambda uow: deliveries.attempt_log(uow, endpoint_id=endpoint_id, limit=None),
        write=False,
    )
    return list(reversed(rows))


def finished(server, endpoint_id: str, count: int = 1) -> list[dict]:
    rows = delivery_rows(server, endpoint_id)
    return rows if len(rows) >= count and all(r["status"] != "pending" for r in rows) else []


def event_for(client, object_id: str, event_type: str, **options):
    listed = client.v1.events.list(
        params={"type": event_type, "limit": 20}, options=options or None
    )
    return next(e for e in listed.data if e.data.object.id == object_id)


# ---------------------------------------------------------------- the endpoint resource


def test_endpoint_create_retrieve_update_list_delete(client):
    created = client.v1.webhook_endpoints.create(
        params={
            "url": "http://127.0.0.1:9/hooks",
            "enabled_events": [
                "issuing_card.created",
                "issuing_card.created",
                "issuing_authorization.created",
            ],
            "description": "cards",
            "metadata": {"team": "a"},
            "api_version": "2024-06-20",
        }
    )
    assert created.id.startswith("we_") and created.object == "webhook_endpoint"
    assert created.secret.startswith("whsec_") and len(created.secret) > 30
    assert created.status == "enabled"
    assert created.enabled_events == ["issuing_card.created", "issuing_authorization.created"]
    assert (created.url, created.description, created.api_version) == (
        "http://127.0.0.1:9/hooks",
        "cards",
        "2024-06-20",
    )
    assert created.application is None and created.livemode is False
    assert "connect" not in created.to_dict()

    fetched = client.v1.webhook_endpoints.retrieve(created.id)
    assert "secret" not in fetched.to_dict()  # the secret is shown once, at creation
    assert fetched.to_dict() == {k: v for k, v in created.to_dict().items() if k != "secret"}

    updated = client.v1.webhook_endpoints.update(
        created.id,
        params={
            "enabled_events": ["*"],
            "description": "",
            "metadata": {"team": "", "x": "y"},
            "disabled": True,
        },
    )
    assert (updated.status, updated.enabled_events, updated.description) == (
        "disabled",
        ["*"],
        None,
    )
    assert updated.metadata.to_dict() == {"x": "y"}
    assert "secret" not in updated.to_dict()
    assert (
        client.v1.webhook_endpoints.update(created.id, params={"disabled": False}).status
        == "enabled"
    )

    listed = client.v1.webhook_endpoints.list(params={"limit": 100})
    assert created.id in [e.id for e in listed.data]
    assert all("secret" not in e.to_dict() for e in listed.data)

    deleted = client.v1.webhook_endpoints.delete(created.id)
    assert deleted.to_dict() == {"id": created.id, "object": "webhook_endpoint", "deleted": True}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.webhook_endpoints.retrieve(created.id)
    assert raised.value.http_status == 404 and raised.value.code == "resource_missing"


@pytest.mark.parametrize(
    "params, param",
    [
        (
            {"url": "http://127.0.0.1:9/h", "enabled_events": ["issuing_card.exploded"]},
            "enabled_events[0]",
        ),
        ({"url": "ftp://example.com/h", "enabled_events": ["*"]}, "url"),
        ({"url": "not a url", "enabled_events": ["*"]}, "url"),
        ({"url": "http://127.0.0.1:9/h"}, "enabled_events"),
        ({"enabled_events": ["*"]}, "url"),
        (
            {"url": "http://127.0.0.1:9/h", "enabled_events": ["*"], "api_version": "1999-01-01"},
            "api_version",
        ),
    ],
    ids=[
        "unknown event type",
        "not http",
        "not a url",
        "no events",
        "no url",
        "unknown api version",
    ],
)
def test_endpoint_validation(client, params, param):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.webhook_endpoints.create(params=params)
    assert raised.value.http_status == 400
    assert raised.value.param == param


def test_unknown_endpoint_is_404(client):
    for call in (
        lambda: client.v1.webhook_endpoints.retrieve("we_nope"),
        lambda: client.v1.webhook_endpoints.update("we_nope", params={"disabled": True}),
        lambda: client.v1.webhook_endpoints.delete("we_nope"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            call()
        assert raised.value.http_status == 404


# ---------------------------------------------------------------- delivery


def test_delivers_signed_events_in_order(server, client, dispatchers, receiver, endpoints):
    endpoint = endpoints(receiver, CARDHOLDER_EVENTS)
    dispatchers()
    cardholder = new_cardholder(client)
    updated = client.v1.issuing.cardholders.update(
        cardholder.id, params={"metadata": {"tier": "gold"}}
    )

    created_event, updated_event = receiver.wait_for_events(2)  # each verified by the SDK
    assert (created_event.type, updated_event.type) == tuple(CARDHOLDER_EVENTS)
    assert isinstance(created_event.data.object, stripe.issuing.Cardholder)
    assert created_event.data.object.to_dict() == cardholder.to_dict()
    assert updated_event.data.object.to_dict() == updated.to_dict()
    assert updated_event.data.previous_attributes.to_dict() == {"metadata": {}}
    assert "object_type" not in created_event.data.to_dict()
    assert created_event.api_version == server.runtime.settings.api_version
    assert created_event.pending_webhooks == 1  # this very delivery
    assert created_event.request.id.startswith("req_")

    first = receiver.requests[0]
    assert first.method == "POST" and first.path == "/webhooks"
    assert first.headers["content-type"].startswith("application/json")
    assert first.headers["user-agent"].startswith("Stripe/1.0")
    assert first.headers["stripe-signature"].startswith("t=")

    stored = client.v1.events.retrieve(created_event.id)
    assert stored.data.to_dict() == created_event.data.to_dict()
    rows = eventually(lambda: finished(server, endpoint.id, 2))
    assert [(r["status"], r["attempt_count"], r["last_status_code"]) for r in rows] == [
        ("succeeded", 1, 200)
    ] * 2
    assert client.v1.events.retrieve(created_event.id).pending_webhooks == 0


def test_subscriptions_and_endpoint_api_version(server, client, dispatchers, endpoints):
    with WebhookReceiver() as everything, WebhookReceiver() as updates_only:
        everything_endpoint = endpoints(everything, ["*"])
        everything.reply = Reply(204, b"", {})  # any 2xx is a success
        endpoints(updates_only, ["issuing_cardholder.updated"], api_version="2024-06-20")
        dispatchers()
        cardholder = new_cardholder(client)
        client.v1.issuing.cardholders.update(cardholder.id, params={"status": "inactive"})
        assert [e.type for e in everything.wait_for_events(2)] == CARDHOLDER_EVENTS
        (only,) = updates_only.wait_for_events(1)
        assert only.type == "issuing_cardholder.updated" and only.api_version == "2024-06-20"
        assert everything.events()[0].api_version == server.runtime.settings.api_version
        time.sleep(0.2)
        assert len(updates_only.requests) == 1
        rows = finished(server, everything_endpoint.id, 2)
        assert [(r["status"], r["last_status_code"]) for r in rows] == [("succeeded", 204)] * 2


def test_disabled_endpoint_receives_nothing(server, client, dispatchers, endpoints):
    with WebhookReceiver() as live, WebhookReceiver() as disabled_one:
        endpoints(live, CARDHOLDER_EVENTS)
        disabled = endpoints(disabled_one, CARDHOLDER_EVENTS)
        client.v1.webhook_endpoints.update(disabled.id, params={"disabled": True})
        dispatchers()
        new_cardholder(client)
        live.wait_for(1)  # the enabled endpoint got it, so the disabled one was passed over
        time.sleep(0.2)
        assert disabled_one.requests == []
        assert delivery_rows(server, disabled.id) == []


def test_disabling_cancels_queued_retries(server, client, dispatchers, receiver, endpoints):
    endpoint = endpoints(receiver, CARDHOLDER_EVENTS)
    receiver.fail_next(10)
    dispatchers(schedule=(0.8, 0.8))
    new_cardholder(client)
    receiver.wait_for(1)
    eventually(lambda: attempts(server, endpoint.id))
    client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": True})
    client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": False})
    time.sleep(0.9)  # past the retry that would have come
    assert len(receiver.requests) == 1
    assert [r["status"] for r in delivery_rows(server, endpoint.id)] == ["canceled"]


def test_failing_endpoint_is_retried_until_it_recovers(
    server, client, dispatchers, receiver, endpoints, capsys
):
    endpoint = endpoints(receiver, CARDHOLDER_EVENTS)
    receiver.fail_next(2)
    dispatchers(schedule=(0.2, 0.2, 0.2))
    cardholder = new_cardholder(client)

    requests = receiver.wait_for(3)
    assert [r.reply_status for r in requests] == [500, 500, 200]
    assert len({r.json()["id"] for r in requests}) == 1
    assert all(
        later.at - earlier.at >= 0.15
        for earlier, later in zip(requests, requests[1:], strict=False)
    )
    # Every attempt is freshly signed, and each one verifies.
    assert len(receiver.events()) == 3

    (row,) = eventually(lambda: finished(server, endpoint.id))
    assert (row["status"], row["attempt_count"], row["last_status_code"]) == ("succeeded", 3, 200)
    log = attempts(server, endpoint.id)
    assert [(a["number"], a["http_status"], a["error"]) for a in log] == [
        (1, 500, None),
        (2, 500, None),
        (3, 200, None),
    ]
    assert log[0]["response_excerpt"] == '{"error": "told to fail"}'
    assert all(
        a["duration_ms"] >= 0 and a["event_type"] == "issuing_cardholder.created" for a in log
    )

    event = event_for(client, cardholder.id, "issuing_cardholder.created")
    assert event.pending_webhooks == 0
    succeeded = client.v1.events.list(
        params={"delivery_success": True, "type": event.type, "limit": 100}
    )
    assert event.id in [e.id for e in succeeded.data]

    assert cli.main(["deliveries", "--database-url", server.database_url, "--event", event.id]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and "attempt 3: 200" in lines[0] and "attempt 1: 500" in lines[2]
    assert all(event.id in line and endpoint.id in line for line in lines)


def test_gives_up_when_the_schedule_is_exhausted(server, client, dispatchers, receiver, endpoints):
    endpoint = endpoints(receiver, CARDHOLDER_EVENTS)
    receiver.fail_next(100, status=503, body=b"x" * 5000)
    dispatchers(schedule=(0.1, 0.1))
    cardholder = new_cardholder(client)

    (row,) = eventually(lambda: finished(server, endpoint.id))
    assert (row["status"], row["attempt_count"], row["last_status_code"]) == ("failed", 3, 503)
    assert len(receiver.requests) == 3
    assert all(len(a["response_excerpt"]) == 1024 for a in attempts(server, endpoint.id))

    event = event_for(client, cardholder.id, "issuing_cardholder.created")
    assert event.pending_webhooks == 0
    failed = client.v1.events.list(
        params={"delivery_success": False, "type": event.type, "limit": 100}
    )
    assert event.id in [e.id for e in failed.data]
    succeeded = client.v1.events.list(
        params={"delivery_success": True, "type": event.type, "limit": 100}
    )
    assert event.id not in [e.id for e in succeeded.data]


def test_slow_and_unreachable_endpoints_are_failed_attempts(
    server, client, dispatchers, receiver, endpoints
):
    slow = endpoints(receiver, CARDHOLDER_EVENTS)
    unreachable = endpoints("http://127.0.0.1:9/nothing-listens-here", CARDHOLDER_EVENTS)
    receiver.delay_seconds = 1.0
    dispatchers(timeout_seconds=0.3, schedule=(0.1,))
    new_cardholder(client)

    receiver.wait_for(1)
    receiver.delay_seconds = 0
    eventually(lambda: finished(server, slow.id) and finished(server, unreachable.id))
    timed_out, answered = attempts(server, slow.id)
    assert timed_out["http_status"] is None and "timed out" in timed_out["error"]
    assert 250 <= timed_out["duration_ms"] < 1000
    assert answered["http_status"] == 200
    assert [r["status"] for r in delivery_rows(server, slow.id)] == ["succeeded"]

    refused = attempts(server, unreachable.id)
    assert len(refused) == 2 and all(
        a["http_status"] is None and "Connect" in a["error"] for a in refused
    )
    assert [r["status"] for r in delivery_rows(server, unreachable.id)] == ["failed"]


def test_a_restarted_dispatcher_delivers_everything_left(
    server, client, dispatchers, receiver, endpoints
):
    endpoint = endpoints(receiver, CARDHOLDER_EVENTS)
    receiver.fail_next(1)
    first = dispatchers(schedule=(0.5,))
    before = new_cardholder(client, name="Before Restart")
    receiver.wait_for(1)
    eventually(lambda: attempts(server, endpoint.id))
    first.stop()  # between the failed attempt and its retry

    during = new_cardholder(client, name="While Stopped")
    time.sleep(0.6)
    assert len(receiver.requests) == 1  # nobody is dispatching

    dispatchers(schedule=(0.5,))
    receiver.wait_for(3)
    rows = eventually(lambda: finished(server, endpoint.id, 2))
    assert sorted(r["attempt_count"] for r in rows) == [1, 2] and {r["status"] for r in rows} == {
        "succeeded"
    }
    delivered = [e.data.object.id for e in receiver.events(accepted_only=True)]
    assert sorted(delivered) == sorted([before.id, during.id])


def test_a_claim_lost_by_a_crashed_dispatcher_is_delivered_after_its_lease(
    server, client, dispatchers, receiver, endpoints
):
    endpoint = endpoints(receiver, CARDHOLDER_EVENTS)
    new_cardholder(client)
    dispatchers(start=False)  # pauses the session's dispatcher: nobody else claims
    # A dispatcher claims, then dies before sending: only its lease remains.
    claimed_at = time.time()
    transaction(
        server.runtime.engine, lambda uow: deliveries.claim(uow, int(claimed_at * 1000), 1000, 500)
    )
    dispatchers()

    (request,) = receiver.wait_for(1)
    assert request.at - claimed_at >= 0.45
    (row,) = eventually(lambda: finished(server, endpoint.id))
    assert (row["status"], row["attempt_count"]) == ("succeeded", 1)


def test_two_dispatchers_never_claim_the_same_delivery(
    server, client, dispatchers, receiver, endpoints
):
    endpoint = endpoints(receiver, ["issuing_cardholder.created"])
    dispatchers(start=False)
    made = [new_cardholder(client, name=f"Race {i}") for i in range(20)]
    receiver.delay_seconds = 0.01  # keep both busy at once
    dispatchers(batch_size=3)
    dispatchers(batch_size=3)

    receiver.wait_for(20, timeout=10)
    rows = eventually(lambda: finished(server, endpoint.id, 20))
    time.sleep(0.2)
    assert len(receiver.requests) == 20
    assert sorted(e.data.object.id for e in receiver.events()) == sorted(c.id for c in made)
    assert [(r["status"], r["attempt_count"]) for r in rows] == [("succeeded", 1)] * 20
    assert len(attempts(server, endpoint.id)) == 20


def test_concurrent_claims_are_disjoint(server, client, dispatchers, endpoints):
    endpoint = endpoints("http://127.0.0.1:9/never-sent", ["issuing_cardholder.created"])
    dispatchers(start=False)
    for i in range(12):
        new_cardholder(client, name=f"Claim {i}")
    engine, now = server.runtime.engine, int(time.time() * 1000)
    start = threading.Barrier(6)
    claimed: list[list[deliveries.Claim]] = [[] for _ in range(6)]

    def claimer(mine: list) -> None:
        start.wait()
        while batch := transaction(engine, lambda uow: deliveries.claim(uow, now, 2, 60_000)):
            mine.extend(batch)

    threads = [threading.Thread(target=claimer, args=(mine,)) for mine in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    everything = [c for mine in claimed for c in mine]
    try:
        ours = [c.delivery_id for c in everything if c.endpoint_id == endpoint.id]
        assert len(ours) == len(set(ours)) == 12
    finally:  # hand back whatever else was due, untouched
        for claim in everything:
            transaction(engine, lambda uow, c=claim: deliveries.release(uow, c, now))


def test_pending_webhooks_and_deleting_an_endpoint_drops_its_queue(
    server, client, dispatchers, receiver, endpoints
):
    endpoint = endpoints(receiver, CARDHOLDER_EVENTS)
    other = endpoints("http://127.0.0.1:9/unused", ["issuing_cardholder.created"])
    dispatchers(start=False)
    cardholder = new_cardholder(client)
    event = event_for(client, cardholder.id, "issuing_cardholder.created")
    assert event.pending_webhooks == 2
    pending = client.v1.events.list(
        params={"delivery_success": False, "type": event.type, "limit": 100}
    )
    assert event.id in [e.id for e in pending.data]

    client.v1.webhook_endpoints.delete(other.id)
    assert delivery_rows(server, other.id) == []
    assert client.v1.events.retrieve(event.id).pending_webhooks == 1
    dispatchers()
    receiver.wait_for(1)
    eventually(lambda: finished(server, endpoint.id))
    assert client.v1.events.retrieve(event.id).pending_webhooks == 0


def test_connect_endpoints_hear_connected_accounts_only(client, dispatchers, endpoints):
    account = activated_account(client)
    with (
        WebhookReceiver() as platform_rx,
        WebhookReceiver() as connect_rx,
        WebhookReceiver() as account_rx,
    ):
        endpoints(platform_rx, CARDHOLDER_EVENTS)
        endpoints(connect_rx, CARDHOLDER_EVENTS, connect=True)
        endpoints(
            account_rx, CARDHOLDER_EVENTS, account=account
        )  # the connected account's own endpoint
        dispatchers()
        mine = new_cardholder(client, name="Platform Holder")
        theirs = new_cardholder(client, name="Connected Holder", stripe_account=account)

        (platform_event,) = platform_rx.wait_for_events(1)
        (connect_event,) = connect_rx.wait_for_events(1)
        (account_event,) = account_rx.wait_for_events(1)
        time.sleep(0.2)
        assert [len(rx.requests) for rx in (platform_rx, connect_rx, account_rx)] == [1, 1, 1]
        assert (
            platform_event.data.object.id == mine.id and "account" not in platform_event.to_dict()
        )
        assert connect_event.data.object.id == theirs.id and connect_event.account == account
        assert account_event.id == connect_event.id


def test_authorization_requests_are_answered_synchronously_never_queued():
    endpoint = {"status": "enabled", "enabled_events": ["*", "issuing_authorization.request"]}
    request = {"type": "issuing_authorization.request"}
    created = {"type": "issuing_authorization.created"}
    assert not matching.receives(endpoint, "acct_p", request, "acct_p", "acct_p")
    assert matching.receives(endpoint, "acct_p", created, "acct_p", "acct_p")


def test_server_runs_a_dispatcher_unless_told_not_to(server):
    # The session server was built with the default settings: a dispatcher thread is part of it.
    assert isinstance(server.runtime.dispatcher, Dispatcher)
    for wanted in (True, False):
        settings = server.runtime.settings.model_copy(update={"webhook_dispatcher": wanted})
        runtime = dataclasses.replace(server.runtime, settings=settings)
        app = create_app(runtime)

        async def while_up(app=app, runtime=runtime, wanted=wanted) -> None:
            async with app.router.lifespan_context(app):
                assert (runtime.dispatcher is not None and runtime.dispatcher.running) is wanted

        asyncio.run(while_up())
        assert runtime.dispatcher is None or not runtime.dispatcher.running
