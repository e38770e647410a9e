"""Optional Stripe-like rate limits (``OPENISSUING_RATE_LIMIT``): off by default.

Stripe allows 25 operations per second in a sandbox and 100 in live mode, per account's key, and
answers the rest 429 with the ``rate_limit`` error. ``sandbox`` and ``live`` apply those rates to
each secret key here: a token bucket per key holding one second's worth (a burst of 25 or 100),
refilled continuously. The buckets live in the process: with ``serve --workers N`` each worker
counts its own share, so the whole server admits up to N times the rate (the README says so).

Only the API's own requests count (``/v1``, which is all that reaches ``api.pipeline``);
``/healthz``, ``/metrics`` and ``/_openissuing`` never get here, and the dashboard's in-process
calls (an ``httpx.ASGITransport`` to ``openissuing.internal``, an ASGI ``server`` no socket can
claim) are exempt.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from openissuing.domain.errors import RateLimited

RATES_PER_SECOND = {"sandbox": 25, "live": 100}
DASHBOARD_SERVER = "openissuing.internal"
MESSAGE = (
    "Request rate limit exceeded. Learn more about rate limits here "
    "https://stripe.com/docs/rate-limits."
)


def exceeded() -> RateLimited:
    """Stripe's 429 (the same body whether a limit or an injected fault answers)."""
    return RateLimited(MESSAGE)


class TokenBuckets:
    """One bucket per key: ``rate`` tokens a second, at most ``rate`` held (a second's burst)."""

    def __init__(self, rate: float, now: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._now = now
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, as of)

    def take(self, key: str) -> bool:
        """Spend one token of ``key``'s bucket; False when it is empty (nothing is spent)."""
        with self._lock:
            now = self._now()
            tokens, since = self._buckets.get(key, (self.rate, now))
            tokens = min(self.rate, tokens + (now - since) * self.rate)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            return allowed


def limiter_for(setting: str) -> TokenBuckets | None:
    rate = RATES_PER_SECOND.get(setting)
    return None if rate is None else TokenBuckets(rate)


_UNSET = object()


def check(runtime: Any, sandbox: Any, scope: dict) -> None:
    """Raise Stripe's 429 when ``sandbox``'s key has spent its rate; a no-op when the setting is
    off or the request is the dashboard's own."""
    # One limiter per runtime (per process), made on first use; a race makes two, one is kept.
    limiter = runtime.__dict__.get("rate_limiter", _UNSET)
    if limiter is _UNSET:
        limiter = runtime.__dict__.setdefault(
            "rate_limiter", limiter_for(runtime.settings.rate_limit)
        )
    if limiter is None or (scope.get("server") or ("",))[0] == DASHBOARD_SERVER:
        return
    if not limiter.take(sandbox.api_key):
        raise exceeded()
