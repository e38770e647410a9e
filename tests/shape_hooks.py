"""Where the shape checker (tests/shapes.py) sees every body the contract suite receives.

* the SDK: every ``StripeClient`` (``server.client()`` or one a test builds itself) answers
  through ``HTTPClient._request_with_retries_internal``; the body is checked there, before
  the SDK turns it into objects, so a bad shape fails the call that received it;
* raw HTTP: ``httpx.Client.send`` / ``httpx.AsyncClient.send`` (tests that post forms or read
  headers themselves), for paths under ``/v1/``;
* webhooks: tests/webhook_receiver.py reports every body it receives (events, real-time
  authorization requests) to ``shapes.CURRENT``.

What is not a Stripe body is not checked: the control API (``/_openissuing``), ``/healthz``,
``/metrics``, the dashboard's pages, non-JSON answers, and the dashboard's own in-process
calls (``openissuing.internal``: they run inside the server, not in a test).

A problem raises ``ShapeError`` at the call (the test fails there, naming the path), and is
also kept for the running test, which fails at its end if it swallowed the error (a worker
thread) or the body arrived on another thread (a webhook).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from stripe._http_client import HTTPClient

from tests import shapes

INTERNAL_HOST = "openissuing.internal"


def _is_stripe_path(path: str) -> bool:
    return path.startswith("/v1/")


def _expand_paths(query: str, form: Any) -> frozenset[str]:
    """The request's ``expand[]`` values (``expand[0]=…`` as the SDK encodes them)."""
    pairs = parse_qsl(query or "", keep_blank_values=True)
    if isinstance(form, bytes):
        form = form.decode("utf-8", "replace")
    if isinstance(form, str):
        pairs += parse_qsl(form, keep_blank_values=True)
    return frozenset(v for k, v in pairs if re.fullmatch(r"expand\[\d*\]", k))


def _check(
    raw: bytes | str, content_type: str, where: str, expanded: frozenset[str] = frozenset()
) -> None:
    if "json" not in content_type.lower():
        return
    try:
        body: Any = json.loads(raw)
    except ValueError as error:
        shapes.CURRENT.add([f"body: not JSON ({str(raw)[:80]!r})"], where)
        raise shapes.ShapeError(f"{where}: a JSON content type, a body that is not JSON") from error
    shapes.fail_call(shapes.report(body, where, expanded), where)


@pytest.fixture(scope="session", autouse=True)
def shapes_hooked():
    """Patch the SDK's and httpx's response paths once for the session."""
    sdk_original = HTTPClient._request_with_retries_internal
    send_original = httpx.Client.send
    async_send_original = httpx.AsyncClient.send

    def sdk_request(self, method, url, headers, post_data, is_streaming, *args, **kwargs):
        answer = sdk_original(self, method, url, headers, post_data, is_streaming, *args, **kwargs)
        parts = urlsplit(url)
        if not is_streaming and _is_stripe_path(parts.path):
            content, _status, response_headers = answer
            kind = _header(response_headers, "content-type") or "application/json"
            expanded = _expand_paths(parts.query, post_data)
            _check(content, kind, f"{method.upper()} {parts.path}", expanded)
        return answer

    def checked(request: httpx.Request, response: httpx.Response) -> None:
        if request.url.host == INTERNAL_HOST or not _is_stripe_path(request.url.path):
            return
        if not response.is_stream_consumed:
            return  # a streamed answer the test reads itself
        kind = response.headers.get("content-type", "")
        try:
            form = request.content
        except httpx.RequestNotRead:
            form = b""  # a streamed upload: no expand[] to read
        expanded = _expand_paths(request.url.query.decode(), form)
        _check(response.content, kind, f"{request.method} {request.url.path}", expanded)

    def send(self, request, *args, **kwargs):
        response = send_original(self, request, *args, **kwargs)
        checked(request, response)
        return response

    async def async_send(self, request, *args, **kwargs):
        response = await async_send_original(self, request, *args, **kwargs)
        checked(request, response)
        return response

    HTTPClient._request_with_retries_internal = sdk_request
    httpx.Client.send = send
    httpx.AsyncClient.send = async_send
    yield
    HTTPClient._request_with_retries_internal = sdk_original
    httpx.Client.send = send_original
    httpx.AsyncClient.send = async_send_original


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers or {}).items():
        if key.lower() == name:
            return value
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"shapes_{report.when}", report)


@pytest.fixture(autouse=True)
def shapes_checked(request):
    """Fails the test at its end with the shape problems it received and did not fail on."""
    yield
    found = shapes.CURRENT.drain()
    call = getattr(request.node, "shapes_call", None)
    if found and (call is None or call.passed):
        pytest.fail("\n".join(found), pytrace=False)
