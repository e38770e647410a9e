"""A real-time endpoint nobody answers on: a warning in the server's log naming the endpoint, and
a ``reason_message`` that says what happened and what decided instead."""

from __future__ import annotations

import logging
import socket

from tests.contract.test_realtime_authorizations import World


def test_unreachable_endpoint_is_warned_about_and_explained(
    client,
    server,
    receiver,
    caplog,
):
    world = World(client, server, receiver)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{closed_port}/hook"
    endpoint = client.v1.webhook_endpoints.list(options=world.o).data[0]
    client.v1.webhook_endpoints.update(endpoint.id, params={"url": url}, options=world.o)
    with caplog.at_level(logging.WARNING, logger="openissuing.realtime"):
        auth = world.authorize(600)
    last = auth.request_history[-1]
    assert (auth.approved, last.reason) == (False, "webhook_error")
    assert last.reason_message == (
        f"The issuing_authorization.request endpoint {url} could not be reached "
        "(connection refused); the timeout decision (decline) applied."
    )
    warnings = [r.getMessage() for r in caplog.records if r.name == "openissuing.realtime"]
    assert warnings == [
        f"real-time authorization endpoint {url} cannot be reached (connection refused); "
        "the timeout decision applies"
    ]
