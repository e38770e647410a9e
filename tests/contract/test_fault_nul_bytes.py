"""Issue 11, fault 2: a NUL byte in an id, a filter or a form value gets the same
Stripe-shaped answer on every database (PostgreSQL used to answer 500: "text fields
cannot contain NUL")."""

from __future__ import annotations

import re

import httpx
import pytest

from openissuing.api import edge
from openissuing.api.routing import ENDPOINTS
from openissuing.domain.errors import InvalidRequest, PermissionDenied

WITH_PATH_IDS = [e for e in ENDPOINTS if "{" in e.path]


@pytest.fixture()
def http(server):
    with httpx.Client(base_url=server.url, auth=(server.api_key, ""), timeout=30) as client:
        yield client


def _url(path: str, nul_in: str) -> str:
    for name in re.findall(r"{(\w+)}", path):
        path = path.replace("{" + name + "}", "x_%00" if name == nul_in else "x_1")
    return path


@pytest.mark.parametrize("endpoint", WITH_PATH_IDS, ids=lambda e: f"{e.method} {e.path}")
def test_a_nul_in_a_path_id_is_404_for_that_resource(http, endpoint):
    for name in re.findall(r"{(\w+)}", endpoint.path):
        response = http.request(endpoint.method, _url(endpoint.path, name))
        error = response.json()["error"]
        if response.status_code == 400:  # a required parameter is missing: checked first
            assert error["code"] == "parameter_missing"
            continue
        assert response.status_code == 404, response.text
        assert error["code"] == "resource_missing"
        assert error["type"] == "invalid_request_error"
        if name == re.findall(r"{(\w+)}", endpoint.path)[-1] or name == "account":
            assert error["message"].endswith(": 'x_\x00'")


def test_the_account_path_reported_in_issue_11(http):
    response = http.get("/v1/accounts/acct_%00")
    assert response.status_code == 404
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("resource_missing", "account")
    assert error["message"] == "No such account: 'acct_\x00'"


@pytest.mark.parametrize(
    "method,path,raw",
    [
        ("GET", "/v1/issuing/cardholders", "email=a%00b"),
        ("GET", "/v1/issuing/authorizations", "card=ic_%00"),
        ("GET", "/v1/treasury/transactions", "financial_account=fa_%00"),
        ("GET", "/v1/events", "type=%00"),
        ("GET", "/v1/issuing/cards", "limit=1&starting_after=ic_%00"),
        ("POST", "/v1/issuing/cardholders", "name=Jenny%00&type=individual"),
        ("POST", "/v1/webhook_endpoints", "url=http://127.0.0.1:9/x&metadata[k%00]=v"),
    ],
)
def test_a_nul_in_a_parameter_is_400_naming_it(http, method, path, raw):
    if method == "GET":
        response = http.get(f"{path}?{raw}")
    else:
        response = http.post(
            path, content=raw, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert "NUL" in error["message"]
    assert error["param"] in raw.replace("%00", "\\u0000")


def test_nul_in_headers_is_answered_before_any_query():
    with pytest.raises(PermissionDenied) as denied:
        edge.screen("/v1/issuing/cards", {}, {"stripe-account": "acct_\x00"})
    assert denied.value.code == "account_invalid"
    with pytest.raises(InvalidRequest) as refused:
        edge.screen("/v1/issuing/cards", {}, {"idempotency-key": "k\x00"})
    assert refused.value.param == "Idempotency-Key"
