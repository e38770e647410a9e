"""A platform's issuing_authorization.request handler for bench/realtime.py, in its own process.

Answers {"approved": true} with a Stripe-Version header in one write, times
itself, and on SIGTERM prints its median time (milliseconds) to stdout. Its
own process, so the load generator's event loop never delays its answers.
"""

from __future__ import annotations

import json
import signal
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TIMES: list[float] = []
ANSWER = json.dumps({"approved": True}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = (
        1 << 16
    )  # one write per response (headers and body together), as production servers do

    def do_POST(self) -> None:  # noqa: N802
        started = time.perf_counter()
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Stripe-Version", "2026-10-28.endive")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)
        TIMES.append(time.perf_counter() - started)

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)

    def stop(*_: object) -> None:
        print(
            json.dumps({"median_ms": statistics.median(TIMES) * 1000 if TIMES else 0.0}), flush=True
        )
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
