"""``openissuing listen --forward-to URL``: ``stripe listen`` for openissuing.

Opens a local receiver, registers two temporary webhook endpoints on the
sandbox pointing at it (one for the platform's own events, one ``connect=true``
for its connected accounts'), and forwards every event to ``--forward-to``
signed with one ``whsec_`` secret it prints — so a handler verifies forwarded
events with ``stripe.Webhook.construct_event`` exactly as in production.

With ``--forward-realtime`` the endpoints name ``issuing_authorization.request``
explicitly, which makes them the sandbox's real-time decision makers: the
request is forwarded to the handler and the handler's answer (status,
``Stripe-Version``, body) is relayed back to the server, which decides the
purchase by it. On exit (Ctrl-C) the endpoints are deleted.
"""

from __future__ import annotations

import argparse
import hmac
import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from openissuing import ids
from openissuing.commands.client import Api, ApiError, api_base, secret_key
from openissuing.webhooks import signer

REQUEST_EVENT = "issuing_authorization.request"


def _verified(body: bytes, header: str, secrets: list[str]) -> bool:
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp, given = parts.get("t", ""), parts.get("v1", "")
    if not timestamp.isdigit():
        return False
    return any(
        hmac.compare_digest(signer.signature(body, secret, int(timestamp)), given)
        for secret in secrets
    )


class Listener:
    def __init__(
        self,
        api: Api,
        forward_to: str,
        *,
        events: list[str] | None = None,
        realtime: bool = False,
        host: str = "127.0.0.1",
        say: Callable[[str], None] = print,
        timeout_seconds: float = 10.0,
    ) -> None:
        self.api = api
        self.forward_to = forward_to
        self.events = list(events or ["*"])
        if realtime and REQUEST_EVENT not in self.events:
            self.events.append(REQUEST_EVENT)
        self.host = host
        self.say = say
        self.secret = ids.new_secret("whsec_", 32)
        self.timeout_seconds = timeout_seconds
        self.endpoints: list[str] = []
        self._endpoint_secrets: list[str] = []
        self._http = httpx.Client(timeout=timeout_seconds)
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle
    def start(self) -> None:
        self._server = ThreadingHTTPServer((self.host, 0), self._handler_class())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        url = f"http://{self.host}:{self._server.server_address[1]}/"
        for connect in (False, True):
            made = self.api.post(
                "/v1/webhook_endpoints",
                {
                    "url": url,
                    "enabled_events": self.events,
                    "connect": connect,
                    "description": "openissuing listen (temporary)",
                },
            )
            self.endpoints.append(made["id"])
            self._endpoint_secrets.append(made["secret"])

    def stop(self) -> None:
        for endpoint in self.endpoints:
            try:
                self.api.delete(f"/v1/webhook_endpoints/{endpoint}")
            except ApiError as error:
                self.say(f"could not delete {endpoint}: {error}")
        self.endpoints.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self._http.close()

    # -- one event
    def handle(self, body: bytes, signature: str) -> tuple[int, dict[str, str], bytes]:
        if not _verified(body, signature, self._endpoint_secrets):
            self.say("<-- [400] refused an event whose signature did not verify")
            return 400, {}, b'{"error": "bad signature"}'
        event = json.loads(body)
        self.say(f"--> {event.get('type')} [{event.get('id')}]")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signer.header(body, self.secret, int(time.time())),
        }
        try:
            answer = self._http.post(self.forward_to, content=body, headers=headers)
        except httpx.HTTPError as error:
            self.say(f"<-- [error] {self.forward_to}: {type(error).__name__}: {error}")
            return 502, {}, b'{"error": "forwarding failed"}'
        relay = {"Content-Type": answer.headers.get("content-type", "application/json")}
        if "stripe-version" in answer.headers:
            relay["Stripe-Version"] = answer.headers["stripe-version"]
        self.say(f"<-- [{answer.status_code}] {self._outcome(event, answer)}")
        return answer.status_code, relay, answer.content

    def _outcome(self, event: dict[str, Any], answer: httpx.Response) -> str:
        if event.get("type") != REQUEST_EVENT:
            return f"POST {self.forward_to}"
        try:
            approved = answer.json().get("approved")
        except ValueError:
            return "no JSON answer"
        return {True: "approved", False: "declined"}.get(approved, "no decision")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Buffered: headers and body leave in one write (no delayed-ACK stall).
            wbufsize = 64 * 1024

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, headers, reply = listener.handle(
                    body, self.headers.get("Stripe-Signature", "")
                )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        return Handler


def listen(args: argparse.Namespace) -> int:
    try:
        api = Api(api_base(args.api_base), secret_key(args.api_key))
    except ApiError as error:
        print(f"openissuing listen: {error}", file=sys.stderr)
        return 1
    events = [e.strip() for e in (args.events or "*").split(",") if e.strip()]
    listener = Listener(
        api,
        args.forward_to,
        events=events,
        realtime=args.forward_realtime,
        host=args.listen_host,
        say=lambda line: print(line, flush=True),
    )
    try:
        listener.start()
    except ApiError as error:
        print(f"openissuing listen: {error}", file=sys.stderr)
        return 1
    print(
        f"Ready! Forwarding {', '.join(listener.events)} to {args.forward_to}. "
        f"Your webhook signing secret is {listener.secret} (^C to quit)",
        flush=True,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
    return 0


def add_command(commands: Any) -> None:
    cmd = commands.add_parser(
        "listen",
        help="forward a sandbox's events (and real-time authorizations) to a local URL",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmd.add_argument("--forward-to", required=True, help="e.g. http://localhost:4242/webhook")
    cmd.add_argument("--events", help="comma-separated event types (default: every event)")
    cmd.add_argument(
        "--forward-realtime",
        action="store_true",
        help="let the handler decide issuing_authorization.request in real time",
    )
    cmd.add_argument("--listen-host", default="127.0.0.1", help="where the server reaches us")
    cmd.add_argument("--api-base", help="the server (env OPENISSUING_API_BASE)")
    cmd.add_argument("--api-key", help="a secret key (env OPENISSUING_API_KEY)")
    cmd.set_defaults(run=listen)
