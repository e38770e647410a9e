"""The same app under the HTTP servers a user could pick, side by side, taking turns.

    .venv-test/bin/python bench/servers.py [--runs 5] [--requests 400] [--concurrency 1]
        [--servers uvicorn-h11,uvicorn-httptools,uvicorn-httptools-uvloop,granian]

Each server runs openissuing's app in its own process on its own SQLite database, built as
`openissuing serve` builds it (access log and webhook dispatcher off): uvicorn with its
pure-Python parser (h11) and asyncio loop, uvicorn with httptools, uvicorn with httptools and
uvloop, and granian (Rust HTTP, ASGI interface) where it is installed. Servers whose packages
are missing are skipped and named. The servers take turns run after run (A B C D, B C D A,
...), so host noise hits all alike; each run fires ``--requests`` full authorizations at
``--concurrency`` from bench/authorizations.py's load generator. Prints the machine and the
number of runs, then per server the median and best over runs of: the client's p50, the
server's own p50 (Server-Timing, which starts after the HTTP parsing) and the server process's
CPU time per authorization. Figures only; no test runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import authorizations as bench  # noqa: E402

SERVERS = {
    "uvicorn-h11": ("uvicorn",),
    "uvicorn-h11-uvloop": ("uvicorn", "uvloop"),
    "uvicorn-httptools": ("uvicorn", "httptools"),
    "uvicorn-httptools-uvloop": ("uvicorn", "httptools", "uvloop"),
    "granian": ("granian",),
}


def child(kind: str, database_url: str, port: int) -> None:
    """Serve the app with ``kind`` (runs in the child process)."""
    from openissuing.app import build_runtime, create_app
    from openissuing.settings import Settings

    settings = Settings(
        database_url=database_url,
        api_key=bench.API_KEY,
        access_log=False,
        webhook_dispatcher=False,
        port=port,
    )
    app = create_app(build_runtime(settings))
    if kind == "granian":
        from granian.constants import Interfaces
        from granian.server.embed import Server

        server = Server(
            app, port=port, interface=Interfaces.ASGI, log_enabled=False, log_access=False
        )
        asyncio.run(server.serve())
        return
    import uvicorn

    http = "h11" if kind.startswith("uvicorn-h11") else "httptools"
    loop = "uvloop" if kind.endswith("uvloop") else "asyncio"
    config = uvicorn.Config(
        app, port=port, http=http, loop=loop, log_level="warning", access_log=False
    )
    uvicorn.Server(config).run()


@dataclass
class Running:
    kind: str
    process: subprocess.Popen
    url: str
    targets: list[tuple[str, str]]
    client_p50: list[float] = field(default_factory=list)
    server_p50: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def start(kind: str, workdir: Path, funds: int) -> Running:
    port = bench.free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", kind, "--port", str(port)]
        + ["--database-url", f"sqlite:///{workdir}/{kind}.sqlite3"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / f"{kind}.log", "w"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{kind} exited: " + (workdir / f"{kind}.log").read_text()[-2000:])
        try:
            httpx.get(url + "/healthz", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return Running(kind, process, url, [bench.setup(url, funds)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--child")
    parser.add_argument("--port", type=int)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.database_url, args.port)
        return
    wanted = args.servers.split(",")
    missing = [k for k in wanted if any(importlib.util.find_spec(m) is None for m in SERVERS[k])]
    kinds = [k for k in wanted if k not in missing]
    funds = 100 * (args.requests * (args.runs + 1) + 10)
    with tempfile.TemporaryDirectory() as scratch:
        servers = [start(kind, Path(scratch), funds) for kind in kinds]
        try:
            for server in servers:  # warm-up
                asyncio.run(bench.fire(server.url, server.targets, 100, args.concurrency))
            for run in range(args.runs):
                turn = run % len(servers)
                for server in servers[turn:] + servers[:turn]:
                    before = bench.cpu_seconds(server.process.pid)
                    _, latencies, _, timings = asyncio.run(
                        bench.fire(server.url, server.targets, args.requests, args.concurrency)
                    )
                    used = bench.cpu_seconds(server.process.pid) - before
                    server.cpu.append(used / args.requests)
                    server.client_p50.append(statistics.median(latencies))
                    server.server_p50.append(statistics.median(timings))
        finally:
            for server in servers:
                server.process.terminate()
                try:
                    server.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.process.kill()
    load = os.getloadavg()
    print(
        f"# {platform.node()}: {os.cpu_count()} cpus, {platform.python_implementation()} "
        f"{platform.python_version()}; load average at the end {load[0]:.1f} {load[1]:.1f} "
        f"{load[2]:.1f}"
    )
    print(
        f"# full authorizations, SQLite, concurrency {args.concurrency}: {args.runs} runs x "
        f"{args.requests} per server, taking turns; median (best) over runs, in ms"
    )
    if missing:
        print(f"# not installed, skipped: {', '.join(missing)}")
    print(f"{'server':<26} {'client p50':>16} {'server p50':>16} {'cpu/auth':>16}")
    for s in servers:
        cells = [
            f"{statistics.median(v) * 1000:.2f} ({min(v) * 1000:.2f})"
            for v in (s.client_p50, s.server_p50, s.cpu)
        ]
        print(f"{s.kind:<26} {cells[0]:>16} {cells[1]:>16} {cells[2]:>16}")


if __name__ == "__main__":
    main()
