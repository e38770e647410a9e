"""Authorization throughput and latency against a real `openissuing serve` process.

    .venv/bin/python bench/authorizations.py [--database-url URL] [--requests 400] [--runs 3]
        [--concurrency 1,8,32] [--preload 0]

Starts the server as a subprocess (SQLite in a temp folder unless --database-url),
creates an onboarded connected account, a financial account funded for every
purchase, a cardholder and a card, then fires full authorizations (decision,
hold, Treasury records, event, idempotency record) at each concurrency level
from an asyncio client over keep-alive connections. Prints, per level and run:
approved authorizations/s, p50 and p99 latency, the capacity the median implies
(concurrency / p50), and the server's peak RSS (VmHWM). ``--preload N`` first
creates N authorizations so the cost can be compared as the store grows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.flows import onboarded_account_params  # noqa: E402

API_KEY = "sk_test_bench_" + "b" * 24


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    database_url: str,
    workdir: str,
    *,
    prefix: list[str] | None = None,
    timeout: float = 60,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen, str]:
    """``prefix`` runs the server under another program (bench/hotpath.py: valgrind)."""
    port = free_port()
    env = dict(os.environ, OPENISSUING_WEBHOOK_DISPATCHER="false", **(env or {}))
    process = subprocess.Popen(
        [
            *(prefix or []),
            sys.executable,
            "-m",
            "openissuing.cli",
            "serve",
            "--port",
            str(port),
            "--database-url",
            database_url,
            "--api-key",
            API_KEY,
        ],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(Path(workdir) / "server.log", "w"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            httpx.get(
                url + "/v1/account",
                headers={"Authorization": f"Bearer {API_KEY}"},
                timeout=max(1, timeout / 60),
            )
            return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(
        "server did not start: " + (Path(workdir) / "server.log").read_text()[-2000:]
    )


def fresh_postgres(url: str):
    """A new database on that server for this run (dropped afterwards), so runs never mix."""
    import secrets

    import psycopg

    name = "oi_bench_" + secrets.token_hex(4)
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.rsplit("/", 1)[0] + "/" + name, drop


def flatten(prefix: str, value, out: list) -> list:
    if isinstance(value, dict):
        for key, item in value.items():
            flatten(f"{prefix}[{key}]" if prefix else key, item, out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            flatten(f"{prefix}[{index}]", item, out)
    else:
        out.append((prefix, str(value).lower() if isinstance(value, bool) else str(value)))
    return out


def form(params: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(flatten("", params, []))


def setup(url: str, funds: int) -> tuple[str, str]:
    http = httpx.Client(
        base_url=url,
        timeout=30,
        headers={
            "Authorization": f"Bearer {API_KEY}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    acct = http.post("/v1/accounts", content=form(onboarded_account_params())).json()["id"]
    http.headers["Stripe-Account"] = acct
    fa = http.post(
        "/v1/treasury/financial_accounts",
        content=form(
            {"supported_currencies": ["usd"], "features": {"card_issuing": {"requested": True}}}
        ),
    ).json()["id"]
    http.post(
        "/v1/test_helpers/treasury/received_credits",
        data={"financial_account": fa, "amount": funds, "currency": "usd", "network": "ach"},
    ).raise_for_status()
    holder = http.post(
        "/v1/issuing/cardholders",
        content=form(
            {
                "name": "Bench Holder",
                "individual": {"first_name": "Bench", "last_name": "Holder"},
                "billing": {
                    "address": {
                        "line1": "1 Main",
                        "city": "SF",
                        "postal_code": "94111",
                        "country": "US",
                    }
                },
            }
        ),
    ).json()["id"]
    card = http.post(
        "/v1/issuing/cards",
        data={
            "cardholder": holder,
            "financial_account": fa,
            "currency": "usd",
            "type": "virtual",
            "status": "active",
        },
    ).json()["id"]
    return acct, card


async def fire(
    url: str, targets: list[tuple[str, str]], requests: int, concurrency: int
) -> tuple[float, list[float], int, list[float]]:
    """``requests`` purchases from ``concurrency`` workers; worker k buys on targets[k % len]."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {API_KEY}"}
    latencies: list[float] = []
    server_times: list[float] = []
    approved = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(requests):
        queue.put_nowait(index)

    # TCP_NODELAY: httpx writes a POST's headers and body separately; without it Nagle holds the
    # body for the server's delayed ACK (~40 ms on Linux) and the client's latency shows that.
    import socket

    transport = httpx.AsyncHTTPTransport(
        limits=limits, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    )
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=120, transport=transport
    ) as client:

        async def worker(number: int) -> None:
            nonlocal approved
            acct, card = targets[number % len(targets)]
            while not queue.empty():
                queue.get_nowait()
                started = time.perf_counter()
                response = await client.post(
                    "/v1/test_helpers/issuing/authorizations",
                    data={"card": card, "amount": "100"},
                    headers={"Idempotency-Key": str(uuid.uuid4()), "Stripe-Account": acct},
                )
                latencies.append(time.perf_counter() - started)
                timing = response.headers.get("server-timing", "")
                if "dur=" in timing:
                    server_times.append(float(timing.split("dur=")[1]) / 1000)
                approved += bool(response.json().get("approved"))

        started = time.perf_counter()
        await asyncio.gather(*(worker(number) for number in range(concurrency)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies, approved, server_times


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used (clock ticks from /proc): noise-robust cost."""
    import os as _os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument(
        "--preload", type=int, default=0, help="authorizations made through the API first"
    )
    parser.add_argument(
        "--cards",
        type=int,
        default=1,
        help="connected accounts (each with its financial account and card) the workers "
        "spread over; one financial account serializes its own purchases by design",
    )
    parser.add_argument(
        "--synthetic",
        default="0",
        help="comma-separated store sizes: before each, grow the store to that many "
        "authorizations (bench/synthetic_store.py), then measure again",
    )
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    with tempfile.TemporaryDirectory() as workdir:
        drop = None
        database_url = args.database_url or f"sqlite:///{workdir}/bench.sqlite3"
        if database_url.startswith("postgres"):
            database_url, drop = fresh_postgres(database_url)
        process, url = start_server(database_url, workdir)
        try:
            sizes = [int(n) for n in args.synthetic.split(",")]
            total = args.requests * args.runs * len(levels) * len(sizes) + args.preload
            targets = [setup(url, funds=100 * total + 100) for _ in range(args.cards)]
            acct, card = targets[0]
            if args.preload:
                asyncio.run(fire(url, targets, args.preload, 8))  # grow the store first
            label = "postgresql" if database_url.startswith("postgres") else "sqlite"
            print(
                f"# {label}; {args.requests} authorizations per run over {args.cards} card(s); "
                f"preload {args.preload}; cpus {os.cpu_count()}"
            )
            if any(sizes):
                # One real purchase first: the ledger opens the card network's account for the
                # connected account at its first authorization, and the synthetic rows use it.
                asyncio.run(fire(url, targets[:1], 1, 1))
            grown = 0
            for size in sizes:
                if size > grown:
                    from synthetic_store import grow

                    seconds = grow(database_url, acct, card, size - grown)
                    print(
                        f"# store grown by {size - grown} synthetic authorizations in "
                        f"{seconds:.0f}s"
                    )
                    grown = size
                measure(url, targets, args, levels, grown, process.pid)
            print(f"server peak RSS: {peak_rss_mb(process.pid):.0f} MB")
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            if drop is not None:
                drop()


def measure(
    url: str, targets: list[tuple[str, str]], args, levels: list[int], store: int, pid: int
) -> None:
    print(f"# store: {store} synthetic authorizations (+ those of earlier runs)")
    print("# client: latency seen by the load generator (it shares the machine's cores);")
    print("# server: the server's own time per request (Server-Timing); at concurrency > 1 it")
    print("#   includes waiting for the database's write lock; capacity = concurrency / client p50")
    print("#   cpu/auth: the server process's CPU time per authorization (user+system)")
    print(
        f"{'conc':>4} {'run':>3} {'auth/s':>7} {'client p50':>10} {'client p99':>10} "
        f"{'server p50':>10} {'server p99':>10} {'capacity/s':>10} {'cpu/auth':>9}"
    )
    for level in levels:
        medians = []
        for run in range(args.runs):
            cpu_before = cpu_seconds(pid)
            elapsed, latencies, approved, server = asyncio.run(
                fire(url, targets, args.requests, level)
            )
            cpu_ms = (cpu_seconds(pid) - cpu_before) / args.requests * 1000
            p50, s50 = statistics.median(latencies), statistics.median(server)
            medians.append(s50)
            print(
                f"{level:>4} {run + 1:>3} {approved / elapsed:>7.0f} {p50 * 1000:>10.2f} "
                f"{percentile(latencies, 0.99) * 1000:>10.2f} {s50 * 1000:>10.2f} "
                f"{percentile(server, 0.99) * 1000:>10.2f} {level / p50:>10.0f} {cpu_ms:>7.2f}ms"
            )
        line = (
            f"{level:>4} server p50 over runs: median {statistics.median(medians) * 1000:.2f} ms, "
            f"best {min(medians) * 1000:.2f} ms"
        )
        if level == 1:
            line += (
                f" -> one process's capacity ~{1 / statistics.median(medians):.0f} authorizations/s"
            )
        print(line)


if __name__ == "__main__":
    main()
