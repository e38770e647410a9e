"""``openissuing sandbox …`` and ``openissuing clock …``: the control API from a terminal.

They talk to a running server (``--api-base`` / ``OPENISSUING_API_BASE``, default
``http://127.0.0.1:12111``) with a secret key (``--api-key`` / ``OPENISSUING_API_KEY``;
without one, the default sandbox's key is read from the local database that
``serve`` would use, if it exists — never created).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from openissuing.commands.client import DEFAULT_API_BASE, Api, ApiError, api_base, secret_key


class ControlError(Exception):
    pass


def _call(args: argparse.Namespace, verb: str, url_path: str, **data: str) -> Any:
    """One control-API request with the commands' one HTTP client; ApiError when refused."""
    api = Api(api_base(args.api_base), secret_key(args.api_key))
    try:
        return api.request(verb, f"/_openissuing{url_path}", data or None)
    finally:
        api.close()


def _when(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _clock_line(clock: dict[str, Any]) -> str:
    state = "frozen" if clock["frozen"] else "running"
    offset = clock["offset_seconds"]
    ahead = f", {offset:+d} s from the server's time" if offset and not clock["frozen"] else ""
    return f"{_when(clock['now'])} ({clock['now']}; {state}{ahead})"


def _print_sandbox(sandbox: dict[str, Any]) -> None:
    tag = " (default)" if sandbox["default"] else ""
    print(f"{sandbox['id']}{tag}  {sandbox['name'] or '-'}")
    print(f"  secret key        {sandbox['secret_key']}")
    print(f"  platform account  {sandbox['platform_account']}")
    print(f"  clock             {_clock_line(sandbox['clock'])}")


def _emit(args: argparse.Namespace, body: Any, human) -> int:  # noqa: ANN001
    if getattr(args, "json", False):
        print(json.dumps(body, indent=2))
    else:
        human(body)
    return 0


def sandbox_command(args: argparse.Namespace) -> int:
    action = args.action
    if action == "list":
        return _emit(
            args, _call(args, "GET", "/sandboxes"), lambda b: [_print_sandbox(s) for s in b["data"]]
        )
    if action == "create":
        data = {"name": args.name} if args.name else {}
        return _emit(args, _call(args, "POST", "/sandboxes", **data), _print_sandbox)
    target = args.sandbox or "current"
    if action == "show":
        return _emit(args, _call(args, "GET", f"/sandboxes/{target}"), _print_sandbox)
    if action == "reset":
        return _emit(args, _call(args, "POST", f"/sandboxes/{target}/reset"), _print_sandbox)
    if action == "delete":
        if args.sandbox is None:
            raise ControlError("name the sandbox to delete (its sbx_ id)")
        body = _call(args, "DELETE", f"/sandboxes/{target}")
        return _emit(args, body, lambda b: print(f"{b['id']} deleted"))
    raise ControlError(f"unknown action {action}")


def clock_command(args: argparse.Namespace) -> int:
    path = f"/sandboxes/{args.sandbox or 'current'}/clock"
    if args.action == "show":
        body = _call(args, "GET", path)
    elif args.action == "advance":
        body = _call(args, "POST", path, advance=args.value or "")
    elif args.action == "set":
        body = _call(args, "POST", path, set=_unix(args.value or ""))
    else:
        body = _call(args, "POST", path, freeze="true" if args.action == "freeze" else "false")
    return _emit(args, body, lambda b: print(f"clock: {_clock_line(b)}"))


def _print_fault(fault: dict[str, Any]) -> None:
    left = (
        "until cleared" if fault["count_remaining"] is None else f"{fault['count_remaining']} left"
    )
    hang = f" for {fault['seconds']} s" if fault["seconds"] else ""
    where = (
        f"events {fault['event_type'] or '*'}"
        if fault["kind"].startswith("webhook_")
        else f"{fault['method'] or '*'} {fault['path'] or '*'}"
    )
    expiry = f", expires {_when(fault['expires_at'])}" if fault["expires_at"] else ""
    print(f"{fault['id']}  {fault['kind']}{hang}  {where}  ({left}{expiry})")


def faults_command(args: argparse.Namespace) -> int:
    path = f"/sandboxes/{args.sandbox or 'current'}/faults"
    if args.action == "list":
        return _emit(args, _call(args, "GET", path), lambda b: [_print_fault(f) for f in b["data"]])
    if args.action == "clear":
        return _emit(args, _call(args, "DELETE", path), lambda b: print("faults cleared"))
    if args.action == "remove":
        if not args.kind:
            raise ControlError("name the fault to remove (its flt_ id)")
        body = _call(args, "DELETE", f"{path}/{args.kind}")
        return _emit(args, body, lambda b: print(f"{b['id']} removed"))
    options = {
        "kind": args.kind or "",
        "method": args.method,
        "path": args.path,
        "count": None if args.count is None else str(args.count),
        "seconds": None if args.seconds is None else str(args.seconds),
        "expires_in": args.expires_in,
        "event_type": args.event_type,
        "outcome": args.outcome,
    }
    body = _call(args, "POST", path, **{k: v for k, v in options.items() if v is not None})
    return _emit(args, body, _print_fault)


def _unix(text: str) -> str:
    """Unix seconds as given, or an ISO 8601 date/time (UTC when no zone is said)."""
    if text.isdigit():
        return text
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as error:
        raise ControlError(f"not a time: {text!r} (unix seconds or ISO 8601)") from error
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return str(int(parsed.timestamp()))


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api-base", help=f"the server (env OPENISSUING_API_BASE; {DEFAULT_API_BASE})"
    )
    parser.add_argument("--api-key", help="a secret key (env OPENISSUING_API_KEY)")
    parser.add_argument("--json", action="store_true", help="print the JSON answer")


