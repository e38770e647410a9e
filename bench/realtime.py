"""What the real-time authorization path adds on top of the platform handler's own time.

    .venv/bin/python bench/realtime.py [--database-url URL] [--requests 400] [--runs 3] [--concurrency 8]

Starts `openissuing serve`, and a platform handler in this process (a threaded
HTTP server answering {"approved": true} with a Stripe-Version header, timing
itself). Runs the same purchases twice per run: once with no
issuing_authorization.request endpoint (baseline) and once with the handler as
the account's real-time endpoint. Per request it reads the server's own time
(Server-Timing). Prints p50/p99 of the baseline, of the real-time requests
minus the handler's time, and the difference: the cost of the real-time path
itself (two transactions instead of one, the signed request, the wait).
"""

from __future__ import annotations

import argparse
import subprocess
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from authorizations import API_KEY, fire, percentile, setup, start_server  # noqa: E402

HANDLER_TIMES: list[float] = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802
        started = time.perf_counter()
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"approved": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Stripe-Version", "2026-10-28.endive")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        HANDLER_TIMES.append(time.perf_counter() - started)

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    handler = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=handler.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{handler.server_address[1]}/hook"
    with tempfile.TemporaryDirectory() as workdir:
        database_url = args.database_url or f"sqlite:///{workdir}/bench.sqlite3"
        process, url = start_server(database_url, workdir)
        try:
            acct, card = setup(url, funds=100 * args.requests * args.runs * 2 + 100)
            http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {API_KEY}", "Stripe-Account": acct})
            label = "postgresql" if database_url.startswith("postgres") else "sqlite"
            print(f"# {label}; concurrency {args.concurrency}; {args.requests} purchases per run and mode")
            for run in range(args.runs):
                _, _, _, base = asyncio.run(fire(url, acct, card, args.requests, args.concurrency))
                endpoint = http.post("/v1/webhook_endpoints", data={
                    "url": hook_url, "enabled_events[0]": "issuing_authorization.request"}).json()
                HANDLER_TIMES.clear()
                _, _, approved, realtime = asyncio.run(fire(url, acct, card, args.requests, args.concurrency))
                http.delete(f"/v1/webhook_endpoints/{endpoint['id']}")
                handler_p50 = statistics.median(HANDLER_TIMES)
                added = [t - handler_p50 for t in realtime]
                print(f"run {run + 1}: baseline server p50 {statistics.median(base) * 1000:.2f} ms "
                      f"p99 {percentile(base, 0.99) * 1000:.2f} ms | real-time server p50 "
                      f"{statistics.median(realtime) * 1000:.2f} ms p99 {percentile(realtime, 0.99) * 1000:.2f} ms "
                      f"(handler p50 {handler_p50 * 1000:.2f} ms) | added by the real-time path: p50 "
                      f"{(statistics.median(added) - statistics.median(base)) * 1000:.2f} ms, p99 "
                      f"{(percentile(added, 0.99) - percentile(base, 0.99)) * 1000:.2f} ms "
                      f"({approved} approved)")
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            handler.shutdown()


if __name__ == "__main__":
    main()
