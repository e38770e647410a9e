"""Authorization throughput of `openissuing serve --workers N` on PostgreSQL, for N = 1, 2, 4.

    .venv-test/bin/python bench/workers.py [--database-url postgresql://…] [--workers 1,2,4]
        [--runs 3] [--requests 600] [--concurrency 32] [--cards 8]

Each run gets a fresh database and a fresh server with N worker processes (webhook dispatchers
off, as in bench/authorizations.py), ``--cards`` connected accounts each with its funded financial
account and card (one financial account serialises its own purchases by design, so the load is
spread), then fires ``--requests`` full authorizations from ``--concurrency`` asyncio clients over
keep-alive connections. Prints per run the approved authorizations/s and the client-side
p50/p99, then per N the median and best of the runs, and the machine it ran on: the load
generator shares the machine's cores with the workers and PostgreSQL, so more workers than cores
measure contention, not capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import authorizations as single  # noqa: E402

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def start_workers(database_url: str, workdir: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = single.free_port()
    env = dict(os.environ, OPENISSUING_WEBHOOK_DISPATCHER="false", OPENISSUING_ACCESS_LOG="false")
    log = Path(workdir) / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "openissuing.cli", "serve", "--port", str(port)]
        + ["--database-url", database_url, "--api-key", single.API_KEY]
        + ["--workers", str(workers)],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "w"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            # Every worker must be up: a request answered by one proves nothing of the others.
            if httpx.get(url + "/healthz", timeout=1).status_code == 200 and all_up(url, workers):
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start: " + log.read_text()[-2000:])


def all_up(url: str, workers: int) -> bool:
    """Enough answers from distinct connections that every worker very likely accepts."""
    for _ in range(4 * workers):
        with httpx.Client(timeout=2) as fresh:  # a new connection each, spread by the kernel
            if fresh.get(url + "/healthz").status_code != 200:
                return False
    return True


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def one_run(base_url: str, workers: int, args) -> tuple[float, float, float, int]:
    database_url, drop = single.fresh_postgres(base_url)
    try:
        with tempfile.TemporaryDirectory() as workdir:
            process, url = start_workers(database_url, workdir, workers)
            try:
                funds = 100 * args.requests + 100
                targets = [single.setup(url, funds) for _ in range(args.cards)]
                asyncio.run(single.fire(url, targets, 4 * args.concurrency, args.concurrency))
                elapsed, latencies, approved, _ = asyncio.run(
                    single.fire(url, targets, args.requests, args.concurrency)
                )
            finally:
                stop(process)
    finally:
        drop()
    return (
        approved / elapsed,
        statistics.median(latencies),
        single.percentile(latencies, 0.99),
        approved,
    )


def machine() -> str:
    model = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} cpus ({model}), "
        f"load average {load}, Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--cards", type=int, default=8)
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        raise SystemExit("bench/workers.py measures PostgreSQL (SQLite has one writer anyway)")
    isolation = os.environ.get("OPENISSUING_ISOLATION", "read_committed")
    print(f"# machine: {machine()}")
    print(
        f"# postgresql ({isolation}), a fresh database per run; {args.requests} authorizations "
        f"per run at concurrency {args.concurrency} over {args.cards} cards (after a warm-up)"
    )
    print(f"{'workers':>7} {'run':>3} {'auth/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'approved':>8}")
    summary = []
    for workers in (int(n) for n in args.workers.split(",")):
        rates = []
        for run in range(args.runs):
            rate, p50, p99, approved = one_run(args.database_url, workers, args)
            rates.append(rate)
            print(
                f"{workers:>7} {run + 1:>3} {rate:>7.0f} {p50 * 1000:>8.1f} {p99 * 1000:>8.1f} "
                f"{approved:>8}",
                flush=True,
            )
        summary.append((workers, statistics.median(rates), max(rates)))
    print(f"{'workers':>7} {'median auth/s':>13} {'best auth/s':>11}")
    for workers, median, best in summary:
        print(f"{workers:>7} {median:>13.0f} {best:>11.0f}")


if __name__ == "__main__":
    main()