def add_commands(commands: Any) -> None:
    sandbox = commands.add_parser(
        "sandbox",
        help="create, list, show, reset or delete sandboxes of a running server",
        description="Sandboxes are isolated platforms, each with its own secret key, objects, "
        "events, webhook endpoints and clock. The default sandbox's key sees them all.",
    )
    sandbox.add_argument("action", choices=["create", "list", "show", "reset", "delete"])
    sandbox.add_argument("sandbox", nargs="?", help="sbx_… id (default: the key's own sandbox)")
    sandbox.add_argument("--name", help="a label for create")
    _common(sandbox)
    sandbox.set_defaults(run=_guarded(sandbox_command))
    clock = commands.add_parser(
        "clock",
        help="show or move a sandbox's clock (advance 8d, set, freeze, unfreeze)",
        description="Moving the clock applies what fell due (authorization expiry) at once.",
    )
    clock.add_argument("action", choices=["show", "advance", "set", "freeze", "unfreeze"])
    clock.add_argument("value", nargs="?", help="a span (90s, 15m, 3h, 8d, 2w) or a time for set")
    clock.add_argument("--sandbox", help="sbx_… id (default: the key's own sandbox)")
    _common(clock)
    clock.set_defaults(run=_guarded(clock_command))
    faults = commands.add_parser(
        "faults",
        help="make a sandbox's next requests answer 429/500 or hang (to test retries)",
        description="add KIND: rate_limit (429), api_error (500) or hang (answers after "
        "--seconds, having executed); --method/--path pick the requests (path patterns take *). "
        "Webhook faults: webhook_delay (--seconds late), webhook_out_of_order (each held a "
        "random 0..--seconds), webhook_duplicate (sent twice); --event-type picks the events. "
        "Authorization faults: network_fallback (the network decides alone, --outcome approve or "
        "decline, reason network_fallback), realtime_slow (the real-time handler answers "
        "--seconds late). "
        "--count how many (default: until cleared), --expires-in for how long. "
        "remove takes the flt_ id.",
    )
    faults.add_argument("action", choices=["list", "add", "remove", "clear"])
    faults.add_argument(
        "kind",
        nargs="?",
        help="rate_limit | api_error | hang | webhook_delay | webhook_out_of_order | "
        "webhook_duplicate | network_fallback | realtime_slow (or, for remove, the flt_ id)",
    )
    faults.add_argument("--method", help="GET, POST or DELETE (default: any)")
    faults.add_argument("--path", help="e.g. /v1/issuing/authorizations* (default: any)")
    faults.add_argument("--count", type=int, help="how many requests (default: until cleared)")
    faults.add_argument("--seconds", type=int, help="how long a hang lasts")
    faults.add_argument("--expires-in", help="a span, e.g. 10m")
    faults.add_argument("--event-type", help="webhook faults: e.g. issuing_authorization.*")
    faults.add_argument("--outcome", choices=["approve", "decline"], help="network_fallback")
    faults.add_argument("--sandbox", help="sbx_… id (default: the key's own sandbox)")
    _common(faults)
    faults.set_defaults(run=_guarded(faults_command))


def _guarded(command):  # noqa: ANN001, ANN202
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (ControlError, ApiError) as error:
            print(f"openissuing: {error}", file=sys.stderr)
            return 1

    return run
