"""What the real-time authorization path adds on top of the platform handler's own time.

    .venv/bin/python bench/realtime.py [--database-url URL] [--requests 400] [--runs 3]
    [--concurrency 8]

Starts `openissuing serve`, and a platform handler in its own process
(bench/realtime_handler.py: answers {"approved": true} with a Stripe-Version
header, timing itself). Runs the same purchases twice per run: once with no
issuing_authorization.request endpoint (baseline) and once with the handler as
the account's real-time endpoint. Per request it reads the server's own time
(Server-Timing). Prints p50/p99 of the baseline, of the real-time requests
minus the handler's time, and the difference: the cost of the real-time path
itself (two transactions instead of one, the signed request, the wait).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from authorizations import (
    API_KEY,
    cpu_seconds,
    fire,
    fresh_postgres,
    percentile,
    setup,
    start_server,
)  # noqa: E402


def start_handler() -> tuple[subprocess.Popen, str]:
    handler = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("realtime_handler.py"))],
        stdout=subprocess.PIPE,
        text=True,
    )
    port = int(handler.stdout.readline())
    return handler, f"http://127.0.0.1:{port}/hook"


def handler_median_ms(handler: subprocess.Popen) -> float:
    handler.terminate()
    return json.loads(handler.stdout.readline())["median_ms"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        drop = None
        database_url = args.database_url or f"sqlite:///{workdir}/bench.sqlite3"
        if database_url.startswith("postgres"):
            database_url, drop = fresh_postgres(database_url)
        process, url = start_server(database_url, workdir)
        try:
            acct, card = setup(url, funds=100 * args.requests * args.runs * 2 + 100)
            http = httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {API_KEY}", "Stripe-Account": acct}
            )
            label = "postgresql" if database_url.startswith("postgres") else "sqlite"
            print(
                f"# {label}; concurrency {args.concurrency}; {args.requests} purchases per run "
                "and mode"
            )
            for run in range(args.runs):
                cpu = cpu_seconds(process.pid)
                _, _, _, base = asyncio.run(
                    fire(url, [(acct, card)], args.requests, args.concurrency)
                )
                base_cpu = (cpu_seconds(process.pid) - cpu) / args.requests
                handler, hook_url = start_handler()
                endpoint = http.post(
                    "/v1/webhook_endpoints",
                    data={"url": hook_url, "enabled_events[0]": "issuing_authorization.request"},
                ).json()
                cpu = cpu_seconds(process.pid)
                _, _, approved, realtime = asyncio.run(
                    fire(url, [(acct, card)], args.requests, args.concurrency)
                )
                rt_cpu = (cpu_seconds(process.pid) - cpu) / args.requests
                http.delete(f"/v1/webhook_endpoints/{endpoint['id']}")
                handler_p50 = handler_median_ms(handler) / 1000
                added = [t - handler_p50 for t in realtime]
                print(
                    f"run {run + 1}: baseline server p50 {statistics.median(base) * 1000:.2f} ms "
                    f"p99 {percentile(base, 0.99) * 1000:.2f} ms | real-time server p50 "
                    f"{statistics.median(realtime) * 1000:.2f} ms p99 "
                    f"{percentile(realtime, 0.99) * 1000:.2f} ms "
                    f"(handler p50 {handler_p50 * 1000:.2f} ms) | added by the real-time path: p50 "
                    f"{(statistics.median(added) - statistics.median(base)) * 1000:.2f} ms, p99 "
                    f"{(percentile(added, 0.99) - percentile(base, 0.99)) * 1000:.2f} ms "
                    f"({approved} approved); server CPU per purchase {base_cpu * 1000:.2f} ms -> "
                    f"{rt_cpu * 1000:.2f} ms"
                )
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            if drop is not None:
                drop()


if __name__ == "__main__":
    main()
