"""Fixtures shared by the webhook tests (registered for the whole suite in tests/conftest.py).

``dispatchers`` builds fast dispatchers on the test server's database (the session's own is
paused meanwhile), ``receiver`` is a real HTTP receiver, ``endpoints`` registers endpoints
pointing at it; ``eventually`` polls a check until it holds.
"""

from __future__ import annotations

import time

import pytest
import stripe

from openissuing.webhooks.dispatcher import Dispatcher
from tests.webhook_receiver import WebhookReceiver

FAST = {"poll_interval_seconds": 0.05, "timeout_seconds": 2.0, "schedule": (0.2, 0.2, 0.2)}
CARDHOLDER_EVENTS = ["issuing_cardholder.created", "issuing_cardholder.updated"]


@pytest.fixture()
def dispatchers(server):
    """Builds dispatchers on the test server's database; the session's own one is paused meanwhile,
    so every attempt in the test follows the test's schedule."""
    session = getattr(server.runtime, "dispatcher", None)
    if session is not None:
        session.stop()
    made: list[Dispatcher] = []

    def make(*, start: bool = True, **overrides) -> Dispatcher:
        dispatcher = Dispatcher.from_runtime(server.runtime, **{**FAST, **overrides})
        made.append(dispatcher)
        if start:
            dispatcher.start()
        return dispatcher

    yield make
    for dispatcher in made:
        dispatcher.close()
    if session is not None:
        session.start()


@pytest.fixture()
def receiver():
    with WebhookReceiver() as running:
        yield running


@pytest.fixture()
def endpoints(client):
    """Creates endpoints (remembering the secret on the receiver) and deletes them afterwards."""
    created: list[tuple[str, str | None]] = []

    def make(target: WebhookReceiver | str, events=("*",), account: str | None = None, **params):
        url = target if isinstance(target, str) else target.url
        options = {"stripe_account": account} if account else None
        endpoint = client.v1.webhook_endpoints.create(
            params={"url": url, "enabled_events": list(events), **params}, options=options
        )
        if isinstance(target, WebhookReceiver):
            target.secret = endpoint.secret
        created.append((endpoint.id, account))
        return endpoint

    yield make
    for endpoint_id, account in created:
        try:
            client.v1.webhook_endpoints.delete(
                endpoint_id, options={"stripe_account": account} if account else None
            )
        except stripe.InvalidRequestError:
            pass  # the test deleted it itself


def eventually(check, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
