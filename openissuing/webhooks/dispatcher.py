"""The webhook dispatcher: claims due deliveries, sends them signed, records every attempt.

One round (``run_once``) is three steps, and only the middle one touches the
network, with no transaction open:

1. claim a batch of due deliveries in a short transaction
   (``services.deliveries.claim``: ``FOR UPDATE SKIP LOCKED`` + a lease);
2. render each event from its stored snapshot (read-only transaction: only
   ``pending_webhooks`` is live, and ``api_version`` is the endpoint's),
   sign it with the endpoint's secret and POST it, with a timeout per attempt;
   deliveries to the same endpoint go one after another (so one dispatcher keeps
   an endpoint's events in order on the happy path), different endpoints in
   parallel;
3. record each attempt in its own short transaction as soon as it ends.

It runs as a thread in the API server (``openissuing serve``) or alone
(``openissuing dispatch``); any number of dispatchers may share one PostgreSQL.
It wakes every ``poll_interval_seconds``, and at once when this process commits
an event that has deliveries (``openissuing.services.doorbell.ring``).

Retry schedule: the gaps, in seconds, after the 1st, 2nd, … failed attempt;
when they run out the delivery is ``failed``. The default resembles Stripe's
(exponential from one minute, capped at 8 hours, for about 3 days);
``OPENISSUING_WEBHOOK_RETRY_SCHEDULE="1,1,2"`` replaces it (three retries, 1 s,
1 s then 2 s apart) for tests and the impatient.
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import httpx

from openissuing import observability, wire
from openissuing.services import deliveries, doorbell, presenter, webhook_endpoints
from openissuing.services.deliveries import Claim, Outcome
from openissuing.services.scope import Scope
from openissuing.storage.uow import UnitOfWork, transaction
from openissuing.webhooks import signer

log = logging.getLogger("openissuing.webhooks")

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
THREE_DAYS_SECONDS = 3 * 24 * 3600


def _stripe_like_schedule() -> tuple[float, ...]:
    gaps: list[float] = []
    gap = 60.0
    while sum(gaps) + gap <= THREE_DAYS_SECONDS:
        gaps.append(gap)
        gap = min(gap * 2, 8 * 3600.0)
    return tuple(gaps)


DEFAULT_RETRY_SCHEDULE = _stripe_like_schedule()


def parse_schedule(text: str | None) -> tuple[float, ...]:
    """``"1,1,2"`` → ``(1.0, 1.0, 2.0)``; unset or blank → the default schedule."""
    if text is None or not text.strip():
        return DEFAULT_RETRY_SCHEDULE
    gaps = []
    for part in text.split(","):
        try:
            gap = float(part)
        except ValueError:
            raise ValueError(
                f"webhook retry schedule: {part.strip()!r} is not a number of seconds"
            ) from None
        if gap < 0 or not math.isfinite(gap):
            raise ValueError(
                f"webhook retry schedule: {part.strip()!r} must be a finite number >= 0"
            )
        gaps.append(gap)
    return tuple(gaps)


@dataclass(frozen=True)
class DispatcherConfig:
    schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    timeout_seconds: float = 10.0
    poll_interval_seconds: float = 1.0
    batch_size: int = 20
    concurrency: int = 8
    # How long a claim is ours before another dispatcher may take it over; it
    # must outlast sending a whole batch to one slow endpoint. None: derived.
    lease_seconds: float | None = None

    @property
    def lease_ms(self) -> int:
        seconds = self.lease_seconds
        if seconds is None:
            seconds = self.batch_size * self.timeout_seconds + 30
        return int(seconds * 1000)

    @classmethod
    def from_settings(cls, settings: Any) -> DispatcherConfig:
        return cls(
            schedule=parse_schedule(settings.webhook_retry_schedule),
            timeout_seconds=settings.webhook_timeout_seconds,
            poll_interval_seconds=settings.webhook_poll_interval_seconds,
        )


@dataclass(frozen=True)
class Job:
    """A claimed delivery, ready to send (or to cancel, or to fail without sending)."""

    claim: Claim
    url: str | None = None
    secret: str | None = None
    body: str | None = None
    cancel: bool = False
    problem: str | None = None


class Dispatcher:
    def __init__(
        self,
        engine: Any,
        *,
        platform_id: str,
        clock: Any,
        box: Any,
        api_version: str,
        config: DispatcherConfig | None = None,
        wall: Callable[[], float] = time.time,
        name: str = "webhook-dispatcher",
    ) -> None:
        self.engine = engine
        self.platform_id = platform_id
        self.clock = clock
        self.box = box
        self.api_version = api_version
        self.config = config or DispatcherConfig()
        self.name = name
        self._wall = wall
        self._http = httpx.Client(timeout=self.config.timeout_seconds, follow_redirects=False)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_runtime(cls, runtime: Any, **overrides: Any) -> Dispatcher:
        """A dispatcher for a runtime's database; ``overrides`` replace config fields (tests)."""
        config = replace(DispatcherConfig.from_settings(runtime.settings), **overrides)
        return cls(
            runtime.engine,
            platform_id=runtime.platform_id,
            clock=runtime.clock,
            box=runtime.box,
            api_version=runtime.settings.api_version,
            config=config,
        )

    # ------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            if not self._stopping.is_set():
                return
            self._thread.join()  # a stop still finishing its last attempt: let it end first
        self._stopping.clear()
        # httpx logs every request at INFO; our own line per attempt says more.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        doorbell.listen(self._wake)
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Finish the attempts in flight (each bounded by the HTTP timeout), release the rest."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout if timeout is not None else self.config.timeout_seconds + 5)
            if not self._thread.is_alive():
                self._thread = None
        doorbell.unlisten(self._wake)

    def close(self) -> None:
        self.stop()
        self._http.close()

    def run_until_signalled(self) -> None:
        """``openissuing dispatch``: run in the foreground until SIGINT or SIGTERM."""
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        self.start()
        while not stop.wait(1.0):
            if not self.running:
                break
        self.close()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            # Cleared before the round, so a commit during the round triggers another one.
            self._wake.clear()
            try:
                claimed = self.run_once()
            except Exception:  # noqa: BLE001 - the loop must outlive a bad round (e.g. database down)
                log.exception("webhook dispatch round failed")
                claimed = 0
            if claimed < self.config.batch_size:
                self._wake.wait(self.config.poll_interval_seconds)

    # ------------------------------------------------------------ one round

    def now_ms(self) -> int:
        return int(self._wall() * 1000)

    def run_once(self) -> int:
        """Claim, send and record one batch; returns how many deliveries were claimed."""
        config = self.config
        now = self.now_ms()
        claims = transaction(
            self.engine, lambda uow: deliveries.claim(uow, now, config.batch_size, config.lease_ms)
        )
        if not claims:
            return 0
        jobs = transaction(
            self.engine, lambda uow: [self._prepare(uow, c) for c in claims], write=False
        )
        by_endpoint: dict[str, list[Job]] = {}
        for job in jobs:
            by_endpoint.setdefault(job.claim.endpoint_id, []).append(job)
        groups = list(by_endpoint.values())
        if len(groups) == 1:
            self._deliver_in_order(groups[0])
        else:
            with ThreadPoolExecutor(max_workers=min(config.concurrency, len(groups))) as pool:
                list(pool.map(self._deliver_in_order, groups))
        return len(claims)

    def _prepare(self, uow: UnitOfWork, claimed: Claim) -> Job:
        try:
            endpoint = _load_any(uow, "webhook_endpoint", claimed.endpoint_id)
            if endpoint is None or endpoint[1].get("status") != "enabled":
                return Job(claimed, cancel=True)
            owner, event = _load_any(uow, "event", claimed.event_id) or (None, None)
            secret = webhook_endpoints.secret_for(uow, self.box, claimed.endpoint_id)
            if event is None or secret is None:
                return Job(claimed, cancel=True)
            body = self._body(uow, event, owner, endpoint[1])
            return Job(claimed, url=endpoint[1]["url"], secret=secret, body=body)
        except Exception:  # noqa: BLE001 - one unrenderable event must not stall the others
            log.exception("cannot prepare webhook delivery %s", claimed.delivery_id)
            return Job(claimed, problem="internal error: the event could not be rendered")

    def _body(self, uow: UnitOfWork, event: dict, owner: str, endpoint: dict) -> str:
        scope = Scope(owner, self.platform_id, self.clock, self.box)
        payload = presenter.present(uow, scope, "event", event)
        payload["api_version"] = endpoint.get("api_version") or self.api_version
        # Pretty-printed, as Stripe sends it; the signature covers these exact bytes.
        return wire.pretty(payload)

    def _deliver_in_order(self, jobs: list[Job]) -> None:
        for index, job in enumerate(jobs):
            if self._stopping.is_set():
                # Shutting down: hand the unsent ones back now rather than waiting out the lease.
                for unsent in jobs[index:]:
                    self._safely(
                        lambda uow, c=unsent.claim: deliveries.release(uow, c, self.now_ms())
                    )
                return
            self._deliver(job)

    def _deliver(self, job: Job) -> None:
        if job.cancel:
            self._safely(lambda uow: deliveries.cancel(uow, job.claim))
            return
        if job.problem is not None:
            now = self.now_ms()
            outcome = Outcome(started_at_ms=now, duration_ms=0, error=job.problem)
        else:
            outcome = self.send(job.url, job.body, job.secret)
        status = self._safely(
            lambda uow: deliveries.record(
                uow, job.claim, outcome, self.now_ms(), self.config.schedule
            )
        )
        observability.delivery_recorded(outcome.http_status, outcome.error, outcome.succeeded)
        log.info(
            "webhook %s -> %s attempt %d: %s (%s)",
            job.claim.event_id,
            job.claim.endpoint_id,
            job.claim.attempt_count + 1,
            outcome.http_status or outcome.error,
            status,
        )

    def _safely(self, work: Callable[[UnitOfWork], Any]) -> Any:
        try:
            return transaction(self.engine, work)
        except Exception:  # noqa: BLE001 - unrecorded: the lease expires and the delivery is retried
            log.exception("cannot record a webhook delivery result")
            return None

    # ------------------------------------------------------------ HTTP

    def send(self, url: str, body: str, secret: str) -> Outcome:
        """One signed POST; never raises for network trouble, it becomes the outcome."""
        started = self._wall()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Stripe-Signature": signer.header(body, secret, int(started)),
        }
        began = time.monotonic()
        status: int | None = None
        excerpt: str | None = None
        error: str | None = None
        try:
            with self._http.stream(
                "POST", url, content=body.encode("utf-8"), headers=headers
            ) as response:
                status = response.status_code
                excerpt = _excerpt(response)
        except httpx.TimeoutException:
            error = f"timed out after {self.config.timeout_seconds:g}s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        duration_ms = int((time.monotonic() - began) * 1000)
        return Outcome(int(started * 1000), duration_ms, status, error, excerpt)


def _excerpt(response: httpx.Response) -> str:
    """At most EXCERPT_BYTES of the answer: enough to debug, never a huge page in the database."""
    collected = b""
    for chunk in response.iter_bytes():
        collected += chunk
        if len(collected) >= deliveries.EXCERPT_BYTES:
            break
    return collected[: deliveries.EXCERPT_BYTES].decode("utf-8", errors="replace")


def _load_any(uow: UnitOfWork, object_type: str, object_id: str) -> tuple[str, dict] | None:
    """(owner, record) of an object whatever account it lives in: internal routing only."""
    found = uow.docs.owner_of(object_id)
    if found is None or found[0] != object_type:
        return None
    record = uow.docs.get(object_type, object_id, found[1])
    return None if record is None else (found[1], record)
