"""The ``openissuing`` command: serve, migrate, check-ledger, dispatch, deliveries, api-key,
endpoints, rotate-key, and the commands that steer a running server (openissuing.commands)."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import socket
import sys
from datetime import UTC

from openissuing import __version__
from openissuing.commands import control as cli_control
from openissuing.commands import listen as cli_listen
from openissuing.commands import tools as cli_tools
from openissuing.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    for name in ("database_url", "api_key", "host", "port", "api_base", "workers"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    if getattr(args, "quiet", False):
        overrides["access_log"] = False
    return Settings(**overrides)


def _say(line: str) -> None:
    print(f"openissuing: {line}", flush=True)


def _fail(line: str, code: int = 2) -> int:
    print(f"openissuing: {line}", file=sys.stderr, flush=True)
    return code


def _existing_engine(settings: Settings):
    """The database a read-only command reads; raises DatabaseUnavailable, never creates one."""
    from openissuing.storage.locate import existing

    return existing(settings.database_url, settings.sqlalchemy_url())


def _bind(host: str, port: int) -> socket.socket:
    """Bind before anything else starts, so a port in use is one clear line, not a traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named explicitly: asyncio sets TCP_NODELAY on accepted connections only when
    # the listening socket's proto says TCP; with proto 0, Nagle meets the client's delayed ACK
    # and every answer waits ~40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise SystemExit(
                _fail(
                    f"port {port} on {host} is already in use (another `openissuing serve`?); "
                    "stop it or choose another port with --port"
                )
            ) from None
        raise SystemExit(
            _fail(f"cannot listen on {host}:{port}: {error.strerror or error}")
        ) from None
    sock.set_inheritable(True)
    return sock


def _key_source(args: argparse.Namespace) -> str | None:
    if getattr(args, "api_key", None):
        return "--api-key"
    if os.environ.get("OPENISSUING_API_KEY"):
        return "OPENISSUING_API_KEY"
    return None


def _settle_api_key(engine, settings: Settings, source: str | None) -> tuple[str | None, str]:
    """A key given to ``serve`` (flag or environment) becomes the stored key, for good.

    Returns the key it replaced (None if none or the same) and how to describe the key in use."""
    from openissuing.storage import server_settings_store

    stored = server_settings_store.read(engine, "api_key")
    if settings.api_key and settings.api_key != stored:
        server_settings_store.write(engine, "api_key", settings.api_key)
        verb = "set by" if stored is None else "changed by"
        return stored, f"{verb} {source}; kept in the database, later starts use it"
    if settings.api_key:
        return None, f"given by {source}, the same as the one kept in the database"
    if stored is None:
        return None, "generated on this first start and kept in the database"
    return None, "kept in the database"


def _in_memory(url: str) -> bool:
    return url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url


def serve(args: argparse.Namespace) -> int:
    from openissuing.app import build_runtime, create_app
    from openissuing.storage.locate import DatabaseUnavailable, connectable, describe
    from openissuing.storage.migrate import upgrade

    settings = _settings(args)
    if settings.workers < 1:
        return _fail(f"--workers must be at least 1 (got {settings.workers})")
    if settings.workers > 1 and _in_memory(settings.database_url):
        return _fail(
            f"--workers {settings.workers} needs a database the processes share; "
            f"{settings.database_url} is in memory, one per process (use a file or PostgreSQL)"
        )
    print(f"openissuing {__version__}: database {describe(settings.database_url)}", flush=True)
    sock = _bind(settings.host, settings.port)
    try:
        engine = connectable(settings.database_url, settings.sqlalchemy_url())
    except DatabaseUnavailable as error:
        sock.close()
        return _fail(str(error))
    # Once, here, before any worker starts: the schema, the secret key, the platform account
    # and the encryption key file. Workers only read what this made.
    upgrade(engine)
    replaced, how = _settle_api_key(engine, settings, _key_source(args))
    engine.dispose()
    runtime = build_runtime(settings, migrate=False)
    _say(f"platform account {runtime.platform_id}")
    _say(f"secret key {runtime.api_key} ({how})")
    if replaced:
        _say(f"the previous key {replaced} no longer works")
    _say("`openissuing api-key` prints the key; `serve --api-key sk_test_…` replaces it")
    if settings.access_log:
        _say("access log on, one line per request on stderr (--quiet to silence)")
    url = f"http://{settings.host}:{settings.port}"
    listening = f"listening on {url} (health {url}/healthz, metrics {url}/metrics)"
    if settings.workers > 1:
        runtime.engine.dispose()
        _serve_workers(args, settings, sock, listening)
    else:
        _serve_one(runtime, create_app, sock, listening)
    _say("stopped")
    return 0


