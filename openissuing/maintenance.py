"""Housekeeping that runs beside the API: forgetting idempotency keys past their retention.

Stripe keeps keys at least 24 hours; so do we (``idempotency_retention_seconds``),
then delete them in small batches so the table does not grow without bound.
A key older than the retention is also ignored on reuse (``idempotency.find``),
so pruning late is harmless. Times are the injected clock's.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import delete, select

from openissuing.storage.tables import idempotency_keys
from openissuing.storage.uow import transaction

log = logging.getLogger("openissuing.maintenance")
BATCH = 1000


def prune_idempotency_keys(engine, now: int, retention_seconds: int) -> int:
    """Delete expired keys, a batch per transaction; returns how many went."""
    cutoff = now - retention_seconds
    removed = 0
    while True:
        def work(uow) -> int:
            old = uow.conn.execute(
                select(idempotency_keys.c.scope, idempotency_keys.c.key)
                .where(idempotency_keys.c.created < cutoff).limit(BATCH)
            ).all()
            for scope, key in old:
                uow.conn.execute(delete(idempotency_keys).where(
                    idempotency_keys.c.scope == scope, idempotency_keys.c.key == key))
            return len(old)

        count = transaction(engine, work)
        removed += count
        if count < BATCH:
            return removed


class Housekeeper:
    """A daemon thread doing the housekeeping every ``interval_seconds``."""

    def __init__(self, runtime, interval_seconds: float = 60.0) -> None:
        self.runtime = runtime
        self.interval_seconds = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="openissuing-housekeeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            try:
                settings = self.runtime.settings
                prune_idempotency_keys(self.runtime.engine, self.runtime.clock.now(),
                                       settings.idempotency_retention_seconds)
            except Exception:  # noqa: BLE001 - housekeeping must never take the server down
                log.exception("housekeeping round failed")
