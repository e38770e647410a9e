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

import asyncio
import http.client
import logging
import socket
import ssl
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


def _signed_request(url: str, body: str, secret: str) -> tuple[Any, str, dict[str, str]]:
    """The URL's parts, the request path and the headers of the POST, signed as a webhook."""
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Stripe-Signature": signer.header(body, secret, int(time.time())),
    }
    parts = urlsplit(url)
    return parts, (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), headers


def ask(url: str, body: str, secret: str, deadline_seconds: float) -> Reply:
    parts, path, headers = _signed_request(url, body, secret)
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


# --- the same call from the event loop (SQLite in one process: api.pipeline runs the request's
# transactions on the loop's thread, and the wait for the platform is then an ``await``, not a
# thread: a thread needs the GIL back after every read, and a busy loop holds it for up to the
# interpreter's 5 ms switch interval each time, which put tens of milliseconds on every real-time
# purchase at concurrency 8). The response is read by httptools (llhttp), the parser the API's
# own HTTP server uses; one kept-alive connection per (event loop, host).

_streams: dict[tuple[int, str], tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}


class _Response:
    """httptools' callbacks, collected."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.body = bytearray()
        self.complete = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        if len(self.body) < MAX_REPLY_BYTES:
            self.body += body[: MAX_REPLY_BYTES - len(self.body)]

    def on_message_complete(self) -> None:
        self.complete = True


async def ask_async(url: str, body: str, secret: str, deadline_seconds: float) -> Reply:
    """``ask`` as a coroutine: the same request, headers, deadline and Replies."""
    import httptools

    parts, path, headers = _signed_request(url, body, secret)
    payload = body.encode("utf-8")
    head = f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept-Encoding: identity\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = (head + f"Content-Length: {len(payload)}\r\n\r\n").encode("latin-1") + payload
    key = (id(asyncio.get_running_loop()), f"{parts.scheme}://{parts.netloc}")
    for attempt in range(2):
        reused = key in _streams
        try:
            async with asyncio.timeout(deadline_seconds):
                reader, writer = _streams.pop(key, None) or await _open(parts)
                writer.write(request)
                response = _Response()
                parser = httptools.HttpResponseParser(response)
                while not response.complete:
                    data = await reader.read(65536)
                    if not data:
                        raise http.client.RemoteDisconnected("closed before a whole response")
                    parser.feed_data(data)
                if parser.should_keep_alive():
                    _streams[key] = (reader, writer)
                else:
                    writer.close()
                return Reply(
                    status=parser.get_status_code(),
                    headers=response.headers,
                    body=bytes(response.body),
                )
        except TimeoutError:
            log.warning("real-time authorization endpoint %s did not answer in time", url)
            return Reply(timed_out=True)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
            if attempt == 0 and reused:
                continue  # a kept-alive connection the handler had closed: one fresh try
            return _unreachable(url, exc)
        except (OSError, httptools.HttpParserError, ValueError) as exc:
            return _unreachable(url, exc)
    return _unreachable(url, None)


async def _open(parts: Any) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    reader, writer = await asyncio.open_connection(
        parts.hostname, port, ssl=ssl.create_default_context() if secure else None
    )
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return reader, writer


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

    def _slowed(self, latency_seconds: float) -> tuple[float, float | None]:
        """``latency_seconds`` simulates a slow handler (a sandbox's realtime_slow fault): the
        deadline runs while it passes, and past the deadline the handler is never asked.
        Returns how long to wait first, and the deadline left for asking (None: do not ask)."""
        deadline = self._settings.realtime_deadline_seconds
        if latency_seconds <= 0:
            return 0, deadline
        if latency_seconds >= deadline:
            return deadline, None
        return latency_seconds, deadline - latency_seconds

    def ask(self, url: str, body: str, secret: str, *, latency_seconds: float = 0) -> Reply:
        wait, remaining = self._slowed(latency_seconds)
        if wait:
            time.sleep(wait)
        if remaining is None:
            return Reply(timed_out=True)
        return ask(url, body, secret, remaining)

    async def ask_async(
        self, url: str, body: str, secret: str, *, latency_seconds: float = 0
    ) -> Reply:
        """``ask`` from the event loop (see ``ask_async`` above)."""
        wait, remaining = self._slowed(latency_seconds)
        if wait:
            await asyncio.sleep(wait)
        if remaining is None:
            return Reply(timed_out=True)
        return await ask_async(url, body, secret, remaining)
