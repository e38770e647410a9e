"""More than one API process on one database, as a production deployment runs them: two
separate `openissuing serve` processes, and one `serve --workers 2` (uvicorn's workers).

Concurrent purchases against one financial account go through both processes
at once: across processes nothing but the database coordinates them (row and
advisory locks on PostgreSQL, or SERIALIZABLE with retries in that mode; the file
lock on SQLite), and exactly the affordable purchases are approved; the books balance.
"""

from __future__ import annotations

import concurrent.futures
import os
import socket
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from openissuing.storage.ledger_audit import audit
from tests.contract.test_concurrent_authorizations import _setup

AMOUNT = 700
PURCHASES = 120


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(server, tmp_path, workers: int = 1) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = dict(
        os.environ,
        OPENISSUING_WEBHOOK_DISPATCHER="false",
        OPENISSUING_ENCRYPTION_KEY_FILE=server.runtime.settings.encryption_key_file,
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openissuing.cli",
            "serve",
            "--port",
            str(port),
            "--database-url",
            server.database_url,
            "--api-key",
            server.live.api_key,  # the default sandbox's key; the test's sandbox key works too
            "--workers",
            str(workers),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "server.log", "w"),  # noqa: SIM115 - the child holds it open
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            httpx.get(
                url + "/v1/account",
                headers={"Authorization": f"Bearer {server.api_key}"},
                timeout=1,
            )
            return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("second server did not start")


def _workers_of(process: subprocess.Popen) -> int:
    """How many of the process's children are uvicorn's spawned workers (read from /proc)."""
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            cmdline = open(f"/proc/{entry}/cmdline", "rb").read()
        except OSError:
            continue
        if int(stat[1]) == process.pid and b"spawn_main" in cmdline:
            count += 1
    return count


def _logs(tmp_path) -> str:
    """The servers' stderr, errors first, for a failure message."""
    text = "".join(log.read_text() for log in sorted(tmp_path.rglob("server.log")))
    errors = [line for line in text.splitlines() if "ERROR" in line or "Error" in line]
    return "\n" + "\n".join(errors[:20] or text.splitlines()[-40:])


@pytest.mark.parametrize("layout", ["two serve processes", "serve --workers 2"])
def test_two_server_processes_never_overspend_one_account(server, client, tmp_path, layout):
    acct, fa_id, card_id = _setup(client)  # funded for 97 purchases and a bit
    others = []
    if layout == "serve --workers 2":
        others.append(_start(server, tmp_path, workers=2))
        assert _workers_of(others[0][0]) == 2
    else:
        for index in range(2):
            workdir = tmp_path / f"process-{index}"
            workdir.mkdir()
            others.append(_start(server, workdir))
    urls = [url for _, url in others]
    try:

        def purchase(index: int) -> dict:
            headers = {
                "Authorization": f"Bearer {server.api_key}",
                "Stripe-Account": acct,
                "Idempotency-Key": str(uuid.uuid4()),
            }
            response = httpx.post(
                urls[index % len(urls)] + "/v1/test_helpers/issuing/authorizations",
                data={"card": card_id, "amount": AMOUNT},
                headers=headers,
                timeout=60,
            )
            assert response.status_code == 200, response.text + _logs(tmp_path)
            return response.json()

        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(purchase, range(PURCHASES)))
        # Read the balance through the processes that made the holds: they keep real time, while
        # the session's server runs on a clock the other tests have moved months ahead (by which
        # these holds would long have expired).
        balance = httpx.get(
            f"{urls[0]}/v1/treasury/financial_accounts/{fa_id}",
            timeout=30,
            headers={"Authorization": f"Bearer {server.api_key}", "Stripe-Account": acct},
        ).json()["balance"]
    finally:
        for process, _ in others:
            process.terminate()
            process.wait(timeout=20)

    approved = sum(1 for r in results if r["approved"])
    assert approved == 97
    assert {r["request_history"][0]["reason"] for r in results if not r["approved"]} == {
        "insufficient_funds"
    }
    assert (balance["cash"]["usd"], balance["outbound_pending"]["usd"]) == (AMOUNT - 1, 97 * AMOUNT)
    with server.runtime.engine.connect() as conn:
        assert audit(conn) == []
