"""Issue 11, fault 3: a server SIGKILLed while it waits for the platform's
``issuing_authorization.request`` answer leaves nothing wedged.

Before: the authorizations stayed ``pending`` (approved=false, amount 0) forever and
every retry with the same Idempotency-Key answered 409 for the key's whole retention.
Now a restarted server concludes each one as Stripe would after its deadline (the
timeout default, ``webhook_timeout``), stores the answer, and the retry replays it.
Real processes, a real kill, the session's database (SQLite or PostgreSQL).
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import time
import uuid
from types import SimpleNamespace

import httpx

from openissuing import maintenance
from openissuing.api import resume
from openissuing.storage.ledger_audit import audit
from tests.contract.test_issuing_transactions import Card
from tests.contract.test_multiprocess_servers import _free_port
from tests.webhook_receiver import WebhookReceiver

DEADLINE_SECONDS = 3
IN_FLIGHT = 8
KEYLESS = 2  # of the in-flight requests, these carry no Idempotency-Key


def _serve(server, workdir) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = dict(
        os.environ,
        OPENISSUING_WEBHOOK_DISPATCHER="false",
        OPENISSUING_ENCRYPTION_KEY_FILE=server.runtime.settings.encryption_key_file,
        OPENISSUING_REALTIME_DEADLINE_SECONDS=str(DEADLINE_SECONDS),
    )
    command = [sys.executable, "-m", "openissuing.cli", "serve", "--port", str(port)]
    command += ["--database-url", server.database_url, "--api-key", server.live.api_key]
    process = subprocess.Popen(
        command, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            httpx.get(url + "/v1/account", auth=(server.api_key, ""), timeout=1)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def test_a_killed_server_leaves_no_realtime_authorization_wedged(
    client, server, tmp_path, monkeypatch
):
    # The session's own housekeeper shares this database but runs on the session's clock,
    # which other tests move months ahead: its pruning would take the real-time servers'
    # fresh keys for day-old ones. Keep it out of this test (the subprocesses keep theirs).
    monkeypatch.setattr(maintenance, "prune_idempotency_keys", lambda *args: 0)
    monkeypatch.setattr(maintenance, "resume", SimpleNamespace(recover_due=lambda runtime: 0))
    card = Card(client, server, fund=10_000)
    with WebhookReceiver() as receiver:
        receiver.delay_seconds = 20  # never answers within the deadline
        endpoint = client.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["issuing_authorization.request"]},
            options=card.o,
        )
        try:
            _kill_mid_wait_then_retry(server, card, receiver, tmp_path)
        finally:
            client.v1.webhook_endpoints.delete(endpoint.id, options=card.o)


def _kill_mid_wait_then_retry(server, card: Card, receiver: WebhookReceiver, tmp_path) -> None:
    keys = [str(uuid.uuid4()) if i >= KEYLESS else None for i in range(IN_FLIGHT)]
    params = {"card": card.card, "amount": 100}
    first, url = _serve(server, tmp_path)

    def purchase(key: str | None, base: str) -> httpx.Response:
        headers = {"Stripe-Account": card.acct}
        if key is not None:
            headers["Idempotency-Key"] = key
        return httpx.post(
            base + "/v1/test_helpers/issuing/authorizations",
            data=params,
            headers=headers,
            auth=(server.api_key, ""),
            timeout=60,
        )

    with concurrent.futures.ThreadPoolExecutor(IN_FLIGHT) as pool:
        futures = [pool.submit(purchase, key, url) for key in keys]
        try:
            receiver.wait_for(IN_FLIGHT, timeout=30)  # every one is waiting for the platform
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=20)
        for future in futures:
            try:
                future.result()
                raise AssertionError("a request answered although its server was killed")
            except httpx.HTTPError:
                pass

    # What issue 11 found: each one stored pending, undecided.
    stuck = card.client.v1.issuing.authorizations.list(
        params={"card": card.card, "limit": 100}, options=card.o
    ).data
    assert len(stuck) == IN_FLIGHT
    assert all(a.status == "pending" and a.pending_request is not None for a in stuck)

    second, url = _serve(server, tmp_path)
    try:
        answers = [_retry_until_answered(purchase, key, url) for key in keys[KEYLESS:]]
    finally:
        second.terminate()
        second.wait(timeout=20)
    for response in answers:
        assert response.status_code == 200, response.text
        assert response.headers.get("Idempotent-Replayed") == "true", (
            response.json()["id"] in {a.id for a in stuck},
            response.json()["request_history"],
            [r.json()["id"] for r in answers],
            {a.id for a in stuck},
        )
        body = response.json()
        assert body["approved"] is False and body["pending_request"] is None
        assert body["request_history"][0]["reason"] == "webhook_timeout"
        assert body["status"] == "closed"
    # The ones without a key are concluded by the recovery sweep (at start and with housekeeping;
    # the restarted server's own sweep may have been first if it started after they were due).
    assert resume.recover_due(server.runtime) <= KEYLESS
    concluded = card.client.v1.issuing.authorizations.list(
        params={"card": card.card, "limit": 100}, options=card.o
    ).data
    assert {a.id for a in concluded} == {a.id for a in stuck}
    for authorization in concluded:
        assert authorization.pending_request is None
        assert authorization.request_history[0].reason == "webhook_timeout"
    assert {r.json()["id"] for r in answers} <= {a.id for a in concluded}
    card.books(cash=10_000)
    with server.runtime.engine.connect() as conn:
        assert audit(conn) == []


def _retry_until_answered(purchase, key: str, url: str) -> httpx.Response:
    """Retry as the SDKs do on 409 (Stripe-Should-Retry), bounded in time."""
    give_up = time.monotonic() + DEADLINE_SECONDS + resume.MARGIN_SECONDS + 30
    while True:
        response = purchase(key, url)
        if response.status_code != 409 or time.monotonic() > give_up:
            return response
        assert response.headers.get("Stripe-Should-Retry") == "true"
        time.sleep(0.5)


def test_a_request_that_finishes_after_a_recovery_concluded_it_answers_the_recovery(client, server):
    """The owner was only slow, not dead: its second half loses the claim and replays what
    the recovery stored, and the authorization is concluded exactly once."""
    from openissuing.storage import continuations
    from openissuing.storage.uow import transaction
    from tests.contract.test_realtime_authorizations import World, answer

    key = str(uuid.uuid4())
    with WebhookReceiver() as receiver:
        world = World(client, server, receiver)

        def recover_first(request):
            def work(uow):
                row = continuations.for_key(uow.conn, world.acct, key)
                assert continuations.claim(uow.conn, row.object_id)
                resume._conclude(server.runtime, uow, row)

            transaction(server.runtime.engine, work)
            return answer({"approved": True})  # too late: the recovery decided

        receiver.responder = recover_first
        auth = client.v1.test_helpers.issuing.authorizations.create(
            params={"card": world.card, "amount": 700},
            options={**world.o, "idempotency_key": key},
        )
        again = client.v1.test_helpers.issuing.authorizations.create(
            params={"card": world.card, "amount": 700},
            options={**world.o, "idempotency_key": key},
        )
    assert auth.approved is False and auth.pending_request is None
    assert [h.reason for h in auth.request_history] == ["webhook_timeout"]
    assert again.to_dict() == auth.to_dict()
    stored = client.v1.issuing.authorizations.retrieve(auth.id, options=world.o)
    assert [h.reason for h in stored.request_history] == ["webhook_timeout"]
    assert world.balance()[1] == 0  # no hold
    with server.runtime.engine.connect() as conn:
        assert audit(conn) == []
