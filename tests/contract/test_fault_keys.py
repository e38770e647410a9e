"""Issue 11, faults 4 and 5, on the session's database (SQLite or PostgreSQL).

4: a second server started from another folder used to create a key file of its own and
then answer 500 when revealing a card sealed by the first; now it refuses to start, in
one line, naming the key fingerprint the database was sealed with (never a key).
5: a webhook endpoint's signing secret used to sit in plain text in the stored
idempotent answer of its create request; now that answer is sealed too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from openissuing.app import build_runtime
from openissuing.keyring import KeyProblem
from openissuing.settings import Settings


def _serve(server, workdir, **env) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "openissuing.cli", "serve", "--port", "9"]
    command += ["--database-url", server.database_url, "--api-key", server.live.api_key]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENISSUING_")}
    return subprocess.run(
        command,
        cwd=workdir,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _problem_lines(result: subprocess.CompletedProcess) -> list[str]:
    # (the migration step logs its own INFO lines before the key is checked)
    return [line for line in result.stderr.splitlines() if "encryption key problem" in line]


def test_a_server_from_another_folder_refuses_to_start_in_one_line(server, tmp_path):
    sealed_with = server.runtime.box.primary_fingerprint
    result = _serve(server, tmp_path)  # no key configured, no key file in this folder
    assert result.returncode == 2, result.stdout + result.stderr
    lines = _problem_lines(result)
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert sealed_with in lines[0] and "OPENISSUING_ENCRYPTION_KEY" in lines[0]
    assert not (tmp_path / "openissuing.key").exists()  # no stray key made

    other = Fernet.generate_key().decode()
    result = _serve(server, tmp_path, OPENISSUING_ENCRYPTION_KEY=other)
    assert result.returncode == 2
    assert len(_problem_lines(result)) == 1 and "Traceback" not in result.stderr
    assert sealed_with in _problem_lines(result)[0]
    assert other not in result.stderr + result.stdout  # a key is never printed


def test_the_same_key_from_anywhere_opens_the_database(server, tmp_path, client):
    with open(server.runtime.settings.encryption_key_file) as handle:
        key = handle.read().strip()
    settings = Settings(
        database_url=server.database_url,
        api_key=server.live.api_key,
        # A newer key first, the database's own second: allowed (a rotation under way).
        encryption_key=f"{Fernet.generate_key().decode()},{key}",
        encryption_key_file=str(tmp_path / "unused.key"),
    )
    runtime = build_runtime(settings, migrate=False)
    try:
        assert runtime.box.fingerprints[1] == server.runtime.box.primary_fingerprint
        with pytest.raises(KeyProblem):  # the database now also names the newer key
            build_runtime(
                Settings(
                    database_url=server.database_url,
                    api_key=server.live.api_key,
                    encryption_key=Fernet.generate_key().decode(),
                ),
                migrate=False,
            )
    finally:
        runtime.engine.dispose()
        _forget_newer_key(server)


def _forget_newer_key(server) -> None:
    """Undo the test's newer key so the session's server keeps starting (nothing was sealed)."""
    with server.runtime.engine.begin() as conn:
        conn.execute(
            text("UPDATE server_settings SET value = :v WHERE name = :n"),
            {"v": server.runtime.box.primary_fingerprint, "n": "encryption_key_fingerprints"},
        )


def test_a_webhook_secret_is_sealed_in_the_stored_answer_and_replays(client, server):
    key = str(uuid.uuid4())
    params = {"url": "http://127.0.0.1:9/hook", "enabled_events": ["*"]}
    created = client.v1.webhook_endpoints.create(params=params, options={"idempotency_key": key})
    again = client.v1.webhook_endpoints.create(params=params, options={"idempotency_key": key})
    assert again.id == created.id and again.secret == created.secret
    assert created.secret.startswith("whsec_")
    with server.runtime.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT response_body FROM idempotency_keys WHERE key = :k"), {"k": key}
        ).scalar_one()
        everywhere = conn.execute(
            text("SELECT COUNT(*) FROM idempotency_keys WHERE response_body LIKE :s"),
            {"s": f"%{created.secret}%"},
        ).scalar_one()
    assert stored.startswith("fernet:") and created.secret not in stored
    assert everywhere == 0
    client.v1.webhook_endpoints.delete(created.id)