def _serve_one(runtime, create_app, sock: socket.socket, listening: str) -> None:
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets=sockets)
            if self.started:  # bound and serving: only now is "listening" true
                _say(listening)

    from openissuing.api.http_server import uvicorn_options

    config = uvicorn.Config(
        create_app(runtime),
        **uvicorn_options(),
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    try:
        Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn shut down gracefully first, then re-raised the Ctrl-C (as uvicorn.run hides)


def _serve_workers(
    args: argparse.Namespace, settings: Settings, sock: socket.socket, listening: str
) -> None:
    """N worker processes accept on the one socket bound above (uvicorn's supervisor restarts
    one that dies). Each builds its own runtime from the environment (openissuing.factory), with
    its own webhook dispatcher and housekeeper: dispatchers claim rows with SKIP LOCKED and a
    lease (SQLite: under the write lock), recovery concludes each unfinished request once."""
    import threading

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from openissuing.api.http_server import uvicorn_options

    # What the flags said, for the workers (they read OPENISSUING_* like any start would).
    os.environ["OPENISSUING_DATABASE_URL"] = settings.database_url
    os.environ["OPENISSUING_ACCESS_LOG"] = "true" if settings.access_log else "false"
    os.environ["OPENISSUING_WORKERS"] = str(settings.workers)
    os.environ.pop("OPENISSUING_API_KEY", None)  # settled above: the stored key is the key
    config = uvicorn.Config(
        "openissuing.factory:create_app_from_environment",
        factory=True,
        **uvicorn_options(),
        workers=settings.workers,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    supervisor = Multiprocess(config, sockets=[sock])
    threading.Thread(
        target=_say_when_answering,
        args=(settings, supervisor.should_exit, f"{listening}, {settings.workers} workers"),
        daemon=True,
    ).start()
    supervisor.run()


def _say_when_answering(settings: Settings, stop, line: str) -> None:
    """The workers start on their own; say "listening" once one of them answers /healthz."""
    import httpx

    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    host = f"[{host}]" if ":" in host else host
    while not stop.is_set():
        try:
            if httpx.get(f"http://{host}:{settings.port}/healthz", timeout=1).status_code < 500:
                _say(line)
                return
        except httpx.HTTPError:
            pass
        stop.wait(0.1)


def migrate(args: argparse.Namespace) -> int:
    from openissuing.storage.locate import DatabaseUnavailable, connectable, describe
    from openissuing.storage.migrate import upgrade

    settings = _settings(args)
    try:
        engine = connectable(settings.database_url, settings.sqlalchemy_url())
    except DatabaseUnavailable as error:
        return _fail(str(error))
    upgrade(engine)
    _say(f"schema of {describe(settings.database_url)} is up to date")
    return 0


def check_ledger(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from openissuing.storage.ledger_audit import audit
    from openissuing.storage.locate import DatabaseUnavailable

    settings = _settings(args)
    try:
        engine = _existing_engine(settings)
    except DatabaseUnavailable as error:
        return _fail(str(error))
    try:
        with engine.connect() as conn:
            problems = audit(conn)
    except SQLAlchemyError as error:  # e.g. no ledger tables: say so, do not crash
        reason = str(error).splitlines()[0]
        print(f"openissuing: ledger check could not read the ledger: {reason}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"openissuing: ledger discrepancy: {problem}", file=sys.stderr)
    if problems:
        print(f"openissuing: ledger check FAILED ({len(problems)} discrepancies)", file=sys.stderr)
        return 1
    print(
        "openissuing: ledger balances "
        "(per currency debits = credits; every total matches its transfers)"
    )
    return 0


def dispatch(args: argparse.Namespace) -> int:
    from openissuing.app import build_runtime
    from openissuing.storage.locate import DatabaseUnavailable, connectable, describe
    from openissuing.webhooks.dispatcher import Dispatcher

    settings = _settings(args)
    try:
        connectable(settings.database_url, settings.sqlalchemy_url()).dispose()
    except DatabaseUnavailable as error:
        return _fail(str(error))
    dispatcher = Dispatcher.from_runtime(build_runtime(settings))
    _say(f"delivering webhooks from {describe(settings.database_url)} (Ctrl-C to stop)")
    dispatcher.run_until_signalled()
    return 0


def webhook_attempts(args: argparse.Namespace) -> int:
    import json
    from datetime import datetime

    from openissuing.services import deliveries
    from openissuing.storage.locate import DatabaseUnavailable
    from openissuing.storage.uow import transaction

    try:
        engine = _existing_engine(_settings(args))
    except DatabaseUnavailable as error:
        return _fail(str(error))
    rows = transaction(
        engine,
        lambda uow: deliveries.attempt_log(
            uow, event_id=args.event, endpoint_id=args.endpoint, limit=args.limit
        ),
        write=False,
    )
    for row in rows:
        if args.json:
            print(json.dumps(row, default=str), flush=True)
            continue
        when = datetime.fromtimestamp(row["started_at"] / 1000, UTC).isoformat(
            timespec="milliseconds"
        )
        answer = row["http_status"] if row["http_status"] is not None else row["error"]
        print(
            f"{when}  {row['event_id']}  {row['event_type'] or '-'}  -> {row['endpoint_id']}  "
            f"attempt {row['number']}: {answer} in {row['duration_ms']} ms  "
            f"[{row['delivery_status']}]",
            flush=True,
        )
    return 0


def rotate_key(args: argparse.Namespace) -> int:
    """Re-seal every secret with the newest of the configured keys (see openissuing.keyring)."""
    from openissuing.keyring import open_box, rotate
    from openissuing.storage.db import make_engine
    from openissuing.storage.migrate import upgrade

    settings = _settings(args)
    engine = make_engine(settings.sqlalchemy_url(), settings.isolation)
    upgrade(engine)
    box = open_box(engine, settings)
    changed = rotate(engine, box, batch=args.batch_size)
    print(
        f"openissuing: every secret is sealed with key {box.primary_fingerprint} "
        f"({changed} re-sealed); older keys may now be dropped from OPENISSUING_ENCRYPTION_KEY",
        flush=True,
    )
    return 0


def api_key(args: argparse.Namespace) -> int:
    """Print the platform's secret key as the database keeps it (what `serve` uses)."""
    from openissuing.storage import server_settings_store
    from openissuing.storage.locate import DatabaseUnavailable, describe

    settings = _settings(args)
    try:
        engine = _existing_engine(settings)
    except DatabaseUnavailable as error:
        return _fail(str(error))
    key = server_settings_store.read(engine, "api_key")
    if key is None:
        return _fail(f"{describe(settings.database_url)} has no secret key yet (start `serve`)")
    print(key, flush=True)
    return 0


def _client_key(args: argparse.Namespace, settings: Settings) -> str:
    """--api-key, else OPENISSUING_API_KEY, else the key of the local database (if there is one)."""
    from openissuing.commands.client import ApiError, secret_key

    try:
        return secret_key(settings.api_key)
    except ApiError:
        raise SystemExit(
            _fail(
                "no secret key: pass --api-key or set OPENISSUING_API_KEY (`openissuing api-key` "
                "prints the one a server's database keeps)"
            )
        ) from None


def endpoints(args: argparse.Namespace) -> int:
    from openissuing.commands import endpoints as found
    from openissuing.commands.client import Api, ApiError

    settings = _settings(args)
    api = Api(settings.api_base, _client_key(args, settings))
    try:
        if args.action == "list":
            rows = found.every_endpoint(api, args.account)
            for row in rows:
                print(found.line(row), flush=True)
            if not rows:
                _say("no webhook endpoints")
            return 0
        account = found.delete(api, args.endpoint, args.account)
        where = f" (account {account})" if account else ""
        _say(f"deleted {args.endpoint}{where}")
        return 0
    except (ApiError, found.Missing) as error:
        return _fail(str(error), code=1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="openissuing", description=__doc__)
    parser.add_argument("--version", action="version", version=f"openissuing {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    database_help = "sqlite:///file or postgresql://… (env OPENISSUING_DATABASE_URL)"
    serve_cmd = commands.add_parser(
        "serve", help="run the API server (migrates the database first)"
    )
    serve_cmd.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, help="port (default 12111, stripe-mock's)")
    serve_cmd.add_argument("--database-url", help=database_help)
    serve_cmd.add_argument(
        "--api-key",
        help="the platform's secret key, kept in the database from then on "
        "(env OPENISSUING_API_KEY; default: the stored key, generated on first start)",
    )
    serve_cmd.add_argument(
        "--quiet",
        action="store_true",
        default=None,
        help="no access log line per request (env OPENISSUING_ACCESS_LOG=false)",
    )
    serve_cmd.add_argument(
        "--workers",
        type=int,
        help="API processes sharing the port and the database (default 1; OPENISSUING_WORKERS; "
        "more than one needs a database file or PostgreSQL)",
    )
    serve_cmd.set_defaults(run=serve)
    migrate_cmd = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate_cmd.add_argument("--database-url", help=database_help)
    migrate_cmd.set_defaults(run=migrate)
    check_cmd = commands.add_parser(
        "check-ledger", help="verify the ledger; exit 1 naming any discrepancy"
    )
    check_cmd.add_argument("--database-url", help=database_help)
    check_cmd.set_defaults(run=check_ledger)
    dispatch_cmd = commands.add_parser(
        "dispatch", help="deliver webhooks only (any number may share one PostgreSQL)"
    )
    dispatch_cmd.add_argument("--database-url", help=database_help)
    dispatch_cmd.set_defaults(run=dispatch)
    attempts_cmd = commands.add_parser(
        "deliveries", help="list webhook delivery attempts, newest first"
    )
    attempts_cmd.add_argument("--database-url", help=database_help)
    attempts_cmd.add_argument("--event", help="only this event (evt_…)")
    attempts_cmd.add_argument("--endpoint", help="only this webhook endpoint (we_…)")
    attempts_cmd.add_argument("--limit", type=int, default=50)
    attempts_cmd.add_argument("--json", action="store_true", help="one JSON object per line")
    attempts_cmd.set_defaults(run=webhook_attempts)
    key_cmd = commands.add_parser(
        "api-key", help="print the platform's secret key kept in the database"
    )
    key_cmd.add_argument("--database-url", help=database_help)
    key_cmd.set_defaults(run=api_key)
    endpoints_cmd = commands.add_parser(
        "endpoints",
        help="list or delete webhook endpoints of a running server (platform and accounts)",
    )
    endpoints_cmd.set_defaults(run=endpoints)
    actions = endpoints_cmd.add_subparsers(dest="action", required=True)
    for name, text in (
        ("list", "every webhook endpoint: id, account, status, url, events"),
        ("delete", "delete one webhook endpoint, wherever it lives"),
    ):
        action = actions.add_parser(name, help=text)
        if name == "delete":
            action.add_argument("endpoint", help="the endpoint's id (we_…)")
        action.add_argument("--account", help="only this connected account (acct_…)")
        action.add_argument(
            "--api-base", help="the server (default http://127.0.0.1:12111; OPENISSUING_API_BASE)"
        )
        action.add_argument(
            "--api-key", help="its secret key (OPENISSUING_API_KEY; default: the local database's)"
        )
        action.add_argument(
            "--database-url", help="where to read the key when none is given: " + database_help
        )
    rotate_cmd = commands.add_parser(
        "rotate-key",
        help="re-seal every secret with the newest key of OPENISSUING_ENCRYPTION_KEY (resumable)",
    )
    rotate_cmd.add_argument("--database-url")
    rotate_cmd.add_argument("--batch-size", type=int, default=500)
    rotate_cmd.set_defaults(run=rotate_key)
    cli_control.add_commands(commands)
    cli_tools.add_commands(commands)
    cli_listen.add_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # What the format above never shows, the logging module need not gather for every record
    # (the access log writes one per request): the caller's file and line (a walk up the stack),
    # the thread's and the process's names. The logging docs' own advice ("Optimization").
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # httpx logs every request at INFO: one line per webhook and real-time call is noise, and slow.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Alembic narrates every migration step at INFO; `serve` says the one thing that matters.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    from openissuing.keyring import KeyProblem

    try:
        return args.run(args)
    except KeyProblem as problem:  # the wrong key: one clear line, no traceback
        print(f"openissuing: encryption key problem: {problem}", file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
