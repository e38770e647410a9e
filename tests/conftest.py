"""The real server, started once per test session, driven over HTTP.

The database comes from ``OPENISSUING_TEST_DATABASE_URL``: unset means a fresh
SQLite file; a ``postgresql://`` URL means a fresh database is created on that
server for the session and dropped afterwards (so runs never see each other).
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass

import httpx
import pytest
import stripe
import uvicorn

from openissuing.api.http_server import uvicorn_options
from openissuing.app import build_runtime, create_app
from openissuing.clock import OffsetClock
from openissuing.domain.sandboxes import ClockState
from openissuing.settings import Settings
from openissuing.storage.sandboxes import SandboxStore
from openissuing.storage.uow import transaction as db_transaction

# Every JSON body the suite receives from the server is checked against the SDK's classes.
from tests.shape_hooks import (  # noqa: E402, F401
    pytest_runtest_makereport,
    shapes_checked,
    shapes_hooked,
)

# Shared fixtures every test module may ask for by name (webhook receivers and dispatchers).
from tests.webhook_fixtures import dispatchers, endpoints, receiver  # noqa: E402, F401

TEST_API_KEY = "sk_test_openissuing_" + "x" * 24


@dataclass
class RunningServer:
    url: str
    api_key: str
    runtime: object
    clock: OffsetClock
    database_url: str

    def client(self, **options) -> stripe.StripeClient:
        return stripe.StripeClient(
            self.api_key, base_addresses={"api": self.url}, max_network_retries=0, **options
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fresh_postgres(url: str) -> tuple[str, callable]:
    import psycopg

    name = "oi_test_" + secrets.token_hex(6)
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.rsplit("/", 1)[0] + "/" + name, drop


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    configured = os.environ.get("OPENISSUING_TEST_DATABASE_URL")
    if configured and configured.startswith("postgres"):
        url, drop = _fresh_postgres(configured)
        yield url
        drop()
        return
    yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'openissuing.sqlite3'}"


@pytest.fixture(scope="session")
def live_server(database_url, tmp_path_factory) -> RunningServer:
    clock = OffsetClock()
    settings = Settings(
        database_url=database_url,
        api_key=TEST_API_KEY,
        encryption_key_file=str(tmp_path_factory.mktemp("keys") / "openissuing.key"),
    )
    runtime = build_runtime(settings, clock)
    port = _free_port()
    config = uvicorn.Config(
        create_app(runtime),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        **uvicorn_options(),
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not uv.started:
        if time.time() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    yield RunningServer(f"http://127.0.0.1:{port}", TEST_API_KEY, runtime, clock, database_url)
    uv.should_exit = True
    thread.join(timeout=10)
    runtime.engine.dispose()
    _check_ledger_after_the_suite(database_url)


def _check_ledger_after_the_suite(database_url: str) -> None:
    """Whatever the suite did to money, the books must still balance: run the real CLI on its
    database."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "openissuing.cli", "check-ledger", "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        pytest.fail(
            f"openissuing check-ledger failed after the suite:\n{result.stdout}{result.stderr}"
        )


class SandboxClock:
    """A test's handle on its sandbox's clock: ``advance(seconds)`` moves only that sandbox.

    It writes the sandbox's clock state directly (tests may also step back to
    undo a move); the control API's ``POST …/clock`` is exercised by its own tests.
    """

    def __init__(self, live: RunningServer, sandbox_id: str) -> None:
        self.live = live
        self.sandbox_id = sandbox_id

    def _sandbox(self, uow):
        return SandboxStore(uow.conn).get(self.sandbox_id)

    def now(self) -> int:
        found = db_transaction(self.live.runtime.engine, self._sandbox, write=False)
        return self.live.runtime.sandboxes.clock(found).now()

    def freeze(self) -> None:
        """Stop the sandbox's clock where it reads now, so a test can step to an exact second
        (a boundary such as a deadline) without the wall clock ticking past it."""

        def work(uow):
            found = self._sandbox(uow)
            moved = found.clock.frozen(self.live.runtime.sandboxes.base_clock.now())
            SandboxStore(uow.conn).set_clock(found.id, moved)
            return dataclasses.replace(found, clock=moved)

        self.live.runtime.sandboxes.remember(db_transaction(self.live.runtime.engine, work))

    def advance(self, seconds: int) -> None:
        def work(uow):
            found = self._sandbox(uow)
            moved = ClockState(found.clock.offset_seconds + seconds, found.clock.frozen_at)
            if found.clock.frozen_at is not None:
                moved = ClockState(found.clock.offset_seconds, found.clock.frozen_at + seconds)
            SandboxStore(uow.conn).set_clock(found.id, moved)
            return dataclasses.replace(found, clock=moved)

        self.live.runtime.sandboxes.remember(db_transaction(self.live.runtime.engine, work))


@dataclass
class SandboxServer:
    """The running server as one test sees it: its own sandbox (key, platform account, clock)."""

    live: RunningServer
    sandbox_id: str
    api_key: str
    platform_id: str
    clock: SandboxClock

    @property
    def url(self) -> str:
        return self.live.url

    @property
    def runtime(self):
        return self.live.runtime

    @property
    def database_url(self) -> str:
        return self.live.database_url

    def client(self, **options) -> stripe.StripeClient:
        return stripe.StripeClient(
            self.api_key, base_addresses={"api": self.url}, max_network_retries=0, **options
        )


def new_sandbox(live: RunningServer, name: str) -> SandboxServer:
    """A fresh sandbox made through the control API with the default sandbox's key."""
    answer = httpx.post(
        f"{live.url}/_openissuing/sandboxes",
        data={"name": name[:100]},
        headers={"Authorization": f"Bearer {live.api_key}"},
        timeout=30,
    )
    answer.raise_for_status()
    made = answer.json()
    return SandboxServer(
        live,
        made["id"],
        made["secret_key"],
        made["platform_account"],
        SandboxClock(live, made["id"]),
    )


@pytest.fixture()
def server(live_server, request) -> SandboxServer:
    """Each test gets its own sandbox, so its objects, events and clock are its own."""
    return new_sandbox(live_server, request.node.name)


@pytest.fixture(scope="module")
def module_server(live_server, request) -> SandboxServer:
    """One sandbox shared by a module's tests (for module-scoped fixtures)."""
    return new_sandbox(live_server, request.module.__name__)


@pytest.fixture()
def client(server) -> stripe.StripeClient:
    return server.client()


def pytest_report_header(config) -> str:
    url = os.environ.get("OPENISSUING_TEST_DATABASE_URL") or "sqlite (fresh file)"
    return f"openissuing test database: {url}"


@pytest.fixture()
def make_sandbox(live_server, request):
    """More sandboxes for one test (isolation tests): ``make_sandbox("name")``."""
    return lambda name="extra": new_sandbox(live_server, f"{request.node.name}-{name}")
