"""What the fuzzer (tests/contract/test_fuzz.py) found, each pinned by its own test."""

from __future__ import annotations

import socket

import httpx
import orjson
import pytest


@pytest.fixture()
def http(server):
    with httpx.Client(base_url=server.url, auth=(server.api_key, ""), timeout=30) as client:
        yield client


@pytest.mark.parametrize(
    "method,path,param",
    [
        ("GET", "/_openissuing/sandboxes/sbx_%00", "sandbox"),
        ("GET", "/_openissuing/sandboxes/sbx_%00/faults", "sandbox"),
        ("GET", "/_openissuing/sandboxes/sbx_%00/clock", "sandbox"),
        ("POST", "/_openissuing/sandboxes/sbx_%00/clock", "sandbox"),
        ("POST", "/_openissuing/sandboxes/sbx_%00/reset", "sandbox"),
        ("DELETE", "/_openissuing/sandboxes/sbx_%00", "sandbox"),
        ("DELETE", "/_openissuing/sandboxes/current/faults/flt_%00", "fault"),
    ],
)
def test_a_nul_in_a_control_api_path_id_is_404_not_500(http, method, path, param):
    """PostgreSQL answered 500 ("text fields cannot contain NUL"); /v1 already answered 404."""
    response = http.request(method, path, data={"advance": "1h"} if "clock" in path else None)
    assert response.status_code == 404, response.text
    error = response.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error",
        "resource_missing",
        param,
    )


def test_a_nul_in_a_control_api_json_body_is_400_and_creates_nothing(http, live_server):
    admin = {"Authorization": f"Bearer {live_server.api_key}"}
    before = http.get("/_openissuing/sandboxes", headers=admin).json()["data"]
    response = http.post(
        "/_openissuing/sandboxes",
        content='{"name": "a\\u0000b"}',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", "name")
    assert "NUL" in error["message"]
    after = http.get("/_openissuing/sandboxes", headers=admin).json()["data"]
    assert len(after) == len(before)
    faulted = http.post(
        "/_openissuing/sandboxes/current/faults",
        content='{"kind": "error", "path": "/v1/\\u0000"}',
        headers={"Content-Type": "application/json"},
    )
    assert faulted.status_code == 400 and faulted.json()["error"]["param"] == "path"


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /v1/issuing/cards HTTP/1.1\r\nHost: x\r\nStripe-Version: \xc3\xa9\x00\r\n\r\n",
        b"GET /v1/issuing/cards HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n",
        b"NOT HTTP AT ALL\r\n\r\n",
        b"POST /v1/issuing/cards HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    ],
)
def test_bytes_the_http_parser_refuses_get_a_stripe_shaped_400(live_server, raw):
    """The HTTP server's own answer to what it cannot parse is Stripe's JSON, not plain text."""
    host, port = live_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(raw)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), received
    assert b"content-type: application/json" in head.lower()
    error = orjson.loads(body)["error"]
    assert error["type"] == "invalid_request_error" and error["message"]
    assert error["request_id"].startswith("req_")
    assert f"request-id: {error['request_id']}".encode() in head
