"""The app factory ``serve --workers N`` hands uvicorn: each worker process builds its own runtime.

uvicorn starts every worker in a fresh interpreter (spawn) and imports the app by name, so the
runtime (engine pool, clock, key box, dispatcher, housekeeper) cannot be passed in: it is built
here from the ``OPENISSUING_*`` environment the parent exported. The parent has already migrated
the schema, settled the secret key and created the encryption key file, once, before any worker
started; a worker only reads them (``build_runtime(…, migrate=False)``).
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette

from openissuing.app import build_runtime, create_app
from openissuing.settings import Settings


def create_app_from_environment() -> Starlette:
    # A spawned worker never ran cli.main: log as it does (the access log is INFO on stderr).
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return create_app(build_runtime(Settings(), migrate=False))
