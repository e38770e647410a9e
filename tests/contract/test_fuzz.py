"""A bounded fuzzer (issue 11): every implemented endpoint, and the control API, gets mutated
requests — wrong types, out-of-range and huge integers, huge and deeply nested bracket params,
unicode and NUL, bad ids, bad ``expand[]``, ``limit`` and cursors, bad headers and content
types — built from the endpoint's own parameter spec, so most requests get past the parser and
reach the services with almost-valid input.

It fails on any 5xx, any body that is not Stripe-shaped (``{"error": {"type", "message"}}``
for an error), any hang (a client timeout), and on any change a refused request leaves behind
(the sandbox's objects and the ledger are compared before and after each refused write); the
books must balance at the end. Bounded: ``OPENISSUING_FUZZ_EXAMPLES`` examples (default 300)
per hypothesis test, derandomized so CI runs the same requests every time
(``OPENISSUING_FUZZ_RANDOM=1`` explores new ones).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

import openissuing.app  # noqa: F401 - importing the app registers every endpoint
from openissuing.api import control
from openissuing.api.params import spec_for
from openissuing.api.routing import ENDPOINTS
from openissuing.storage.ledger_audit import audit
from tests.contract.test_issuing_transactions import Card

EXAMPLES = int(os.environ.get("OPENISSUING_FUZZ_EXAMPLES", "300"))
RANDOM = os.environ.get("OPENISSUING_FUZZ_RANDOM") == "1"
TIMEOUT_SECONDS = 15
# Where a fuzzed webhook endpoint may point: never anywhere but this machine.
LOCAL_URLS = ["http://127.0.0.1:9/fuzz", "https://127.0.0.1:9/", "ftp://127.0.0.1/", "nope"]


@dataclass
class Tally:
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)


TALLY = Tally()


@dataclass
class World:
    """A funded card on a connected account, and ids of every kind to aim requests at."""

    http: httpx.Client
    card: Card
    ids: list[str]
    owners: list[str]
    targets: list[Target]
    control_sandbox: str
    control_key: str

    @property
    def acct(self) -> str:
        return self.card.acct


@pytest.fixture()
def world(client, server, make_sandbox) -> Iterator[World]:
    aside = make_sandbox("control")
    card = Card(client, server, fund=50_000)
    auth, capture = card.purchase(1_000)
    pending = card.auth_helpers.create(params={"card": card.card, "amount": 500}, options=card.o)
    credits = client.v1.treasury.received_credits.list(
        params={"financial_account": card.fa}, options=card.o
    ).data
    events = client.v1.events.list(params={"limit": 3}, options=card.o).data
    ids = [card.acct, card.fa, card.cardholder, card.card, auth.id, pending.id, capture.id]
    ids += [c.id for c in credits] + [e.id for e in events] + [server.platform_id]
    with httpx.Client(base_url=server.url, timeout=TIMEOUT_SECONDS) as http:
        owners = [server.platform_id, card.acct]
        targets = _targets(server.runtime)
        yield World(http, card, ids, owners, targets, aside.sandbox_id, aside.api_key)
    with server.runtime.engine.connect() as conn:
        assert audit(conn) == []


# --- what a request is made of ---------------------------------------------------------------

NASTY_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "é漢字🙂",
    "\u202e\ufeff",
    "' OR 1=1 --",
    "%00",
    "../../etc/passwd",
    "x" * 5000,
    "null",
    "true",
    "-1",
    "1e400",
    "9" * 40,
    "[]",
    "{}",
]
NASTY_INTS = [0, -1, 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30]
BAD_IDS = [
    "x",
    "acct_",
    "ic_\x00",
    "ich_nope",
    "fa_" + "z" * 300,
    "évt_ünïcode",
    "iauth_%2F..%2F",
    "acct_1 OR 1=1",
    "ipi_' --",
]

texts = st.text(st.characters(codec="utf-8"), max_size=40)
nasty_string = st.one_of(st.sampled_from(NASTY_STRINGS), texts)
nasty_int = st.one_of(st.sampled_from(NASTY_INTS), st.integers(), st.integers(-5, 5))


def _scalar(world: World) -> st.SearchStrategy[Any]:
    return st.one_of(
        nasty_string,
        nasty_int.map(str),
        st.sampled_from(world.ids),
        st.sampled_from(BAD_IDS),
        st.sampled_from(["true", "false", "1.5", "usd", "eur", "ach", "card"]),
    )


def _nested_junk(world: World) -> st.SearchStrategy[Any]:
    return st.recursive(
        _scalar(world),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)
        ),
        max_leaves=8,
    )


def _value(schema: dict, world: World, depth: int = 0) -> st.SearchStrategy[Any]:
    """A value for ``schema``: usually plausible, often wrong."""
    schema = _deref(schema)
    kind = schema.get("type")
    junk = _nested_junk(world) if depth < 3 else _scalar(world)
    if kind == "object" and depth < 4:
        fields = schema.get("fields", {})
        plausible = st.fixed_dictionaries(
            {},
            optional={name: _value(f["schema"], world, depth + 1) for name, f in fields.items()},
        )
        return st.one_of(plausible, plausible, junk)
    if kind == "union":
        return st.one_of([_value(o, world, depth + 1) for o in schema["options"]] + [junk])
    if kind == "array" and depth < 4:
        return st.one_of(st.lists(_value(schema["items"], world, depth + 1), max_size=3), junk)
    if kind == "map":
        return st.one_of(st.dictionaries(texts, nasty_string, max_size=3), junk)
    if kind == "enum":
        return st.one_of(st.sampled_from(schema["values"]), st.sampled_from(schema["values"]), junk)
    if kind == "integer":
        return st.one_of(st.integers(1, 5000).map(str), nasty_int.map(str), junk)
    if kind == "boolean":
        return st.one_of(st.sampled_from(["true", "false"]), junk)
    if kind == "empty":
        return st.just("")
    return st.one_of(st.sampled_from(world.ids), st.sampled_from(["usd", "ach"]), junk)


def _plausible(name: str, schema: dict, world: World, depth: int = 0) -> st.SearchStrategy[Any]:
    """A value the endpoint would likely accept, so the request reaches the service."""
    schema = _deref(schema)
    kind = schema.get("type")
    known = {
        "card": world.card.card,
        "cardholder": world.card.cardholder,
        "financial_account": world.card.fa,
        "authorization": world.ids[5],
        "transaction": world.ids[6],
        "currency": "usd",
        "network": "ach",
        "country": "US",
        "url": LOCAL_URLS[0],
    }
    if name in known and kind in ("string", "union", None):
        return st.just(known[name])
    if kind == "object" and depth < 3:
        fields = schema.get("fields", {})
        return st.fixed_dictionaries(
            {
                n: _plausible(n, f["schema"], world, depth + 1)
                for n, f in fields.items()
                if f.get("required")
            },
            optional={
                n: _plausible(n, f["schema"], world, depth + 1)
                for n, f in fields.items()
                if not f.get("required")
            },
        )
    if kind == "union":
        options = [o for o in schema["options"] if _deref(o).get("type") != "empty"]
        return _plausible(name, options[0] if options else schema["options"][0], world, depth)
    if kind == "array" and depth < 3:
        return st.lists(_plausible(name, schema["items"], world, depth + 1), min_size=1, max_size=2)
    if kind == "map":
        return st.dictionaries(st.sampled_from(["a", "memo"]), st.just("v"), max_size=2)
    if kind == "enum":
        return st.sampled_from(schema["values"])
    if kind == "integer":
        return st.sampled_from(["1", "100", "2500", "99999"])
    if kind == "boolean":
        return st.sampled_from(["true", "false"])
    if kind == "empty":
        return st.just("")
    return st.sampled_from(["usd", "fuzz", world.card.card])


def _deref(schema: dict) -> dict:
    if "$ref" in schema:
        from openissuing.api.params import _spec

        return _spec()["$defs"][schema["$ref"]]
    return schema


def _flatten(value: Any, prefix: str) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _flatten(v, f"{prefix}[{k}]")]
    if isinstance(value, list):
        return [pair for i, v in enumerate(value) for pair in _flatten(v, f"{prefix}[{i}]")]
    return [(prefix, str(value))]


def _encode(params: dict[str, Any]) -> str:
    pairs = [pair for name, value in params.items() for pair in _flatten(value, name)]
    return "&".join(f"{quote(k, safe='[]')}={quote(v, safe='')}" for k, v in pairs)


def _paging(world: World) -> st.SearchStrategy[dict[str, Any]]:
    cursor = st.one_of(st.sampled_from(world.ids), st.sampled_from(BAD_IDS), nasty_string)
    return st.fixed_dictionaries(
        {},
        optional={
            "limit": st.one_of(st.integers(-3, 103).map(str), nasty_int.map(str), nasty_string),
            "starting_after": cursor,
            "ending_before": cursor,
            "expand": st.lists(
                st.one_of(
                    st.sampled_from(["card", "cardholder", "data.card", "a.b.c.d.e", "data"]),
                    nasty_string,
                ),
                max_size=3,
            ),
            "created": st.one_of(
                nasty_int.map(str),
                st.fixed_dictionaries({}, optional={"gt": nasty_int, "lte": nasty_string}),
            ),
        },
    )


@dataclass(frozen=True)
class Target:
    method: str
    path: str
    spec_key: str | None  # the /v1 endpoint's spec, or None for the control API


def _targets(runtime) -> list[Target]:
    found = [Target(e.method, e.path, e.key) for e in ENDPOINTS]
    for route in control.routes(runtime):
        for method in sorted(route.methods - {"HEAD"}):
            found.append(Target(method, route.path, None))
    return found


def _path(target: Target, world: World, chosen: dict[str, str]) -> str:
    path = target.path
    for name in re.findall(r"{(\w+)}", path):
        path = path.replace("{" + name + "}", quote(chosen[name], safe=""))
    return path


CONTROL_PARAMS = {
    ("POST", "/_openissuing/sandboxes"): ("name",),
    ("POST", "/clock"): ("advance", "set", "freeze"),
    ("POST", "/faults"): (
        "kind",
        "method",
        "path",
        "count",
        "seconds",
        "expires_in",
        "event_type",
        "outcome",
    ),
}
CONTROL_VALUES = {
    "advance": ["1d", "90s", "1d12h", "-5s", "99999999999999999999w", "0", "3600"],
    "set": ["0", "1", str(2**63), "9" * 30, "-1"],
    "freeze": ["true", "false", "maybe"],
    "kind": ["error", "latency", "nope", "webhook"],
    "method": ["GET", "POST", "delete", "\u00e9"],
    "path": ["/v1/issuing/cards", "/v1/*", "*", ""],
    "count": ["1", "-1", str(2**64), "x"],
    "seconds": ["0", "1", str(2**64), "-3"],
    "expires_in": ["1h", "0", "x", "99999999999999999999d"],
    "outcome": ["500", "timeout", "200", "x"],
}


@st.composite
def requests(draw, world: World) -> dict[str, Any]:
    target = draw(st.sampled_from(world.targets))
    names = re.findall(r"{(\w+)}", target.path)
    if target.spec_key is None:
        # The control API is aimed at a sandbox of its own (its clock and faults never touch
        # the world's), and never deletes it (its key would stop working).
        own = (
            []
            if target.method == "DELETE" and target.path.endswith("}")
            else [
                "current",
                world.control_sandbox,
            ]
        )
        id_pool = st.one_of(st.sampled_from(own + BAD_IDS + ["sbx_nope", "default"]), texts)
    else:
        id_pool = st.one_of(
            st.sampled_from(world.ids), st.sampled_from(world.ids), st.sampled_from(BAD_IDS), texts
        )
    chosen = {name: draw(id_pool.filter(lambda s: s not in ("", ".", ".."))) for name in names}
    params: dict[str, Any] = {}
    if target.spec_key is not None:
        fields = spec_for(target.spec_key).get("fields", {})
        if draw(st.booleans()):  # wild: every field may be anything
            for name, f in fields.items():
                if draw(st.integers(0, 2)) or f.get("required"):
                    params[name] = draw(_value(f["schema"], world))
        else:  # plausible, with at most one field mutated
            for name, f in fields.items():
                if f.get("required") or draw(st.integers(0, 3)) == 0:
                    params[name] = draw(_plausible(name, f["schema"], world))
            if fields and draw(st.booleans()):
                name = draw(st.sampled_from(sorted(fields)))
                params[name] = draw(_value(fields[name]["schema"], world))
        if target.method == "GET" and not names and draw(st.booleans()):
            paging = draw(_paging(world))
            params.update({k: v for k, v in paging.items() if k in fields or k == "expand"})
    else:
        for name in CONTROL_PARAMS.get((target.method, target.path.rsplit("}", 1)[-1]), ()):
            if draw(st.booleans()):
                params[name] = draw(
                    st.one_of(_scalar(world), st.sampled_from(CONTROL_VALUES.get(name, [""])))
                )
    if draw(st.sampled_from([False] * 6 + [True])):
        params[draw(texts) or "x"] = draw(_nested_junk(world))
    if "url" in params:
        params["url"] = draw(st.sampled_from(LOCAL_URLS))
    body = _encode(params)
    shape = draw(st.sampled_from([9] * 12 + [0, 1, 2, 3]))
    content_type = "application/x-www-form-urlencoded"
    if shape == 0:
        body = "&".join(["a" + "[b]" * 300 + "=1", body])  # deeply nested brackets
    elif shape == 1:
        body = body + "&" + "&".join(f"k{i}=v" for i in range(3000))  # huge
    elif shape == 2:
        content_type = draw(
            st.sampled_from(["application/json", "text/plain", "multipart/form-data", "\x01"])
        )
        as_json = json.dumps(params)  # the control API reads JSON bodies; /v1 refuses them
        body = draw(st.sampled_from([as_json, body, '{"a": [1, {"b": null}]}', "%zz%", "[[[["]))
    elif shape == 3:
        body = draw(st.sampled_from(["%", "a=%E0%A4%A", "=&=&", "a[=1", "a]=1", "a[]]=1"]))
    headers = {"Content-Type": content_type, "Stripe-Account": world.acct}
    key = world.card.server.api_key
    if target.spec_key is None:
        del headers["Stripe-Account"]
        key = world.control_key
    header_shape = draw(st.sampled_from([9] * 10 + [0, 1, 2, 3, 4]))
    if header_shape == 0:
        headers["Stripe-Account"] = draw(
            st.sampled_from(["x", "acct_", "acct_ü漢", "acct_" + "z" * 300, world.owners[0]])
        )
    elif header_shape == 1:
        headers.pop("Stripe-Account", None)
    elif header_shape == 2:
        headers["Idempotency-Key"] = draw(st.sampled_from(["", "k" * 300, "ü", "same-key"]))
    elif header_shape == 3:
        headers["Stripe-Version"] = draw(st.sampled_from(["garbage", "", "2020-08-27", "é"]))
    elif header_shape == 4:
        key = draw(st.sampled_from(["", "sk_test_nope", "pk_test_x", "ü"]))
    query = ""
    if target.method in ("GET", "DELETE"):
        query, body = body, ""
    return {
        "method": target.method,
        "path": _path(target, world, chosen),
        "query": query,
        "body": body,
        "headers": headers,
        "key": key,
        "write": target.method != "GET",
    }


# --- what the server must do with it ---------------------------------------------------------


def _snapshot(server, world: World) -> str:
    """The sandbox's objects and the books, as one digest."""
    digest = hashlib.sha256()
    owners = ", ".join(f"'{o}'" for o in world.owners)
    with server.runtime.engine.connect() as conn:
        for row in conn.execute(
            text(f"SELECT id, data FROM objects WHERE owner IN ({owners}) ORDER BY id")
        ):
            digest.update(f"{row[0]}={row[1]}".encode())
        for table in ("ledger_transfers", "card_spend", "authorization_expiries"):
            counted = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            digest.update(str(counted).encode())
        for table in ("sandboxes", "sandbox_faults"):
            rows = conn.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()
            digest.update(repr([tuple(r) for r in rows]).encode())
        totals = conn.execute(
            text(
                "SELECT sum(debits_pending), sum(debits_posted), sum(credits_pending),"
                " sum(credits_posted) FROM ledger_accounts"
            )
        ).one()
        digest.update(repr(tuple(totals)).encode())
    return digest.hexdigest()


