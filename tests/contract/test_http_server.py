"""The HTTP server under the API (openissuing/api/http_server.py), read off a real socket: with
each answer's head held for its body (tests/unit/test_http_protocol.py), what writes around it
(HEAD, ``100 Continue``, ``Connection: close``, several requests on one connection) still
reaches the client whole and in order."""

from __future__ import annotations

import socket

import orjson
import pytest


def _connect(live_server) -> socket.socket:
    host, port = live_server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def _read_response(sock: socket.socket, buffered: bytes = b"") -> tuple[bytes, bytes, bytes]:
    """One response (head, body) off the socket, and whatever came after it."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before a whole head: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed before the whole body"
        rest += chunk
    return head, rest[:length], rest[length:]


def _get(path: str, key: str, extra: str = "") -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n{extra}\r\n"
    ).encode()


def test_several_requests_on_one_connection_are_answered_in_order(live_server, server):
    with _connect(live_server) as sock:
        sock.sendall(
            _get("/v1/issuing/cards?limit=1", server.api_key)
            + _get("/v1/issuing/nope", server.api_key)
            + _get("/v1/issuing/cardholders?limit=1", server.api_key)
        )
        head, body, rest = _read_response(sock)
        assert head.startswith(b"HTTP/1.1 200 ") and orjson.loads(body)["url"] == (
            "/v1/issuing/cards"
        )
        head, body, rest = _read_response(sock, rest)
        assert head.startswith(b"HTTP/1.1 404 ") and "error" in orjson.loads(body)
        head, body, rest = _read_response(sock, rest)
        assert orjson.loads(body)["url"] == "/v1/issuing/cardholders"
        assert rest == b""


def test_a_head_request_gets_its_headers_and_the_connection_goes_on(live_server):
    with _connect(live_server) as sock:
        sock.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, rest = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ") and rest == b""
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        head, body, _ = _read_response(sock)
        assert head.startswith(b"HTTP/1.1 200 ") and body


def test_expect_100_continue_is_answered_before_the_body_is_sent(live_server, server):
    body = (
        b"name=Jenny+Rosen&type=individual&billing[address][line1]=1+Main"
        b"&billing[address][city]=SF&billing[address][postal_code]=94111"
        b"&billing[address][country]=US"
    )
    with _connect(live_server) as sock:
        sock.sendall(
            (
                "POST /v1/issuing/cardholders HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {server.api_key}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
            ).encode()
        )
        interim = sock.recv(65536)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), interim
        sock.sendall(body)
        head, answer, _ = _read_response(
            sock, interim.removeprefix(b"HTTP/1.1 100 Continue\r\n\r\n")
        )
        assert head.startswith(b"HTTP/1.1 200 "), answer
        assert orjson.loads(answer)["object"] == "issuing.cardholder"


@pytest.mark.parametrize("path", ["/v1/issuing/cards?limit=1", "/v1/nope"])
def test_connection_close_gets_the_whole_answer_then_the_close(live_server, server, path):
    with _connect(live_server) as sock:
        sock.sendall(_get(path, server.api_key, "Connection: close\r\n"))
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower()
    assert isinstance(orjson.loads(body), dict)
