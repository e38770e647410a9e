"""The ``openissuing`` command: serve, migrate, check-ledger, dispatch, deliveries, rotate-key."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC

from openissuing.commands import control as cli_control
from openissuing.commands import listen as cli_listen
from openissuing.commands import tools as cli_tools
from openissuing.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    for name in ("database_url", "api_key", "host", "port"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    return Settings(**overrides)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from openissuing.app import build_runtime, create_app

    settings = _settings(args)
    runtime = build_runtime(settings)
    print(f"openissuing: database {settings.database_url}", flush=True)
    print(f"openissuing: platform account {runtime.platform_id}", flush=True)
    label = (
        "generated secret key (kept in the database)" if runtime.key_was_generated else "secret key"
    )
    print(f"openissuing: {label}: {runtime.api_key}", flush=True)
    print(f"openissuing: listening on http://{settings.host}:{settings.port}", flush=True)
    uvicorn.run(
        create_app(runtime),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
    )
    return 0


def migrate(args: argparse.Namespace) -> int:
    from openissuing.storage.db import make_engine
    from openissuing.storage.migrate import upgrade

    settings = _settings(args)
    upgrade(make_engine(settings.sqlalchemy_url()))
    print(f"openissuing: schema of {settings.database_url} is up to date", flush=True)
    return 0


def check_ledger(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from openissuing.storage.db import make_engine
    from openissuing.storage.ledger_audit import audit

    settings = _settings(args)
    try:
        with make_engine(settings.sqlalchemy_url()).connect() as conn:
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
        "openissuing: ledger balances (per currency debits = credits; every total matches its transfers)"
    )
    return 0


def dispatch(args: argparse.Namespace) -> int:
    from openissuing.app import build_runtime
    from openissuing.webhooks.dispatcher import Dispatcher

    settings = _settings(args)
    dispatcher = Dispatcher.from_runtime(build_runtime(settings))
    print(
        f"openissuing: delivering webhooks from {settings.database_url} (Ctrl-C to stop)",
        flush=True,
    )
    dispatcher.run_until_signalled()
    return 0


def webhook_attempts(args: argparse.Namespace) -> int:
    import json
    from datetime import datetime

    from openissuing.services import deliveries
    from openissuing.storage.db import make_engine
    from openissuing.storage.uow import transaction

    engine = make_engine(_settings(args).sqlalchemy_url())
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
            f"attempt {row['number']}: {answer} in {row['duration_ms']} ms  [{row['delivery_status']}]",
            flush=True,
        )
    return 0


def rotate_key(args: argparse.Namespace) -> int:
    """Re-seal every secret with the newest of the configured keys (see openissuing.keyring)."""
    from openissuing.keyring import open_box, rotate
    from openissuing.storage.db import make_engine
    from openissuing.storage.migrate import upgrade

    settings = _settings(args)
    engine = make_engine(settings.sqlalchemy_url())
    upgrade(engine)
    box = open_box(engine, settings)
    changed = rotate(engine, box, batch=args.batch_size)
    print(
        f"openissuing: every secret is sealed with key {box.primary_fingerprint} "
        f"({changed} re-sealed); older keys may now be dropped from OPENISSUING_ENCRYPTION_KEY",
        flush=True,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="openissuing", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser(
        "serve", help="run the API server (migrates the database first)"
    )
    serve_cmd.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, help="port (default 12111, stripe-mock's)")
    serve_cmd.add_argument(
        "--database-url", help="sqlite:///file or postgresql://… (env OPENISSUING_DATABASE_URL)"
    )
    serve_cmd.add_argument("--api-key", help="the platform's secret key (env OPENISSUING_API_KEY)")
    serve_cmd.set_defaults(run=serve)
    migrate_cmd = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate_cmd.add_argument("--database-url")
    migrate_cmd.set_defaults(run=migrate)
    check_cmd = commands.add_parser(
        "check-ledger", help="verify the ledger; exit 1 naming any discrepancy"
    )
    check_cmd.add_argument("--database-url")
    check_cmd.set_defaults(run=check_ledger)
    dispatch_cmd = commands.add_parser(
        "dispatch", help="deliver webhooks only (any number may share one PostgreSQL)"
    )
    dispatch_cmd.add_argument("--database-url")
    dispatch_cmd.set_defaults(run=dispatch)
    attempts_cmd = commands.add_parser(
        "deliveries", help="list webhook delivery attempts, newest first"
    )
    attempts_cmd.add_argument("--database-url")
    attempts_cmd.add_argument("--event", help="only this event (evt_…)")
    attempts_cmd.add_argument("--endpoint", help="only this webhook endpoint (we_…)")
    attempts_cmd.add_argument("--limit", type=int, default=50)
    attempts_cmd.add_argument("--json", action="store_true", help="one JSON object per line")
    attempts_cmd.set_defaults(run=webhook_attempts)
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
    # httpx logs every request at INFO: one line per webhook and real-time call is noise, and slow.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    from openissuing.keyring import KeyProblem

    try:
        return args.run(args)
    except KeyProblem as problem:  # the wrong key: one clear line, no traceback
        print(f"openissuing: encryption key problem: {problem}", file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