def _send(world: World, request: dict[str, Any]) -> httpx.Response:
    url = request["path"] + ("?" + request["query"] if request["query"] else "")
    headers = dict(request["headers"])
    if request["key"]:
        headers["Authorization"] = f"Bearer {request['key']}"
    # Raw UTF-8 bytes on the wire (HTTP itself cannot carry a NUL or a newline in a header).
    headers = {name: value.encode() for name, value in headers.items()}
    started = time.monotonic()
    try:
        response = world.http.request(
            request["method"], url, content=request["body"].encode(), headers=headers
        )
    except httpx.TimeoutException:
        pytest.fail(f"no answer within {TIMEOUT_SECONDS}s (a hang): {request!r:.2000}")
    TALLY.requests += 1
    TALLY.statuses[response.status_code] = TALLY.statuses.get(response.status_code, 0) + 1
    assert time.monotonic() - started < TIMEOUT_SECONDS
    return response


def _check(world: World, request: dict[str, Any], response: httpx.Response) -> None:
    where = f"{request['method']} {request['path'][:200]} -> {response.status_code}"
    if response.status_code >= 500:
        TALLY.server_errors.append(where)
        pytest.fail(f"a 5xx: {where}: {response.text[:500]}\nrequest: {request!r:.3000}")
    try:
        body = response.json()
    except ValueError:
        pytest.fail(f"not JSON: {where}: {response.text[:300]}")
    assert isinstance(body, dict), where
    if response.status_code >= 400:
        error = body.get("error")
        assert isinstance(error, dict), (where, body)
        assert isinstance(error.get("type"), str) and error["type"], (where, body)
        assert isinstance(error.get("message"), str) and error["message"], (where, body)
        for name in ("code", "param"):
            assert error.get(name) is None or isinstance(error[name], str), (where, body)
    else:
        assert "error" not in body, (where, body)
        assert isinstance(body.get("object", ""), str), where


