"""Webhook faults on purpose, and webhook retries that follow a sandbox's clock.

A real receiver (signatures checked with the official SDK) meets duplicated,
late and shuffled deliveries of the sandbox's events; a failed delivery whose
retry is an hour away is sent at once when the sandbox's clock moves two hours.
"""

from __future__ import annotations

import time

from tests.contract.test_sandboxes import CARDHOLDER, control
from tests.webhook_receiver import WebhookReceiver

CREATED = "issuing_cardholder.created"


def _endpoint(server, receiver) -> None:
    made = server.client().v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": [CREATED]}
    )
    receiver.secret = made.secret


def _fault(server, **params) -> dict:
    answer = control(server, "POST", "/sandboxes/current/faults", **params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _wait(receiver, count: int, timeout: float = 10.0) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = receiver.events()
        if len(events) >= count:
            return events
        time.sleep(0.05)
    return receiver.events()


def test_a_duplicated_delivery_sends_the_same_event_twice(server, dispatchers):
    dispatchers()
    with WebhookReceiver() as receiver:
        _endpoint(server, receiver)
        _fault(server, kind="webhook_duplicate", event_type="issuing_cardholder.*", count="1")
        first = server.client().v1.issuing.cardholders.create(params=CARDHOLDER)
        events = _wait(receiver, 2)
        assert [e.data.object.id for e in events] == [first.id, first.id]
        assert events[0].id == events[1].id  # the same event, as a retried Stripe delivery is
        # The fault counted one event: the next one arrives once.
        second = server.client().v1.issuing.cardholders.create(params=CARDHOLDER)
        events = _wait(receiver, 3)
        time.sleep(0.5)
        assert [e.data.object.id for e in receiver.events()] == [first.id, first.id, second.id]
    listed = control(server, "GET", "/sandboxes/current/faults").json()["data"]
    assert listed == []


def test_a_late_delivery_arrives_after_its_delay(server, dispatchers):
    dispatchers()
    with WebhookReceiver() as receiver:
        _endpoint(server, receiver)
        _fault(server, kind="webhook_delay", seconds="2")
        started = time.monotonic()
        server.client().v1.issuing.cardholders.create(params=CARDHOLDER)
        time.sleep(1.0)
        assert receiver.events() == []
        assert len(_wait(receiver, 1)) == 1
        assert time.monotonic() - started >= 2.0


def test_shuffled_deliveries_all_arrive_each_within_its_window(server, dispatchers):
    dispatchers()
    with WebhookReceiver() as receiver:
        _endpoint(server, receiver)
        _fault(server, kind="webhook_out_of_order", seconds="2")
        made = [
            server.client().v1.issuing.cardholders.create(params=CARDHOLDER).id for _ in range(6)
        ]
        events = _wait(receiver, 6)
        assert sorted(e.data.object.id for e in events) == sorted(made)
        rows = server.client().v1.events.list(params={"type": CREATED}).data
        assert len(rows) == 6


def test_webhook_faults_are_refused_with_request_selectors(server):
    answer = control(
        server, "POST", "/sandboxes/current/faults", kind="webhook_delay", seconds="5", path="/v1/*"
    )
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "path"
    answer = control(server, "POST", "/sandboxes/current/faults", kind="webhook_delay")
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "seconds"
    answer = control(
        server, "POST", "/sandboxes/current/faults", kind="api_error", event_type="issuing_*"
    )
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "event_type"


def test_a_retry_an_hour_away_is_sent_when_the_clock_moves_past_it(server, dispatchers):
    dispatchers(schedule=(3600.0,))
    with WebhookReceiver() as receiver:
        _endpoint(server, receiver)
        receiver.fail_next(1)
        server.client().v1.issuing.cardholders.create(params=CARDHOLDER)
        receiver.wait_for(1)
        time.sleep(0.5)
        assert len(receiver.requests) == 1  # the retry waits for its hour
        control(server, "POST", "/sandboxes/current/clock", advance="2h").raise_for_status()
        receiver.wait_for(2)
        accepted = receiver.events(accepted_only=True)
        assert [e.type for e in accepted] == [CREATED]
