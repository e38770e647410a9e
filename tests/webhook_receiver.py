"""A real HTTP webhook receiver for tests: a threaded server inside the test process.

It records every request, and can be told to fail the next N requests, to
answer slowly, to answer with a given status/body, or to compute each answer
(``responder``: the real-time authorization tests answer ``{"approved": …}``).
Events are verified the way a Stripe user verifies them, with the official
SDK's ``stripe.Webhook.construct_event``::

    with WebhookReceiver() as receiver:
        endpoint = client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events":
        ["*"]})
        receiver.secret = endpoint.secret
        ...
        created, updated = receiver.wait_for_events(2)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import stripe

from tests import shapes


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b'{"received": true}'
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float
    reply_status: int

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    def __init__(self, *, secret: str | None = None, reply: Reply | None = None) -> None:
        self.secret = secret
        self.reply = reply or Reply()
        self.delay_seconds = 0.0
        # Computes the reply from the request when set (returning None falls back to ``reply``).
        self.responder: Callable[[Received], Reply | None] | None = None
        self._failures_left = 0
        self._failure = Reply(500, b'{"error": "told to fail"}')
        self._received: list[Received] = []
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.receiver = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="webhook-receiver",
            daemon=True,
        )
        self._thread.start()

    # ------------------------------------------------------------ configuration

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/webhooks"

    def fail_next(
        self, times: int, status: int = 500, body: bytes = b'{"error": "told to fail"}'
    ) -> None:
        with self._changed:
            self._failures_left = times
            self._failure = Reply(status, body)

    # ------------------------------------------------------------ what arrived

    @property
    def requests(self) -> list[Received]:
        with self._changed:
            return list(self._received)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """The first ``count`` requests, waiting up to ``timeout`` seconds for them."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} webhook requests, got {len(self._received)}"
                    )
                self._changed.wait(left)
            return list(self._received[:count])

    def events(
        self, secret: str | None = None, *, accepted_only: bool = False
    ) -> list[stripe.Event]:
        """Every request so far as an SDK Event, each signature verified with the SDK."""
        key = secret or self.secret
        chosen = [r for r in self.requests if not accepted_only or 200 <= r.reply_status < 300]
        return [
            stripe.Webhook.construct_event(r.text, r.headers.get("stripe-signature"), key)
            for r in chosen
        ]

    def wait_for_events(
        self, count: int, timeout: float = 5.0, secret: str | None = None
    ) -> list[stripe.Event]:
        self.wait_for(count, timeout)
        return self.events(secret)[:count]

    def clear(self) -> None:
        with self._changed:
            self._received.clear()

    # ------------------------------------------------------------ serving

    def _answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        with self._changed:
            failing = self._failures_left > 0
            if failing:
                self._failures_left -= 1
        draft = Received(method, path, headers, body, time.time(), 0)
        _check_shape(body, f"webhook {method} {path} ({_event_type(body)})")
        reply = (
            self._failure if failing else (self.responder and self.responder(draft)) or self.reply
        )
        # Recorded on arrival (a slow answer's sender may have given up by the time it is sent).
        with self._changed:
            self._received.append(Received(method, path, headers, body, draft.at, reply.status))
            self._changed.notify_all()
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        return reply

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _event_type(body: bytes) -> str:
    try:
        return str(json.loads(body).get("type"))
    except (ValueError, AttributeError):
        return "?"


def _check_shape(body: bytes, where: str) -> None:
    """Every body the server sends here is checked against the SDK's class for it; problems
    fail the running test at its end (tests/shape_hooks.py), the answer is sent regardless."""
    try:
        parsed = json.loads(body)
    except ValueError:
        shapes.CURRENT.add([f"body: not JSON ({body[:80]!r})"], where)
        return
    shapes.report(parsed, where)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.server.receiver._answer("POST", self.path, headers, body)  # type: ignore[attr-defined]
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except ConnectionError:
            pass  # the sender gave up waiting (a timeout test): nothing to answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence per-request logs
        pass
