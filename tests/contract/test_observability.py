"""A server that talks: ``/healthz``, ``/metrics`` (moved by real SDK calls, counted only once
committed) and one access-log line per request."""

from __future__ import annotations

import asyncio
import logging
import types

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine
from starlette.applications import Starlette

from openissuing import observability
from openissuing.api import health
from openissuing.domain.ledger import Kind, Transfer
from openissuing.storage.uow import transaction
from tests.contract.test_issuing_transactions import Card
from tests.contract.test_webhooks import new_cardholder
from tests.webhook_fixtures import eventually


def asgi_get(app, path: str) -> httpx.Response:
    """One request straight into an ASGI app, no server."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.get(path)

    return asyncio.run(go())


def metrics(server) -> dict[tuple[str, frozenset], float]:
    response = httpx.get(server.url + "/metrics")  # no key: Prometheus scrapes without one
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_healthz_answers_without_a_key_once_the_database_does(server):
    response = httpx.get(server.url + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_does_not_answer(tmp_path):
    broken = create_engine(f"sqlite:///{tmp_path / 'missing' / 'folder' / 'db.sqlite3'}")
    app = Starlette(routes=health.routes(types.SimpleNamespace(engine=broken)))
    response = asgi_get(app, "/healthz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"]) == ("unavailable", "unavailable")
    assert "unable to open database file" in body["error"]


def test_authorizations_and_ledger_transfers_are_counted_after_real_calls(client, server):
    card = Card(client, server, fund=5_000)  # one posted transfer: the funding
    before = metrics(server)
    approved = card.auth_helpers.create(params={"card": card.card, "amount": 1_000}, options=card.o)
    declined = card.auth_helpers.create(params={"card": card.card, "amount": 9_000}, options=card.o)
    assert approved.approved and not declined.approved
    card.auth_helpers.capture(approved.id, options=card.o)
    after = metrics(server)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    authorizations = "openissuing_authorizations_total"
    assert moved(authorizations, outcome="approved", reason="card_active") == 1
    assert moved(authorizations, outcome="declined", reason="insufficient_funds") == 1
    # The hold (pending), then the capture: void the hold, post the amount.
    transfers = "openissuing_ledger_transfers_total"
    assert moved(transfers, kind="pending") == 1
    assert moved(transfers, kind="posted") == 1
    assert moved(transfers, kind="void_pending") + moved(transfers, kind="post_pending") == 1
    assert moved("openissuing_ledger_transfer_amount_total", currency="usd", kind="posted") == 1_000


def test_request_latency_is_labelled_by_route_template(client, server):
    holder = new_cardholder(client)
    before = metrics(server)
    client.v1.issuing.cardholders.retrieve(holder.id)
    httpx.get(server.url + "/v1/no_such_thing")
    after = metrics(server)
    name = "openissuing_request_duration_seconds_count"
    labels = {"method": "GET", "route": "/v1/issuing/cardholders/{cardholder}", "status": "200"}
    assert value(after, name, **labels) - value(before, name, **labels) == 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(after, name, **unmatched) - value(before, name, **unmatched) == 1
    assert not any(holder.id in str(key) for key in after)


def test_webhook_deliveries_are_counted_by_outcome(
    server,
    client,
    dispatchers,
    receiver,
    endpoints,
):
    before = metrics(server)
    endpoints(receiver, events=["issuing_cardholder.created"])
    endpoints("http://127.0.0.1:9/unreachable", events=["issuing_cardholder.created"])
    dispatchers(schedule=())  # one attempt each, no retries
    new_cardholder(client)

    def counted():
        after = metrics(server)
        name = "openissuing_webhook_deliveries_total"
        ok = value(after, name, outcome="succeeded") - value(before, name, outcome="succeeded")
        down = value(after, name, outcome="unreachable") - value(
            before, name, outcome="unreachable"
        )
        return ok >= 1 and down >= 1

    eventually(counted)


def test_only_committed_work_is_counted(server):
    engine = server.runtime.engine
    name = "openissuing_ledger_transfers_total"
    start = metrics(server)

    def rolled_back(uow):
        observability.transfers_written(
            uow.after_commit, [Transfer("t_x", "a", "b", 1, "usd", Kind.POSTED)]
        )
        observability.event_recorded(
            uow.after_commit,
            "issuing_authorization.created",
            {"approved": True, "request_history": [{"reason": "rolled_back_probe"}]},
        )
        raise RuntimeError("the transaction fails after the hooks ran")

    with pytest.raises(RuntimeError):
        transaction(engine, rolled_back)
    after = metrics(server)
    assert value(after, name, kind="posted") == value(start, name, kind="posted")
    probe = {"outcome": "approved", "reason": "rolled_back_probe"}
    assert value(after, "openissuing_authorizations_total", **probe) == 0

    transaction(
        engine,
        lambda uow: observability.event_recorded(
            uow.after_commit,
            "issuing_authorization.created",
            {"approved": True, "request_history": [{"reason": "rolled_back_probe"}]},
        ),
    )
    assert value(metrics(server), "openissuing_authorizations_total", **probe) == 1


def test_one_access_log_line_per_request(client, server, caplog):
    from tests.flows import activated_account

    account = activated_account(client)
    with caplog.at_level(logging.INFO, logger="openissuing.access"):
        response = httpx.get(
            server.url + "/v1/issuing/cardholders?limit=1",
            headers={"Authorization": f"Bearer {server.api_key}", "Stripe-Account": account},
        )
        missing = httpx.get(server.url + "/v1/issuing/cards/ic_nope", auth=(server.api_key, ""))

        wanted = (response.headers["Request-Id"], missing.headers["Request-Id"])

        def logged():
            # A line is written once its answer is sent, so the client may be a moment ahead
            # (and an earlier request's line may land here late): pick ours by request id.
            found = [r.getMessage() for r in caplog.records if r.name == "openissuing.access"]
            mine = [[line for line in found if f" {rid} " in line] for rid in wanted]
            return mine if all(mine) else None

        first, second = eventually(logged)
    assert len(first) == len(second) == 1
    method, path, status, took, request_id, acting = first[0].split(" ")
    assert (method, path, status) == ("GET", "/v1/issuing/cardholders", "200")
    assert took.endswith("ms") and float(took[:-2]) >= 0
    assert (request_id, acting) == (response.headers["Request-Id"], account)
    fields = second[0].split(" ")
    assert fields[:3] == ["GET", "/v1/issuing/cards/ic_nope", "404"]
    assert fields[4:] == [missing.headers["Request-Id"], server.runtime.platform_id]


def test_quiet_means_no_access_log_lines(server, caplog):
    from openissuing.api.access import AccessLog

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    quiet = AccessLog(app, platform_id="acct_x", enabled=False)
    with caplog.at_level(logging.INFO, logger="openissuing.access"):
        assert asgi_get(quiet, "/anything").status_code == 204
    assert [r for r in caplog.records if r.name == "openissuing.access"] == []
