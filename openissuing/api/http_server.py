"""The HTTP server the API runs on: uvicorn with httptools (llhttp, in C) on uvloop.

Chosen by the figures (bench/servers.py, bench/hotpath.py instructions): httptools + uvloop took
~16% fewer instructions per authorization than uvicorn's pure-Python h11 on asyncio, and as
much as granian. One thing had kept h11: llhttp refuses some requests h11 lets through (a
header value with raw non-ASCII bytes, ...), and uvicorn answers those with a plain-text 400 of
its own, where every answer of this server, even to bytes that are not HTTP, is Stripe-shaped
JSON (tests/contract/test_fuzz.py). ``StripeHttpToolsProtocol`` answers them as Stripe does an
invalid request: a 400 with an ``invalid_request_error`` body and a ``Request-Id``.

Where uvloop or httptools cannot be imported (a platform without wheels), uvicorn's own
pure-Python choices are used, with the same JSON answer.
"""

from __future__ import annotations

from typing import Any

import orjson

from openissuing import ids
from openissuing.api.errors import error_body
from openissuing.domain.errors import InvalidRequest

MALFORMED = (
    "Invalid request: the server could not read it as HTTP/1.1 (a malformed request line or "
    "header, or a header value with bytes outside ASCII)."
)


def _malformed_answer() -> bytes:
    request_id = ids.new_id("req")
    _, payload = error_body(InvalidRequest(MALFORMED), request_id)
    body = orjson.dumps(payload)
    return b"".join(
        [
            b"HTTP/1.1 400 Bad Request\r\n",
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"request-id: " + request_id.encode("ascii") + b"\r\n",
            b"connection: close\r\n",
            b"\r\n",
            body,
        ]
    )


class _StripeShaped:
    """Mixed into uvicorn's protocol: the answer to bytes the parser refuses."""

    transport: Any

    def send_400_response(self, msg: str) -> None:
        self.transport.write(_malformed_answer())
        self.transport.close()


class _OneWritePerAnswer:
    """The transport as one request/response cycle sees it: the response's head (status line and
    headers) is held until its body comes, and both go out in one ``write``.

    uvicorn writes the head when the app sends ``http.response.start`` and the body when it
    sends ``http.response.body``: two ``send()`` calls, two TCP segments (TCP_NODELAY), and a
    client woken for a head it cannot use yet. Measured with py-spy on an authorization, the
    two writes were two fifths of the event loop's busy time. Held data goes out at the body's
    write, at ``close`` or when the response completes without one (HEAD, 204); a
    ``100 Continue`` (written before the response starts) is never held.
    """

    __slots__ = ("_transport", "_cycle", "_head", "_head_seen")

    def __init__(self, transport: Any, cycle: Any) -> None:
        self._transport = transport
        self._cycle = cycle
        self._head: bytes | None = None
        self._head_seen = False

    def write(self, data: bytes) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head + data)
        elif not self._head_seen and self._cycle.response_started:
            self._head_seen = True
            self._head = bytes(data)
        else:
            self._transport.write(data)

    def flush(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


try:
    import httptools  # noqa: F401
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class StripeHttpToolsProtocol(_StripeShaped, HttpToolsProtocol):
        def on_headers_complete(self) -> None:
            previous = self.cycle
            super().on_headers_complete()
            cycle = self.cycle
            if cycle is not None and cycle is not previous:
                held = cycle.transport = _OneWritePerAnswer(self.transport, cycle)
                completed = cycle.on_response  # this cycle's own: pipelined ones wait their turn

                def on_response() -> None:
                    held.flush()
                    completed()

                cycle.on_response = on_response

    PROTOCOL: type = StripeHttpToolsProtocol
    PARSER = "httptools"
except ImportError:  # pragma: no cover - a platform without httptools wheels
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class StripeH11Protocol(_StripeShaped, H11Protocol):
        pass

    PROTOCOL = StripeH11Protocol
    PARSER = "h11"


def _loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


LOOP = _loop()


def uvicorn_options() -> dict[str, Any]:
    """What every ``uvicorn.Config`` of the API takes: the server, the tests, the benches."""
    return {"http": PROTOCOL, "loop": LOOP}
