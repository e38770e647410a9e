"""openissuing beside two other local Stripe emulators: create + retrieve at concurrency 1.

    .venv-test/bin/python bench/peers.py [--runs 7] [--pairs 300] [--workdir /tmp/openissuing-peers]

Installs, into a throwaway folder outside the repository (``--workdir``, reused across calls),
stripe-stateful-mock (npm: an in-memory Node mock that keeps nothing) and localstripe (PyPI,
in a venv of its own: an in-memory Python mock), then starts each of them and `openissuing
serve` (SQLite in a temporary folder, durable: every write committed before the answer).

The workload is what a test suite does most: create an object and read it back, one request
at a time over a keep-alive connection, with the headers the official SDK sends (a secret key,
form encoding, an Idempotency-Key on the POST). openissuing creates and retrieves an Issuing
cardholder (``POST /v1/issuing/cardholders`` + ``GET /v1/issuing/cardholders/{id}``); the mocks,
which have no Issuing, a customer (``POST /v1/customers`` + ``GET /v1/customers/{id}``).

The servers take turns, run after run (A B C, B C A, C A B, ...), so host noise hits all of
them alike; each run times ``--pairs`` create + retrieve pairs per server after a warm-up.
Prints the machine, the number of runs, and per server the median and best of the runs'
median pair time, and openissuing's time over each mock's, paired run by run. Access logs
are off everywhere. It prints figures; it never judges them, and no test runs it.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import authorizations as bench  # noqa: E402

MOCK_KEY = "sk_test_peers_" + "p" * 24
HOLDER = {
    "name": "Peer Holder",
    "individual[first_name]": "Peer",
    "individual[last_name]": "Holder",
    "billing[address][line1]": "1 Main",
    "billing[address][city]": "SF",
    "billing[address][postal_code]": "94111",
    "billing[address][country]": "US",
}
CUSTOMER = {
    "name": "Peer Holder",
    "email": "peer@example.com",
    "address[line1]": "1 Main",
    "address[city]": "SF",
    "address[postal_code]": "94111",
    "address[country]": "US",
}


@dataclass
class Peer:
    name: str
    url: str
    key: str
    create_path: str
    params: dict[str, str]
    process: subprocess.Popen
    medians: list[float] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def install(workdir: Path) -> tuple[Path, Path]:
    """stripe-stateful-mock and localstripe in ``workdir`` (kept for the next call)."""
    node = workdir / "node"
    mock = node / "node_modules" / ".bin" / "stripe-stateful-mock"
    if not mock.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is needed to install stripe-stateful-mock")
        node.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--prefix", str(node), "--no-audit", "--no-fund"]
            + ["stripe-stateful-mock"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    venv = workdir / "venv"
    localstripe = venv / "bin" / "localstripe"
    if not localstripe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "localstripe"],
            check=True,
        )
    return mock, localstripe


def wait_for(url: str, key: str, path: str, process: subprocess.Popen, name: str) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with {process.returncode}")
        try:
            httpx.get(url + path, headers={"Authorization": f"Bearer {key}"}, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{name} did not start")


def start_mock(mock: Path, workdir: Path) -> Peer:
    port = free_port()
    env = dict(os.environ, PORT=str(port), LOG_LEVEL="silent")
    process = subprocess.Popen(
        [str(mock)], env=env, stdout=subprocess.DEVNULL, stderr=open(workdir / "mock.log", "w")
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(url, MOCK_KEY, "/v1/customers", process, "stripe-stateful-mock")
    return Peer("stripe-stateful-mock", url, MOCK_KEY, "/v1/customers", CUSTOMER, process)


def start_localstripe(localstripe: Path, workdir: Path) -> Peer:
    port = free_port()
    process = subprocess.Popen(
        [str(localstripe), "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "localstripe.log", "w"),
        cwd=workdir,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(url, MOCK_KEY, "/v1/customers", process, "localstripe")
    return Peer("localstripe", url, MOCK_KEY, "/v1/customers", CUSTOMER, process)


def start_openissuing(workdir: Path) -> Peer:
    process, url = bench.start_server(
        f"sqlite:///{workdir}/peers.sqlite3",
        str(workdir),
        env={"OPENISSUING_ACCESS_LOG": "false"},
    )
    return Peer("openissuing", url, bench.API_KEY, "/v1/issuing/cardholders", HOLDER, process)


def pairs(peer: Peer, count: int) -> list[float]:
    """``count`` create + retrieve pairs, one request at a time; seconds per pair."""
    headers = {
        "Authorization": f"Bearer {peer.key}",
        "Content-Type": "application/x-www-form-urlencoded",
        "Stripe-Version": "2026-10-28.endive",
    }
    body = urlencode(peer.params)
    times = []
    # TCP_NODELAY: httpx writes a POST's headers and body separately; without it Nagle holds the
    # body for the server's delayed ACK (~40 ms on Linux), which would swamp every server's time.
    nodelay = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    with httpx.Client(base_url=peer.url, headers=headers, timeout=60, transport=nodelay) as http:
        for _ in range(count):
            started = time.perf_counter()
            created = http.post(
                peer.create_path, content=body, headers={"Idempotency-Key": str(uuid.uuid4())}
            )
            created.raise_for_status()
            http.get(f"{peer.create_path}/{created.json()['id']}").raise_for_status()
            times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "openissuing-peers"))
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    mock, localstripe = install(workdir)
    with tempfile.TemporaryDirectory() as scratch:
        peers = [
            start_openissuing(Path(scratch)),
            start_mock(mock, Path(scratch)),
            start_localstripe(localstripe, Path(scratch)),
        ]
        try:
            for peer in peers:
                pairs(peer, args.warmup)
            for run in range(args.runs):
                turn = run % len(peers)
                for peer in peers[turn:] + peers[:turn]:
                    peer.medians.append(statistics.median(pairs(peer, args.pairs)))
        finally:
            for peer in peers:
                peer.process.terminate()
                try:
                    peer.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    peer.process.kill()
    load = os.getloadavg()
    print(
        f"# {platform.node()}: {os.cpu_count()} cpus, {platform.python_implementation()} "
        f"{platform.python_version()}, node {node_version()}; load average at the end "
        f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    print(
        f"# create + retrieve at concurrency 1: {args.runs} runs x {args.pairs} pairs per "
        f"server, taking turns; per run the median pair"
    )
    print(f"{'server':<22} {'median ms':>10} {'best ms':>8}   runs (ms)")
    for peer in peers:
        runs = " ".join(f"{m * 1000:.2f}" for m in peer.medians)
        print(
            f"{peer.name:<22} {statistics.median(peer.medians) * 1000:>10.2f} "
            f"{min(peer.medians) * 1000:>8.2f}   {runs}"
        )
    ours = peers[0]
    for other in peers[1:]:
        ratios = [a / b for a, b in zip(ours.medians, other.medians, strict=True)]
        print(
            f"openissuing / {other.name}: median {statistics.median(ratios):.2f}x, "
            f"best {min(ratios):.2f}x (paired run by run)"
        )


def node_version() -> str:
    node = shutil.which("node")
    if node is None:
        return "?"
    return subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    main()