def _exchange(server, world: World, request: dict[str, Any]) -> None:
    before = _snapshot(server, world) if request["write"] else None
    response = _send(world, request)
    _check(world, request, response)
    if before is not None and response.status_code >= 400:
        after = _snapshot(server, world)
        assert after == before, (
            f"a refused request changed something: {request['method']} {request['path']} -> "
            f"{response.status_code} {response.text[:300]}\nrequest: {request!r:.3000}"
        )


# --- the tests -------------------------------------------------------------------------------


def _every_target_once(world: World) -> Iterator[dict[str, Any]]:
    """Each endpoint with each kind of bad id, and the paging mutations every list takes."""
    for target in world.targets:
        names = re.findall(r"{(\w+)}", target.path)
        own = [world.ids[0]] if target.spec_key is not None else ["sbx_nope"]
        ids = own + ["ic_\x00", "x" * 400]
        key = world.control_key if target.spec_key is None else world.card.server.api_key
        for bad in ids:
            chosen = {name: bad for name in names}
            for query in ("", "expand[]=a.b.c.d&limit=0&starting_after=nope"):
                yield {
                    "method": target.method,
                    "path": _path(target, world, chosen),
                    "query": query if target.method == "GET" else "",
                    "body": "" if target.method == "GET" else query + "&amount=99999999999999999",
                    "headers": {
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Stripe-Account": world.acct,
                    },
                    "key": key,
                    "write": target.method != "GET",
                }
            if not names:
                break


