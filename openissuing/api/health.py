"""``GET /healthz`` and ``GET /metrics``: outside ``/v1``, unauthenticated, never in a sandbox.

``/healthz`` answers 200 only if the database answers a query (a load balancer or a test
harness waiting for the server reads it); otherwise 503 with the driver's one-line reason.
``/metrics`` is Prometheus' text format (``openissuing.observability``).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from openissuing import observability
from openissuing.storage.db import unanswered


def _database_answers(engine: Any) -> str | None:
    return unanswered(engine)


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
