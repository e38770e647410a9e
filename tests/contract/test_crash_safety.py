"""Crash safety (issue 11): ``openissuing serve`` SIGKILLed mid-load loses nothing it
acknowledged and leaves nothing half-done.

A real server process on the session's database (SQLite or PostgreSQL) takes concurrent
authorizations, captures, received credits and cardholder creates, each with an
Idempotency-Key; the test records which requests were acknowledged with which answer, kills
the server with SIGKILL at a random moment, starts a new one on the same database and checks:

* every acknowledged write is there, with its state, and its retry replays the same answer;
* every request (acknowledged or not) retried with its key applies exactly once: one object
  per key, a second retry replays the first;
* nothing unacknowledged half-exists: every approved authorization has its Treasury
  transaction and every Treasury transaction its flow, the held amount is exactly the open
  authorizations' holds;
* the financial account's balance equals the sum of its Treasury transactions, and equals what
  the acknowledged answers imply; ``openissuing check-ledger`` is clean.

Bounded: ``ROUNDS`` kills per run (the restarted server takes the next round's load), each
with a few seconds of load; every request has a client timeout.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import httpx

from openissuing import maintenance
from tests.contract.test_issuing_transactions import ADDRESS, Card
from tests.contract.test_multiprocess_servers import _free_port

ROUNDS = int(os.environ.get("OPENISSUING_CRASH_ROUNDS", "3"))
WORKERS = 6
FUND = 5_000_000
CREDIT = 1_000
CLIENT_TIMEOUT = 30


@dataclass
class Sent:
    """One write with its Idempotency-Key, and the answer if the server gave one."""

    kind: str  # "authorize", "capture", "credit", "cardholder"
    path: str
    params: dict[str, Any]
    key: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: int | None = None  # None: not acknowledged (the server died first)
    body: dict | None = None


class Load:
    """Workers sending writes until told to stop; every request is recorded before it goes."""

    def __init__(self, url: str, card: Card, api_key: str, seed: int) -> None:
        self.url, self.card, self.api_key = url, card, api_key
        self.sent: list[Sent] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.random = random.Random(seed)

    def send(self, item: Sent, url: str | None = None) -> httpx.Response:
        return httpx.post(
            (url or self.url) + item.path,
            content=urlencode(_form(item.params)),
            headers={
                "Stripe-Account": self.card.acct,
                "Idempotency-Key": item.key,
                "Content-Type": "application/x-www-form-urlencoded",
            },
            auth=(self.api_key, ""),
            timeout=CLIENT_TIMEOUT,
        )

    def _do(self, item: Sent) -> Sent | None:
        with self.lock:
            self.sent.append(item)
        try:
            response = self.send(item)
        except httpx.HTTPError:
            return None  # the server died: not acknowledged
        item.status, item.body = response.status_code, response.json()
        return item

    def worker(self, index: int) -> None:
        rng = random.Random(self.random.random() + index)
        while not self.stop.is_set():
            choice = rng.random()
            if choice < 0.6:
                amount = rng.randint(100, 900)
                auth = self._do(
                    Sent(
                        "authorize",
                        "/v1/test_helpers/issuing/authorizations",
                        {"card": self.card.card, "amount": amount},
                    )
                )
                if auth is None:
                    return
                if auth.status == 200 and auth.body["approved"] and rng.random() < 0.7:
                    path = f"/v1/test_helpers/issuing/authorizations/{auth.body['id']}/capture"
                    if self._do(Sent("capture", path, {})) is None:
                        return
            elif choice < 0.8:
                credit = Sent(
                    "credit",
                    "/v1/test_helpers/treasury/received_credits",
                    {
                        "financial_account": self.card.fa,
                        "amount": CREDIT,
                        "currency": "usd",
                        "network": "ach",
                    },
                )
                if self._do(credit) is None:
                    return
            else:
                holder = Sent(
                    "cardholder",
                    "/v1/issuing/cardholders",
                    {"name": f"Crash {index}", "billing": {"address": ADDRESS}},
                )
                if self._do(holder) is None:
                    return


def _form(params: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        key = f"{prefix}[{name}]" if prefix else name
        if isinstance(value, dict):
            pairs += _form(value, key)
        else:
            pairs.append((key, str(value)))
    return pairs


def _serve(server, workdir, synchronous: str = "normal") -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = dict(
        os.environ,
        OPENISSUING_WEBHOOK_DISPATCHER="false",
        OPENISSUING_ENCRYPTION_KEY_FILE=server.runtime.settings.encryption_key_file,
        OPENISSUING_SQLITE_SYNCHRONOUS=synchronous,  # SQLite only; both survive a process crash
    )
    command = [sys.executable, "-m", "openissuing.cli", "serve", "--port", str(port), "--quiet"]
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


def _settle(load: Load, item: Sent, url: str) -> httpx.Response:
    """The retry a client makes after a crash: same key, until it is not a 409 (bounded)."""
    give_up = time.monotonic() + 30
    while True:
        response = load.send(item, url)
        if response.status_code != 409 or time.monotonic() > give_up:
            return response
        time.sleep(0.2)


def test_sigkill_mid_load_loses_no_acknowledged_write(client, server, tmp_path, monkeypatch):
    # As in test_fault_realtime_crash: the session's housekeeper runs on the session's clock,
    # which other tests move ahead; keep its pruning away from this test's fresh keys.
    monkeypatch.setattr(maintenance, "prune_idempotency_keys", lambda *args: 0)
    monkeypatch.setattr(maintenance, "resume", SimpleNamespace(recover_due=lambda runtime: 0))
    card = Card(client, server, fund=FUND)
    history: list[Sent] = []
    figures = {"rounds": 0, "sent": 0, "acknowledged": 0, "unacknowledged": 0, "lost": 0}
    process, url = _serve(server, tmp_path)
    try:
        for round_number in range(ROUNDS):
            load = Load(url, card, server.api_key, seed=round_number)
            threads = [threading.Thread(target=load.worker, args=(i,)) for i in range(WORKERS)]
            for thread in threads:
                thread.start()
            time.sleep(load.random.uniform(1.0, 2.5))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=20)
            load.stop.set()
            for thread in threads:
                thread.join(timeout=CLIENT_TIMEOUT + 5)
                assert not thread.is_alive()
            acknowledged = [s for s in load.sent if s.status is not None]
            # The restarted server (it takes the next round) alternates SQLite's two levels.
            process, url = _serve(server, tmp_path, ("full", "normal")[round_number % 2])
            lost = _check_round(load, url, card)
            history += load.sent
            figures["rounds"] += 1
            figures["sent"] += len(load.sent)
            figures["acknowledged"] += len(acknowledged)
            figures["unacknowledged"] += len(load.sent) - len(acknowledged)
            figures["lost"] += lost
            assert lost == 0
        _check_books(card, history, server)
    finally:
        process.terminate()
        process.wait(timeout=20)
    print(f"\ncrash safety: {figures}")
    assert figures["acknowledged"] > 0 and figures["rounds"] == ROUNDS


def _check_round(load: Load, url: str, card: Card) -> int:
    """Retry every request of the round on the restarted server; returns writes lost."""
    lost = 0
    for item in load.sent:
        assert item.status is None or item.status < 500, (item, item.body)
        if item.status is not None:
            # Acknowledged: the retry replays exactly what was answered.
            response = _settle(load, item, url)
            if response.status_code != item.status or response.json() != item.body:
                lost += 1
                continue
            assert response.headers.get("Idempotent-Replayed") == "true", item
            if item.status == 200:
                _assert_there(load, url, item)
        else:
            # Not acknowledged: the retry applies it (once) or refuses it as it would have.
            first = _settle(load, item, url)
            assert first.status_code < 500 and first.status_code != 409, first.text
            item.status, item.body = first.status_code, first.json()
            again = load.send(item, url)
            assert (again.status_code, again.json()) == (item.status, item.body)
            assert again.headers.get("Idempotent-Replayed") == "true"
    return lost


def _assert_there(load: Load, url: str, item: Sent) -> None:
    """An acknowledged object is stored with (at least) the state it was answered with."""
    path = {
        "authorize": "/v1/issuing/authorizations/",
        "capture": "/v1/issuing/authorizations/",
        "credit": "/v1/treasury/received_credits/",
        "cardholder": "/v1/issuing/cardholders/",
    }[item.kind]
    stored = httpx.get(
        url + path + item.body["id"],
        headers={"Stripe-Account": load.card.acct},
        auth=(load.api_key, ""),
        timeout=CLIENT_TIMEOUT,
    )
    assert stored.status_code == 200, (item, stored.text)
    found = stored.json()
    if item.kind == "capture":
        assert found["status"] == "closed" and found["pending_request"] is None
        assert [t["id"] for t in found["transactions"]] == [
            t["id"] for t in item.body["transactions"]
        ]
        assert len(found["transactions"]) == 1
    elif item.kind == "authorize":
        assert found["approved"] == item.body["approved"]
        assert found["request_history"] == item.body["request_history"]
    elif item.kind == "credit":
        assert (found["amount"], found["status"]) == (item.body["amount"], item.body["status"])
    else:
        assert (found["name"], found["status"]) == (item.body["name"], item.body["status"])


def _check_books(card: Card, history: list[Sent], server) -> None:
    """Exactly once, nothing half-there, the books balance and match what was answered."""
    c, o = card.client, card.o
    authorize = [s for s in history if s.kind == "authorize" and s.status == 200]
    auth_ids = [s.body["id"] for s in authorize]
    assert len(set(auth_ids)) == len(auth_ids)  # one authorization per key
    stored = list(
        c.v1.issuing.authorizations.list(
            params={"card": card.card, "limit": 100}, options=o
        ).auto_paging_iter()
    )
    assert {a.id for a in stored} == set(auth_ids)  # none without an answered key
    captured = {s.path.split("/")[-2] for s in history if s.kind == "capture" and s.status == 200}
    held = 0
    for auth in stored:
        if auth.approved:
            trxn = c.v1.treasury.transactions.retrieve(auth.treasury.transaction, options=o)
            assert (trxn.flow, trxn.flow_type) == (auth.id, "issuing_authorization")
        else:
            assert auth.treasury is None or auth.treasury.transaction is None
        if auth.id in captured:
            assert auth.status == "closed" and len(auth.transactions) == 1
        elif auth.status == "pending":
            held += auth.amount
    credits = [s for s in history if s.kind == "credit" and s.status == 200]
    assert len({s.body["id"] for s in credits}) == len(credits)
    stored_credits = list(
        c.v1.treasury.received_credits.list(
            params={"financial_account": card.fa, "limit": 100}, options=o
        ).auto_paging_iter()
    )
    assert len(stored_credits) == len(credits) + 1  # and the initial funding
    holders = [s for s in history if s.kind == "cardholder" and s.status == 200]
    stored_holders = list(
        c.v1.issuing.cardholders.list(params={"limit": 100}, options=o).auto_paging_iter()
    )
    assert len(stored_holders) == len(holders) + 1  # and the card's own
    for trxn in c.v1.treasury.transactions.list(
        params={"financial_account": card.fa, "limit": 100}, options=o
    ).auto_paging_iter():
        if trxn.flow_type == "issuing_authorization":
            assert trxn.flow in set(auth_ids)
    spent = sum(a.request_history[0].amount for a in stored if a.id in captured)
    card.books(cash=FUND + CREDIT * len(credits) - spent - held, outbound_pending=held)
    result = subprocess.run(
        [sys.executable, "-m", "openissuing.cli", "check-ledger"]
        + ["--database-url", server.database_url],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