def test_every_endpoint_answers_every_bad_id_and_paging_mutation(server, world):
    for request in _every_target_once(world):
        _exchange(server, world, request)


def test_fuzzed_requests_get_stripe_shaped_answers_and_refusals_change_nothing(server, world):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def fuzz(data):
        _exchange(server, world, data.draw(requests(world)))

    fuzz()
    print(
        f"\nfuzz: {TALLY.requests} requests, {len(TALLY.server_errors)} 5xx, "
        f"statuses {dict(sorted(TALLY.statuses.items()))}"
    )
    assert TALLY.server_errors == []


def test_an_unknown_or_foreign_cursor_is_resource_missing_naming_it(server, world, make_sandbox):
    elsewhere = make_sandbox("other")
    other = Card(elsewhere.client(), elsewhere, fund=0)
    stranger = other.card  # another sandbox's card: foreign to this account
    cases = [
        ("/v1/issuing/cards", "starting_after", "ic_doesnotexist"),
        ("/v1/issuing/cards", "ending_before", stranger),
        ("/v1/issuing/cards", "starting_after", world.card.cardholder),  # another type
        ("/v1/issuing/cardholders", "starting_after", world.card.card),
        ("/v1/events", "starting_after", "evt_nope"),
        ("/v1/treasury/transactions", "ending_before", "trxn_nope"),
        ("/v1/balance_transactions", "starting_after", "txn_nope"),
    ]
    for path, param, cursor in cases:
        params = {param: cursor}
        if path == "/v1/treasury/transactions":
            params["financial_account"] = world.card.fa
        response = world.http.get(
            path,
            params=params,
            headers={"Stripe-Account": world.acct},
            auth=(server.api_key, ""),
        )
        assert response.status_code == 404, (path, param, response.text)
        error = response.json()["error"]
        assert (error["type"], error["code"], error["param"]) == (
            "invalid_request_error",
            "resource_missing",
            param,
        )
        assert error["message"].startswith("No such ") and error["message"].endswith(
            f": '{cursor}'"
        )
    # A cursor the account can see still pages.
    page = world.card.client.v1.issuing.cards.list(
        params={"starting_after": world.card.card}, options=world.card.o
    )
    assert page.data == []
