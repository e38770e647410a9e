"""What the server counts, in Prometheus' terms (``GET /metrics``), and its access-log logger.

The bottom layer, beside clock/ids/settings: it imports nothing of openissuing, so every layer
may call it. Business counters move only for what committed: the hooks take the unit of work's
``after_commit`` list and append the increment to it, so a rolled-back or retried transaction
counts nothing. Every hook is one cheap call that cannot raise (a callback that raised after a
commit would turn a committed request into a 500).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

access_log = logging.getLogger("openissuing.access")

REGISTRY = CollectorRegistry(auto_describe=True)

# The API's own latency: a millisecond-scale path, so the buckets start well below 1 ms.
REQUEST_SECONDS = Histogram(
    "openissuing_request_duration_seconds",
    "Time from the request's arrival to the end of its answer, by route template.",
    ["method", "route", "status"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
AUTHORIZATIONS = Counter(
    "openissuing_authorizations",
    "Issuing authorizations decided (committed), by outcome and request_history reason.",
    ["outcome", "reason"],
    registry=REGISTRY,
)
WEBHOOK_DELIVERIES = Counter(
    "openissuing_webhook_deliveries",
    "Webhook delivery attempts recorded, by outcome.",
    ["outcome"],
    registry=REGISTRY,
)
LEDGER_TRANSFERS = Counter(
    "openissuing_ledger_transfers",
    "Ledger transfers committed, by kind (posted, pending, post_pending, void).",
    ["kind"],
    registry=REGISTRY,
)
LEDGER_AMOUNT = Counter(
    "openissuing_ledger_transfer_amount",
    "Sum of committed ledger transfer amounts, in minor units, by currency and kind.",
    ["currency", "kind"],
    registry=REGISTRY,
)

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST


def exposition() -> bytes:
    """Every metric in Prometheus' text format."""
    return generate_latest(REGISTRY)


def event_recorded(after_commit: list[Callable[[], None]], event_type: str, obj: Any) -> None:
    """Hook in ``events.record``: an ``issuing_authorization.created`` is one decision."""
    if event_type != "issuing_authorization.created":
        return
    history = obj.get("request_history") or [{}]
    child = AUTHORIZATIONS.labels(
        "approved" if obj.get("approved") else "declined", history[-1].get("reason") or "unknown"
    )
    after_commit.append(child.inc)


def transfers_written(after_commit: list[Callable[[], None]], transfers: Iterable[Any]) -> None:
    """Hook in ``ledger.execute``: the transfers a batch wrote (not the replays it skipped)."""
    counted = [(str(getattr(t.kind, "value", t.kind)), t.currency, t.amount) for t in transfers]
    if not counted:
        return

    def count() -> None:
        for kind, currency, amount in counted:
            LEDGER_TRANSFERS.labels(kind).inc()
            LEDGER_AMOUNT.labels(currency, kind).inc(amount)

    after_commit.append(count)


def delivery_recorded(http_status: int | None, error: str | None, succeeded: bool) -> None:
    """Hook in the dispatcher, after the attempt's transaction committed."""
    if succeeded:
        outcome = "succeeded"
    elif http_status is not None:
        outcome = "http_error"
    elif error and "timed out" in error:
        outcome = "timeout"
    else:
        outcome = "unreachable"
    WEBHOOK_DELIVERIES.labels(outcome).inc()
