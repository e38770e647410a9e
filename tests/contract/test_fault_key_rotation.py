"""Issue 11, fault 4 (rotation) and 5 (upgrade): ``openissuing rotate-key`` re-seals every
secret under the newest key, resumably; plaintext answers from before are sealed at start.

Runs on a private database of the pass's engine (a fresh SQLite file, or a fresh
PostgreSQL database in the PostgreSQL pass), since it changes which keys open it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import orjson
import pytest
import stripe
import uvicorn
from cryptography.fernet import Fernet
from sqlalchemy import text

from openissuing import keyring
from openissuing.app import build_runtime, create_app
from openissuing.secrets_box import SecretBox
from openissuing.settings import Settings
from openissuing.storage import sealed
from tests.conftest import _free_port, _fresh_postgres
from tests.flows import activated_account

API_KEY = "sk_test_rotation_" + "r" * 24
LEGACY_SECRET = "whsec_" + "L" * 32


@pytest.fixture()
def private_url(tmp_path):
    configured = os.environ.get("OPENISSUING_TEST_DATABASE_URL")
    if configured and configured.startswith("postgres"):
        url, drop = _fresh_postgres(configured)
        yield url
        drop()
    else:
        yield f"sqlite:///{tmp_path / 'rotation.sqlite3'}"


class Running:
    def __init__(self, url: str, keys: str, workdir) -> None:
        settings = Settings(
            database_url=url,
            api_key=API_KEY,
            encryption_key=keys,
            encryption_key_file=str(workdir / "never.key"),
            webhook_dispatcher=False,
        )
        self.runtime = build_runtime(settings)
        port = _free_port()
        self.uv = uvicorn.Server(
            uvicorn.Config(
                create_app(self.runtime), host="127.0.0.1", port=port, log_level="warning"
            )
        )
        self.thread = threading.Thread(target=self.uv.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 20
        while not self.uv.started and time.time() < deadline:
            time.sleep(0.02)
        self.client = stripe.StripeClient(
            API_KEY, base_addresses={"api": f"http://127.0.0.1:{port}"}, max_network_retries=0
        )

    def stop(self) -> None:
        self.uv.should_exit = True
        self.thread.join(timeout=10)
        self.runtime.engine.dispose()


def _world(client) -> dict:
    acct = activated_account(client)
    o = {"stripe_account": acct}
    fa = client.v1.treasury.financial_accounts.create(
        params={
            "supported_currencies": ["usd"],
            "features": {
                "card_issuing": {"requested": True},
                "financial_addresses": {"aba": {"requested": True}},
            },
        },
        options=o,
    ).id
    holder = client.v1.issuing.cardholders.create(
        params={
            "name": "Key Holder",
            "billing": {
                "address": {
                    "line1": "1 Main St",
                    "city": "San Francisco",
                    "state": "CA",
                    "postal_code": "94111",
                    "country": "US",
                }
            },
        },
        options=o,
    ).id
    cards = [
        client.v1.issuing.cards.create(
            params={"cardholder": holder, "currency": "usd", "type": "virtual"}, options=o
        ).id
        for _ in range(3)
    ]
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": "http://127.0.0.1:9/h", "enabled_events": ["*"]},
        options={"idempotency_key": "endpoint-1"},
    )
    return {"o": o, "fa": fa, "cards": cards, "endpoint": endpoint}


def _secrets(client, world) -> dict:
    o = world["o"]
    numbers = {
        card: client.v1.issuing.cards.retrieve(
            card, params={"expand": ["number", "cvc"]}, options=o
        ).number
        for card in world["cards"]
    }
    fa = client.v1.treasury.financial_accounts.retrieve(
        world["fa"], params={"expand": ["financial_addresses.aba.account_number"]}, options=o
    )
    replay = client.v1.webhook_endpoints.create(
        params={"url": "http://127.0.0.1:9/h", "enabled_events": ["*"]},
        options={"idempotency_key": "endpoint-1"},
    )
    return {
        "numbers": numbers,
        "aba": fa.financial_addresses[0].aba.account_number,
        "secret": replay.secret,
    }


def _plant_legacy_answer(engine, scope: str) -> None:
    """An answer stored in plain text by a version before secrets were sealed in it."""
    body = orjson.dumps({"id": "we_legacy", "object": "webhook_endpoint", "secret": LEGACY_SECRET})
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO idempotency_keys (scope, key, request_hash, created, "
                "response_status, response_body) VALUES (:s, 'legacy', 'h', 0, 200, :b)"
            ),
            {"s": scope, "b": body.decode()},
        )


def _all_tokens(engine) -> list[bytes]:
    tokens = []
    with engine.connect() as conn:
        for place in sealed.PLACES:
            for _, found in place.batch(conn, None, 10_000):
                tokens.extend(found)
    return tokens


def test_rotate_key_reseals_everything_resumably(private_url, tmp_path):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    first = Running(private_url, old, tmp_path)
    try:
        world = _world(first.client)
        before = _secrets(first.client, world)
        assert before["aba"] and before["secret"].startswith("whsec_")
        _plant_legacy_answer(first.runtime.engine, first.runtime.platform_id)
    finally:
        first.stop()

    # Upgrade + a rotation under way: the new key first, the old one still there.
    second = Running(private_url, f"{new},{old}", tmp_path)
    try:
        with second.runtime.engine.connect() as conn:
            legacy = conn.execute(
                text("SELECT response_body FROM idempotency_keys WHERE key = 'legacy'")
            ).scalar_one()
        assert legacy.startswith("fernet:") and LEGACY_SECRET not in legacy
        assert _secrets(second.client, world) == before
        # Interrupted after the first place: the next run skips what is done.
        box = second.runtime.box
        keyring._rotate_place(second.runtime.engine, box, sealed.PLACES[0], 1, print)
    finally:
        second.stop()

    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENISSUING_")}
    result = subprocess.run(
        [sys.executable, "-m", "openissuing.cli", "rotate-key", "--database-url", private_url]
        + ["--batch-size", "2"],
        env={**env, "OPENISSUING_ENCRYPTION_KEY": f"{new},{old}"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "card numbers" not in result.stdout  # done before the interruption
    assert "webhook endpoint secrets" in result.stdout
    assert SecretBox(new).primary_fingerprint in result.stdout

    tokens = _all_tokens_after(private_url)
    assert tokens and all(SecretBox(new).is_current(token) for token in tokens)

    third = Running(private_url, new, tmp_path)  # the old key can go
    try:
        assert _secrets(third.client, world) == before
    finally:
        third.stop()
    with pytest.raises(keyring.KeyProblem):
        Running(private_url, old, tmp_path)


def _all_tokens_after(url: str) -> list[bytes]:
    from openissuing.storage.db import make_engine

    engine = make_engine(Settings(database_url=url).sqlalchemy_url())
    try:
        return _all_tokens(engine)
    finally:
        engine.dispose()
