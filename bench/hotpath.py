"""Where an authorization's cost goes: statements, instructions and a per-layer profile.

    .venv-test/bin/python bench/hotpath.py statements [--database-url URL] [--requests 20]
    .venv-test/bin/python bench/hotpath.py layers [--database-url URL] [--requests 1500]
    .venv-test/bin/python bench/hotpath.py instructions [--database-url URL] [--requests 200]

Three views of the same request (``POST /v1/test_helpers/issuing/authorizations``, a full
authorization: decision, hold, Treasury records, event, idempotency record), each against a
real server at concurrency 1 after a warm-up:

``statements``  runs the server in this process and counts the SQL statements one authorization
    sends (every statement the DB-API connection executes, BEGIN and COMMIT included: SQLite's
    trace callback; on PostgreSQL, every command libpq sends, and the round trips, read off the
    protocol trace), and lists them.
``layers``      samples the server process with py-spy (``pip install py-spy`` into the venv)
    while it answers, and prints the share of on-CPU samples per layer: HTTP server and event
    loop, decoding and validation, the transaction's begin/commit, idempotency, the service's
    own work, events and outbox, rendering; and the share spent inside SQL calls. Shares, not
    times: they hold on a busy machine where times do not.
``instructions``  runs the server under ``valgrind --tool=callgrind`` with counting off, turns it
    on for exactly the measured requests, and prints instructions per authorization (the whole
    server process: HTTP parsing, Python, SQLite), repeatable whatever the machine's load, and
    their split by shared object (the interpreter, libsqlite3, ...).

None of this is a test: it prints figures, it never judges them.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import authorizations as bench  # noqa: E402

AUTHORIZE = "/v1/test_helpers/issuing/authorizations"


def machine() -> str:
    load = os.getloadavg()
    return (
        f"# {platform.node()}: {os.cpu_count()} cpus, {platform.python_implementation()} "
        f"{platform.python_version()}, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )


def authorize_serially(url: str, acct: str, card: str, count: int) -> None:
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {bench.API_KEY}"}, timeout=120
    ) as http:
        for _ in range(count):
            response = http.post(
                AUTHORIZE,
                data={"card": card, "amount": "100"},
                headers={"Idempotency-Key": str(uuid.uuid4()), "Stripe-Account": acct},
            )
            response.raise_for_status()


# ------------------------------------------------------------------ statements


def count_statements(database_url: str | None, requests: int, show: bool) -> None:
    import threading

    import uvicorn
    from sqlalchemy import event

    from openissuing.api.http_server import uvicorn_options
    from openissuing.app import build_runtime, create_app
    from openissuing.settings import Settings

    with tempfile.TemporaryDirectory() as workdir:
        drop = None
        url = database_url or f"sqlite:///{workdir}/bench.sqlite3"
        if url.startswith("postgres"):
            url, drop = bench.fresh_postgres(url)
        settings = Settings(
            database_url=url,
            api_key=bench.API_KEY,
            webhook_dispatcher=False,
            access_log=False,
            encryption_key_file=str(Path(workdir) / "key"),
        )
        runtime = build_runtime(settings)
        engine = runtime.engine
        postgres = engine.dialect.name == "postgresql"
        seen: list[str] = []
        counting = threading.Event()
        trace_dir = Path(workdir)

        def on_checkout(dbapi, record, proxy) -> None:
            if postgres:
                return

            def trace(sql: str) -> None:
                # SQLite reports a statement again for each trigger it fires: counted once.
                if counting.is_set() and (not seen or seen[-1] != sql):
                    seen.append(sql)

            dbapi.set_trace_callback(trace)

        event.listen(engine, "checkout", on_checkout)
        traced: list[tuple[object, Path]] = []
        if postgres:
            # Every connection's protocol trace from its start (the statements psycopg prepared
            # earlier are named there); only the lines inside the counting window are counted.
            def pg_connect(dbapi, record) -> None:
                path = trace_dir / f"trace{len(traced)}"
                handle = open(path, "w")  # noqa: SIM115 - closed with the trace
                dbapi.pgconn.trace(handle.fileno())
                traced.append((dbapi, path))
                record.info["trace_handle"] = handle

            engine.dispose()
            event.listen(engine, "connect", pg_connect)

        port = bench.free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(runtime),
                port=port,
                log_level="warning",
                lifespan="on",
                **uvicorn_options(),
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{port}"
        while not server.started:
            time.sleep(0.05)
        try:
            acct, card = bench.setup(base, funds=100 * (requests + 10))
            authorize_serially(base, acct, card, 5)
            window = [datetime.datetime.now()]
            counting.set()
            authorize_serially(base, acct, card, requests)
            counting.clear()
            window.append(datetime.datetime.now())
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            for conn, _ in traced:
                conn.pgconn.untrace()  # type: ignore[attr-defined]
            runtime.engine.dispose()
            if drop is not None:
                drop()
        print(machine())
        label = "postgresql" if postgres else "sqlite"
        if postgres:
            sent: list[str] = []
            ready = 0
            named: dict[str, str] = {}
            bound = ""
            for _, path in traced:
                for line in path.read_text().splitlines():
                    parts = line.split("\t")
                    if len(parts) < 4:
                        continue
                    at = datetime.datetime.fromisoformat(parts[0])
                    inside = window[0] <= at <= window[1]
                    message, body = parts[3], parts[4].strip() if len(parts) > 4 else ""
                    quoted = re.findall(r'"((?:[^"]|"")*)"', body)
                    if parts[1] == "F" and message == "Query" and inside:
                        sent.append(quoted[0] if quoted else body)
                    elif parts[1] == "F" and message == "Parse" and len(quoted) >= 2:
                        named[quoted[0]] = quoted[1]
                    elif parts[1] == "F" and message == "Bind" and len(quoted) >= 2:
                        bound = named.get(quoted[1], quoted[1])
                    elif parts[1] == "F" and message == "Execute" and inside:
                        sent.append(bound)
                    elif parts[1] == "B" and message == "ReadyForQuery" and inside:
                        ready += 1
            seen = sent
            print(
                f"# {label}: {len(seen) / requests:.1f} statements and "
                f"{ready / requests:.1f} round trips (ReadyForQuery) per authorization "
                f"over {requests} authorizations"
            )
        else:
            print(
                f"# {label}: {len(seen) / requests:.1f} statements per authorization "
                f"over {requests} authorizations (BEGIN and COMMIT included)"
            )
        if show:
            per = len(seen) // requests
            for sql in seen[:per]:
                print("   ", " ".join(sql.split())[: None if os.environ.get("FULL") else 150])


# ------------------------------------------------------------------ layers

# A sample belongs to the innermost frame that names a layer (the last match down the stack),
# so SQL run by the idempotency check counts as idempotency, rendering inside an event as
# rendering. "SQL" is a separate column: the share of each layer's samples inside a DB-API call.
LAYERS: list[tuple[str, re.Pattern[str]]] = [
    ("HTTP server, routing, event loop", re.compile(r"uvicorn|h11|httptools|starlette|asyncio")),
    ("thread pool hand-off", re.compile(r"anyio|concurrent/futures|threading\.py")),
    ("auth, rate limit, fault check", re.compile(r"\(openissuing/api/(auth|ratelimit)\.py")),
    ("decoding and validation", re.compile(r"_read_params|openissuing/api/(forms|params|edge)")),
    ("response (JSON, headers)", re.compile(r"^_respond |^_json |^_answer ")),
    ("transaction begin/commit", re.compile(r"^transaction \(openissuing/storage/uow")),
    ("pre-request (account, due)", re.compile(r"^_check_acting_account |^apply \(.*due\.py")),
    ("idempotency", re.compile(r"openissuing/storage/idempotency|^request_hash ")),
    ("service (decision, ledger, Treasury)", re.compile(r"^_run_handler ")),
    ("events and outbox", re.compile(r"openissuing/services/(events|deliveries)\.py")),
    ("rendering", re.compile(r"openissuing/services/presenter|openissuing/wire/|api/render")),
]
SQL = re.compile(
    r"openissuing/storage/raw\.py|sqlalchemy/engine/default\.py.*do_execute|"
    r"^(execute|executemany|fetchone|fetchall|commit) \(.*(psycopg|sqlalchemy)"
)


def layer_of(frames: list[str]) -> tuple[str, bool]:
    layer = "other"
    in_sql = False
    for frame in frames:
        for name, pattern in LAYERS:
            if pattern.search(frame):
                layer = name
        if SQL.search(frame):
            in_sql = True
    return layer, in_sql


def profile_layers(database_url: str | None, requests: int, rate: int, gil: bool) -> None:
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        raise SystemExit("py-spy is not installed in this venv: pip install py-spy")
    with tempfile.TemporaryDirectory() as workdir:
        drop = None
        url = database_url or f"sqlite:///{workdir}/bench.sqlite3"
        if url.startswith("postgres"):
            url, drop = bench.fresh_postgres(url)
        process, base = bench.start_server(url, workdir)
        try:
            acct, card = bench.setup(base, funds=100 * (requests + 60))
            authorize_serially(base, acct, card, 50)
            out = Path(workdir) / "stacks.txt"
            sampler = subprocess.Popen(
                [str(spy), "record", "--pid", str(process.pid), "--rate", str(rate)]
                + ["--format", "raw", "--output", str(out), "--nonblocking"]
                + (["--gil"] if gil else []),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.0)
            started = time.perf_counter()
            authorize_serially(base, acct, card, requests)
            elapsed = time.perf_counter() - started
            sampler.send_signal(2)
            sampler.wait(timeout=60)
        finally:
            process.terminate()
            process.wait(timeout=10)
            if drop is not None:
                drop()
        totals: collections.Counter[str] = collections.Counter()
        sql: collections.Counter[str] = collections.Counter()
        leaves: collections.Counter[tuple[str, str]] = collections.Counter()
        inclusive: collections.Counter[str] = collections.Counter()
        for line in out.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames = stack.split(";")[1:]  # the first is the process/thread name
            layer, in_sql = layer_of(frames)
            totals[layer] += int(count)
            leaves[(layer, " < ".join(reversed(frames[-3:])))] += int(count)
            for name in {re.sub(r":\d+\)", ")", f) for f in frames}:
                inclusive[name] += int(count)
            if in_sql:
                sql[layer] += int(count)
        everything = sum(totals.values())
        print(machine())
        label = "postgresql" if url.startswith("postgres") else "sqlite"
        print(
            f"# {label}: {requests} authorizations at concurrency 1 in {elapsed:.1f}s "
            f"(client-side wall clock, noisy); {everything} samples at {rate}/s of "
            + ("every thread, waits included" if not gil else "the thread holding the GIL")
        )
        print(f"{'layer':<40} {'share':>6} {'of it in SQL calls':>19}")
        for name, count in totals.most_common():
            print(f"{name:<40} {count / everything:>6.1%} {sql[name] / max(count, 1):>19.0%}")
        print(f"{'all layers: inside SQL calls':<40} {sum(sql.values()) / everything:>6.1%}")
        if os.environ.get("FUNCTIONS"):  # inclusive share per function (debugging aid)
            for name, count in inclusive.most_common(60):
                print(f"  {count / everything:>6.1%} {name[:120]}")
        if os.environ.get("LEAVES"):
            for (name, leaf), count in leaves.most_common(40):
                print(f"  {count / everything:>6.1%} {name[:20]:<20} {leaf[:110]}")


# ------------------------------------------------------------------ instructions


def count_instructions(database_url: str | None, requests: int, server: str | None) -> None:
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed")
    with tempfile.TemporaryDirectory() as workdir:
        drop = None
        url = database_url or f"sqlite:///{workdir}/bench.sqlite3"
        if url.startswith("postgres"):
            url, drop = bench.fresh_postgres(url)
        out = Path(workdir) / "callgrind.out"
        prefix = [
            valgrind,
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
        ]
        if server is None:
            process, base = bench.start_server(url, workdir, prefix=prefix, timeout=600)
        else:  # one of bench/servers.py's HTTP servers, under callgrind
            process, base = start_variant(server, url, Path(workdir), prefix)
        try:
            acct, card = bench.setup(base, funds=100 * (requests + 60))
            authorize_serially(base, acct, card, 20)
            control = shutil.which("callgrind_control") or "callgrind_control"
            switch = [control, "-i"]
            subprocess.run([*switch, "on", str(process.pid)], check=True, capture_output=True)
            authorize_serially(base, acct, card, requests)
            subprocess.run([*switch, "off", str(process.pid)], check=True, capture_output=True)
        finally:
            process.terminate()
            process.wait(timeout=120)
            if drop is not None:
                drop()
        annotate = shutil.which("callgrind_annotate") or "callgrind_annotate"
        dumps = sorted(Path(workdir).glob("callgrind.out*"))
        totals: collections.Counter[str] = collections.Counter()
        for dump in dumps:
            report = subprocess.run(
                [annotate, "--inclusive=no", "--threshold=100", str(dump)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for line in report.splitlines():
                match = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+\S*:(\S+)\s+\[(.*)\]", line)
                if match:
                    totals[Path(match.group(3)).name] += int(match.group(1).replace(",", ""))
        everything = sum(totals.values())
        print(machine())
        label = "postgresql" if url.startswith("postgres") else "sqlite"
        print(
            f"# {label}: instructions counted by callgrind over {requests} authorizations at "
            "concurrency 1 (the whole server process; independent of the machine's load)"
            + (f"; server {server}" if server else "")
        )
        print(f"instructions per authorization: {everything / requests / 1e6:.2f} M")
        for name, count in totals.most_common(8):
            print(f"  {name:<40} {count / everything:>6.1%}")


def start_variant(
    kind: str, url: str, workdir: Path, prefix: list[str]
) -> tuple[subprocess.Popen, str]:
    port = bench.free_port()
    process = subprocess.Popen(
        [*prefix, sys.executable, str(Path(__file__).with_name("servers.py"))]
        + ["--child", kind, "--port", str(port), "--database-url", url],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "server.log", "w"),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 600
    while time.time() < deadline:
        try:
            httpx.get(base + "/healthz", timeout=10)
            return process, base
        except httpx.HTTPError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit((workdir / "server.log").read_text()[-2000:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("view", choices=["statements", "layers", "instructions"])
    parser.add_argument("--database-url")
    parser.add_argument("--requests", type=int)
    parser.add_argument("--rate", type=int, default=500, help="py-spy samples per second")
    parser.add_argument(
        "--wall",
        action="store_true",
        help="layers: sample every thread, waiting ones too (default: only the thread holding "
        "the GIL, i.e. Python's CPU time)",
    )
    parser.add_argument(
        "--server",
        help="instructions: run the app under one of bench/servers.py's HTTP servers "
        "(uvicorn-h11, uvicorn-httptools, uvicorn-httptools-uvloop, granian) instead of "
        "`openissuing serve`",
    )
    parser.add_argument("--quiet", action="store_true", help="statements: counts only")
    args = parser.parse_args()
    if args.view == "statements":
        count_statements(args.database_url, args.requests or 20, not args.quiet)
    elif args.view == "layers":
        profile_layers(args.database_url, args.requests or 1500, args.rate, not args.wall)
    else:
        count_instructions(args.database_url, args.requests or 200, args.server)


if __name__ == "__main__":
    main()
