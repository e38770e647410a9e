"""The README's two commands never interfere: a server started by the first keeps answering
while the second installs its test environment.

The first command's environment is built as the README builds it (a venv with the package
installed non-editable from a copy of the repository); its dependencies come from the tests' own
environment through a path file, so the test needs no download of them and stays bounded.
The test command's install step (``scripts/test-env``, what ``scripts/test`` runs first) then
runs for real in that copy. Before the fix it reinstalled the package editable into ``.venv``,
under the running server, and every later call was a 500 until a restart.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
IGNORED = shutil.ignore_patterns(
    ".git",
    ".venv*",
    "__pycache__",
    "*.egg-info",
    "build",
    "*.sqlite3*",
    "openissuing.key",
    ".hypothesis",
)
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("OPENISSUING_", "VIRTUAL_ENV"))}
ENV["OPENISSUING_WEBHOOK_DISPATCHER"] = "false"


def venv_borrowing_dependencies(path: Path) -> Path:
    """A fresh venv whose imports fall back on this test environment's installed packages."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=120)
    python = path / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    # A plain path line: the directory is appended to sys.path, its own .pth files (such as the
    # editable finder of the test environment) are not run.
    Path(site, "zz_borrowed_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    return python


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(process: subprocess.Popen, deadline_seconds: float = 60) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError("serve exited before listening")
        if "listening on" in line:
            return
    raise AssertionError("serve never said it was listening")


def exercise(url: str, key: str) -> None:
    """Calls that reach many modules: auth, validation, storage, serializers, a money flow."""
    with httpx.Client(base_url=url, auth=(key, ""), timeout=10) as http:
        holder = http.post(
            "/v1/issuing/cardholders",
            data={
                "name": "Ada Lovelace",
                "billing[address][line1]": "1 Main St",
                "billing[address][city]": "Austin",
                "billing[address][postal_code]": "78701",
                "billing[address][country]": "US",
            },
        )
        assert holder.status_code == 200, holder.text
        assert http.get(f"/v1/issuing/cardholders/{holder.json()['id']}").status_code == 200
        assert http.get("/v1/events", params={"limit": 3}).status_code == 200
        assert http.get("/v1/issuing/authorizations").status_code == 200
        assert http.get("/healthz").json()["status"] == "ok"


def test_the_test_command_leaves_a_running_server_alone(tmp_path):
    copy = tmp_path / "openissuing"
    shutil.copytree(REPO, copy, ignore=IGNORED)
    server_python = venv_borrowing_dependencies(copy / ".venv")
    subprocess.run(
        [
            str(server_python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            ".",
        ],
        cwd=copy,
        env=ENV,
        check=True,
        timeout=240,
    )
    installed = subprocess.run(
        [str(server_python), "-c", "import openissuing; print(openissuing.__file__)"],
        cwd=tmp_path,
        env=ENV,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    assert installed.startswith(str(copy / ".venv")), installed  # non-editable, as the README

    key = "sk_test_readme_" + "r" * 24
    port = free_port()
    server = subprocess.Popen(
        [
            str(copy / ".venv" / "bin" / "openissuing"),
            "serve",
            "--port",
            str(port),
            "--api-key",
            key,
            "--quiet",
        ],
        cwd=copy,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        wait_listening(server)
        url = f"http://127.0.0.1:{port}"
        exercise(url, key)
        package = Path(installed).parent
        before = sorted((p.name, p.stat().st_mtime_ns) for p in package.rglob("*.py"))

        # The test command's install step, for real, in the copy. Its environment is seeded like
        # the server's so that pip finds the dependencies installed and only builds the package.
        venv_borrowing_dependencies(copy / ".venv-test")
        step = subprocess.run(
            ["bash", "scripts/test-env"],
            cwd=copy,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert step.returncode == 0, step.stderr
        assert step.stdout.strip() == ".venv-test/bin/python"

        assert server.poll() is None
        exercise(url, key)
        after = sorted((p.name, p.stat().st_mtime_ns) for p in package.rglob("*.py"))
        assert after == before  # the server's installed package was not touched
    finally:
        server.terminate()
        server.wait(timeout=20)
        server.stdout.close()
