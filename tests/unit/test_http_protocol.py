"""The API's HTTP protocol (openissuing/api/http_server.py) on a fake transport: each answer
leaves in one write, and bytes the parser refuses get Stripe's JSON."""

from __future__ import annotations

import asyncio
import threading

import orjson
import pytest
import uvicorn
from starlette.responses import Response
from uvicorn.server import ServerState

from openissuing.api.http_server import PARSER, PROTOCOL, uvicorn_options


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default=None):
        return {"sockname": ("127.0.0.1", 12111), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_protocol(self, protocol) -> None:
        pass


async def _app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    status = 204 if scope["path"] == "/empty" else 200
    body = b"" if status == 204 else orjson.dumps({"object": "list", "path": scope["path"]})
    await Response(body, status_code=status, media_type="application/json")(scope, receive, send)


def _exchange(raw: bytes) -> FakeTransport:
    async def scenario() -> FakeTransport:
        config = uvicorn.Config(_app, log_level="warning", **uvicorn_options())
        config.load()
        protocol = PROTOCOL(config=config, server_state=ServerState(), app_state={})
        transport = FakeTransport()
        protocol.connection_made(transport)
        protocol.data_received(raw)
        for _ in range(200):
            await asyncio.sleep(0)
        protocol.connection_lost(None)
        return transport

    # On a thread of its own: the dashboard's browser tests leave Playwright's event loop
    # running on the main thread, where asyncio.run refuses to start another.
    done: list[FakeTransport] = []
    runner = threading.Thread(target=lambda: done.append(asyncio.run(scenario())))
    runner.start()
    runner.join(timeout=30)
    assert done, "the exchange did not finish"
    return done[0]


def _responses(transport: FakeTransport) -> list[bytes]:
    return [w for w in transport.writes if w.startswith(b"HTTP/1.1 ")]


@pytest.mark.skipif(PARSER != "httptools", reason="the head is held on the httptools protocol")
def test_an_answer_leaves_in_one_write():
    transport = _exchange(b"GET /v1/issuing/cards HTTP/1.1\r\nHost: x\r\n\r\n")
    assert len(transport.writes) == 1, transport.writes
    head, _, body = transport.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert orjson.loads(body) == {"object": "list", "path": "/v1/issuing/cards"}


@pytest.mark.skipif(PARSER != "httptools", reason="the head is held on the httptools protocol")
def test_pipelined_requests_get_one_write_each_in_order():
    transport = _exchange(
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /empty HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert [w.split(b"\r\n", 1)[0] for w in transport.writes] == [
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 204 No Content",
        b"HTTP/1.1 200 OK",
    ]
    assert transport.writes[0].endswith(b'"path":"/a"}')
    assert transport.writes[2].endswith(b'"path":"/b"}')


def test_a_head_request_and_a_204_still_send_their_head():
    transport = _exchange(
        b"HEAD /a HTTP/1.1\r\nHost: x\r\n\r\nGET /empty HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    heads = _responses(transport)
    assert [h.split(b"\r\n", 1)[0] for h in heads] == [
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 204 No Content",
    ]
    assert heads[0].endswith(b"\r\n\r\n")  # a HEAD answer has no body


def test_connection_close_sends_the_answer_before_closing():
    transport = _exchange(b"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert transport.closed
    assert b"".join(transport.writes).endswith(b'"path":"/a"}')


def test_bytes_the_parser_refuses_get_stripe_shaped_json_and_a_close():
    transport = _exchange(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n")
    (answer,) = transport.writes
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and b"content-type: application/json" in head
    assert orjson.loads(body)["error"]["type"] == "invalid_request_error"
    assert transport.closed
