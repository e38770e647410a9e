"""The command line as a newcomer meets it: one clear line instead of a traceback, nothing created
by a read-only command, the secret key's lifecycle said out loud, "listening" only once bound."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from openissuing import __version__

ENV = {
    **os.environ,
    "OPENISSUING_WEBHOOK_DISPATCHER": "false",
    "OPENISSUING_DATABASE_URL": "",
    "OPENISSUING_API_KEY": "",
}
for name in ("OPENISSUING_DATABASE_URL", "OPENISSUING_API_KEY"):
    ENV.pop(name)


def run(cwd: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "openissuing.cli", *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Serving:
    """``openissuing serve`` in a subprocess; its stdout lines up to and including "listening"."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "openissuing.cli", "serve", "--port", str(self.port), *args],
            cwd=cwd,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError(f"serve exited: {self.process.stderr.read()}")
            self.lines.append(line.rstrip("\n"))
            if "listening on" in line:
                return
        raise AssertionError("serve never said it was listening")

    def interrupt(self) -> tuple[int, str, str]:
        """Ctrl-C: a graceful stop, exit 0, no traceback."""
        self.process.send_signal(signal.SIGINT)
        out, err = self.process.communicate(timeout=20)
        return self.process.returncode, out, err

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        self.process.stdout.close()
        self.process.stderr.close()


def one_clear_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_version(tmp_path):
    result = run(tmp_path, "--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"openissuing {__version__}")


@pytest.mark.parametrize("command", [["check-ledger"], ["deliveries"], ["api-key"]])
def test_read_only_commands_say_where_they_looked_and_create_nothing(tmp_path, command):
    line = one_clear_line(run(tmp_path, *command))
    assert f"no database at {tmp_path.resolve() / 'openissuing.sqlite3'}" in line
    assert list(tmp_path.iterdir()) == []


def test_read_only_commands_refuse_a_file_without_the_schema(tmp_path):
    (tmp_path / "openissuing.sqlite3").write_bytes(b"")
    line = one_clear_line(run(tmp_path, "check-ledger"))
    assert "has no openissuing schema" in line


def test_a_database_that_cannot_be_opened_is_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'db.sqlite3'}"
    line = one_clear_line(run(tmp_path, "serve", "--port", str(free_port()), "--database-url", url))
    assert line.startswith("openissuing: cannot open the database sqlite:///")
    assert "unable to open database file" in line


def test_a_missing_postgres_database_is_one_line(tmp_path):
    base = os.environ.get("OPENISSUING_TEST_DATABASE_URL") or ""
    if not base.startswith("postgres"):
        base = os.environ.get("OPENISSUING_TEST_POSTGRES_URL") or (
            "postgresql://postgres@127.0.0.1:5432/postgres"
        )
    try:
        import psycopg

        psycopg.connect(base, connect_timeout=3).close()
    except Exception:  # noqa: BLE001 - no PostgreSQL on this machine
        pytest.skip(f"no PostgreSQL at {base}")
    url = base.rsplit("/", 1)[0] + "/oi_no_such_database"
    line = one_clear_line(run(tmp_path, "serve", "--port", str(free_port()), "--database-url", url))
    assert 'database "oi_no_such_database" does not exist' in line


def test_a_port_in_use_is_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_clear_line(run(tmp_path, "serve", "--port", str(port)))
    assert f"port {port} on 127.0.0.1 is already in use" in line
    assert not (tmp_path / "openissuing.sqlite3").exists()  # refused before touching anything


def test_the_secret_key_lifecycle_is_said_and_kept(tmp_path):
    first = Serving(tmp_path)
    try:
        generated = next(line for line in first.lines if "secret key sk_test_" in line)
        key = generated.split("secret key ")[1].split(" ")[0]
        assert "generated on this first start and kept in the database" in generated
        # "listening" came only once the port answers.
        health = httpx.get(f"http://127.0.0.1:{first.port}/healthz", timeout=5)
        assert health.json()["status"] == "ok"
        assert first.lines[-1].startswith(
            f"openissuing: listening on http://127.0.0.1:{first.port}"
        )
    finally:
        first.stop()
    assert run(tmp_path, "api-key").stdout.strip() == key

    chosen = "sk_test_chosen_" + "k" * 24
    second = Serving(tmp_path, "--api-key", chosen)
    try:
        said = "\n".join(second.lines)
        assert f"secret key {chosen} (changed by --api-key; kept in the database" in said
        assert f"the previous key {key} no longer works" in said
    finally:
        second.stop()

    third = Serving(tmp_path, "--quiet")  # no --api-key: the chosen key stays
    try:
        said = "\n".join(third.lines)
        assert f"secret key {chosen} (kept in the database)" in said
        assert "access log on" not in said
        answer = httpx.get(
            f"http://127.0.0.1:{third.port}/v1/issuing/cardholders", auth=(chosen, ""), timeout=5
        )
        assert answer.status_code == 200
    finally:
        code, out, err = third.interrupt()
    assert (code, out.strip(), "Traceback" in err) == (0, "openissuing: stopped", False)
    assert run(tmp_path, "api-key").stdout.strip() == chosen


def test_the_listening_socket_is_tcp_so_answers_are_not_delayed():
    """asyncio turns Nagle off (TCP_NODELAY) on accepted connections only when the listening
    socket says IPPROTO_TCP; a proto-0 socket made every answer wait ~40 ms for a delayed ACK."""
    from openissuing import cli

    sock = cli._bind("127.0.0.1", 0)
    try:
        assert (sock.type, sock.proto) == (socket.SOCK_STREAM, socket.IPPROTO_TCP)
    finally:
        sock.close()
