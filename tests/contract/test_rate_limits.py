"""Optional Stripe-like rate limits (OPENISSUING_RATE_LIMIT), through the real request pipeline.

The suite's server runs with limits off (the default); these tests build the same app on the
same runtime with ``rate_limit="sandbox"`` and send it a bounded burst in-process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

import httpx
import pytest

from openissuing.api.ratelimit import MESSAGE
from openissuing.app import create_app

BURST = 60


@pytest.fixture()
def limited(server):
    settings = server.runtime.settings.model_copy(update={"rate_limit": "sandbox"})
    runtime = dataclasses.replace(server.runtime, settings=settings)
    runtime.sandboxes = server.runtime.sandboxes
    return create_app(runtime)


def _burst(app, key: str, path: str = "/v1/account", base: str = "http://testserver"):
    return asyncio.run(_send(app, key, path, base))


async def _send(app, key: str, path: str, base: str):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base) as http:
        started = time.monotonic()
        answers = [
            await http.get(path, headers={"Authorization": f"Bearer {key}"}) for _ in range(BURST)
        ]
        return answers, time.monotonic() - started


def test_a_burst_beyond_25_a_second_answers_stripes_429(limited, server):
    answers, seconds = _burst(limited, server.api_key)
    statuses = [a.status_code for a in answers]
    passed = statuses.count(200)
    assert set(statuses) == {200, 429}
    # 25 at once, then what the bucket refilled while the burst ran (25/s), never more.
    assert 25 <= passed <= 25 + int(seconds * 25) + 1, (passed, seconds)
    assert statuses[:25] == [200] * 25
    refused = next(a for a in answers if a.status_code == 429)
    error = refused.json()["error"]
    assert error.pop("request_id", refused.headers["Request-Id"]) == refused.headers["Request-Id"]
    assert error.pop("doc_url") == "https://stripe.com/docs/error-codes/rate-limit"
    error.pop("request_log_url", None)
    assert error == {"type": "invalid_request_error", "code": "rate_limit", "message": MESSAGE}
    assert refused.headers["Request-Id"].startswith("req_")
    assert MESSAGE.startswith("Request rate limit exceeded.")


def test_another_key_and_the_unlimited_paths_are_not_affected(limited, server, make_sandbox):
    _burst(limited, server.api_key)  # this key's bucket is empty now
    other = make_sandbox("other")
    answers, _ = _burst(limited, other.api_key)
    assert [a.status_code for a in answers[:25]] == [200] * 25
    for path in ("/healthz", "/metrics"):
        health, _ = _burst(limited, server.api_key, path)
        assert {a.status_code for a in health} == {200}, path
    control, _ = _burst(limited, server.api_key, "/_openissuing/sandbox")
    assert 429 not in {a.status_code for a in control}


def test_the_dashboards_own_calls_are_exempt(limited, server):
    # The dashboard calls the API in-process at http://openissuing.internal (api_client.Api).
    answers, _ = _burst(limited, server.api_key, base="http://openissuing.internal")
    assert {a.status_code for a in answers} == {200}


def test_limits_are_off_by_default(server):
    # The suite's own server: a burst there is never refused.
    assert server.runtime.settings.rate_limit == "off"
    answers, _ = _burst(create_app(server.runtime), server.api_key)
    assert {a.status_code for a in answers} == {200}
