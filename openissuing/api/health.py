"""``GET /healthz`` and ``GET /metrics``: outside ``/v1``, unauthenticated, never in a sandbox.

``/healthz`` answers 200 only if the database answers a query (a load balancer or a test
harness waiting for the server reads it); otherwise 503 with the driver's one-line reason.
``/metrics`` is Prometheus' text format (``openissuing.observability``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from openissuing import observability


def _database_answers(engine: Any) -> str | None:
    """None when ``SELECT 1`` works, else why not (one line)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar_one()
    except Exception as error:  # noqa: BLE001 - any failure is the health answer
        lines = [line for line in str(error).splitlines() if line.strip()]
        return lines[0] if lines else type(error).__name__
    return None


def routes(runtime: Any) -> list[Route]:
    async def healthz(request: Request) -> JSONResponse:
        problem = await run_in_threadpool(_database_answers, runtime.engine)
        if problem is not None:
            return JSONResponse(
                {"status": "unavailable", "database": "unavailable", "error": problem},
                status_code=503,
            )
        return JSONResponse({"status": "ok", "database": "ok"})

    async def metrics(request: Request) -> Response:
        body = await run_in_threadpool(observability.exposition)
        return Response(body, media_type=observability.METRICS_CONTENT_TYPE)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
