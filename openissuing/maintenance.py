"""Housekeeping that runs beside the API: forgetting idempotency keys past their retention,
and concluding two-phase requests a stopped server left unfinished (``api.resume``).

Stripe keeps keys at least 24 hours; so do we (``idempotency_retention_seconds``),
then delete them so the table does not grow without bound.
A key older than the retention is also ignored on reuse (``idempotency.find``),
so pruning late is harmless. Times are the injected clock's.
"""

from __future__ import annotations

import logging
import threading

from openissuing.api import resume
from openissuing.storage import idempotency
from openissuing.storage.uow import transaction

log = logging.getLogger("openissuing.maintenance")


def prune_idempotency_keys(engine, now: int, retention_seconds: int) -> int:
    """Delete the keys older than the retention; returns how many went."""
    return transaction(engine, lambda uow: idempotency.prune(uow.conn, now - retention_seconds))


class Housekeeper:
    """A daemon thread doing the housekeeping every ``interval_seconds``."""

    def __init__(self, runtime, interval_seconds: float = 60.0) -> None:
        self.runtime = runtime
        self.interval_seconds = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="openissuing-housekeeper", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        try:
            resume.recover_due(self.runtime)  # at start: whatever a killed server left overdue
        except Exception:  # noqa: BLE001 - housekeeping must never take the server down
            log.exception("recovery at start failed")
        while not self._stop.wait(self.interval_seconds):
            try:
                # Two-phase requests a stopped server left unfinished (api.resume).
                resume.recover_due(self.runtime)
                settings = self.runtime.settings
                prune_idempotency_keys(
                    self.runtime.engine,
                    self.runtime.clock.now(),
                    settings.idempotency_retention_seconds,
                )
            except Exception:  # noqa: BLE001 - housekeeping must never take the server down
                log.exception("housekeeping round failed")
