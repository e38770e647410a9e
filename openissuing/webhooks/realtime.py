"""The synchronous call to the platform's ``issuing_authorization.request`` endpoint.

Runs with no database transaction open: the request is signed like every
webhook, bounded by the deadline, and whatever happens becomes a ``Reply``.

This is on every real-time purchase's critical path, so it uses the standard
library's ``http.client`` with one keep-alive connection per (thread, host):
an httpx request costs about a millisecond of CPU here, ``http.client`` a
fraction of that. TCP_NODELAY keeps Nagle's algorithm from holding the body
back until the handler acknowledges the headers.
"""

from __future__ import annotations

import http.client
import logging
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from openissuing.domain.issuing.realtime import Reply
from openissuing.webhooks import signer

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
MAX_REPLY_BYTES = 64 * 1024

_connections = threading.local()
log = logging.getLogger("openissuing.realtime")


def ask(url: str, body: str, secret: str, deadline_seconds: float) -> Reply:
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Stripe-Signature": signer.header(body, secret, int(time.time())),
    }
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    for attempt in range(2):
        connection = None
        try:
            connection = _connection(parts.scheme, parts.netloc, deadline_seconds)
            connection.request("POST", path, body=body.encode("utf-8"), headers=headers)
            response = connection.getresponse()
            return Reply(
                status=response.status,
                headers={k.lower(): v for k, v in response.getheaders()},
                body=response.read(MAX_REPLY_BYTES),
            )
        except TimeoutError:
            _drop(parts.netloc)
            log.warning("real-time authorization endpoint %s did not answer in time", url)
            return Reply(timed_out=True)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
            _drop(parts.netloc)
            if attempt == 0 and getattr(connection, "_reused", False):
                continue  # a kept-alive connection the handler had closed: one fresh try
            return _unreachable(url, exc)
        except (OSError, http.client.HTTPException) as exc:
            _drop(parts.netloc)
            return _unreachable(url, exc)
    return _unreachable(url, None)


def _unreachable(url: str, exc: Exception | None) -> Reply:
    """Say so in the log (a leftover endpoint with no receiver declines every purchase) and in
    the Reply, whose error becomes the authorization's ``reason_message``."""
    if exc is None:
        why = "the connection was closed"
    else:
        why = (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__).lower()
    log.warning(
        "real-time authorization endpoint %s cannot be reached (%s); the timeout decision applies",
        url,
        why,
    )
    return Reply(error=f"{url} could not be reached ({why})")


def _connection(scheme: str, netloc: str, deadline_seconds: float) -> http.client.HTTPConnection:
    pool = getattr(_connections, "pool", None)
    if pool is None:
        pool = _connections.pool = {}
    connection = pool.get(netloc)
    if connection is not None:
        connection._reused = True  # type: ignore[attr-defined]
        connection.timeout = deadline_seconds
        if connection.sock is not None:
            connection.sock.settimeout(deadline_seconds)
        return connection
    cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    connection = cls(netloc, timeout=deadline_seconds)
    connection.connect()
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    connection._reused = False  # type: ignore[attr-defined]
    pool[netloc] = connection
    return connection


def _drop(netloc: str) -> None:
    pool = getattr(_connections, "pool", {})
    connection = pool.pop(netloc, None)
    if connection is not None:
        connection.close()


class RealtimeClient:
    """The real-time flow's call to the platform, built once by ``app.build_runtime`` and reached
    through the runtime (routes never build it). It reads the deadline and the timeout default
    from the settings at each call, so a changed setting applies to the next authorization."""

    def __init__(self, settings: Any) -> None:
        self._settings = settings

    @property
    def timeout_approves(self) -> bool:
        """The decision when the platform does not answer in time (per-account override aside)."""
        return self._settings.realtime_timeout_decision == "approve"

    def ask(self, url: str, body: str, secret: str, *, latency_seconds: float = 0) -> Reply:
        """``latency_seconds`` simulates a slow handler (a sandbox's realtime_slow fault): the
        deadline runs while it passes, and past the deadline the handler is never asked."""
        deadline = self._settings.realtime_deadline_seconds
        if latency_seconds <= 0:
            return ask(url, body, secret, deadline)
        if latency_seconds >= deadline:
            time.sleep(deadline)
            return Reply(timed_out=True)
        time.sleep(latency_seconds)
        return ask(url, body, secret, deadline - latency_seconds)
