"""Faults a sandbox asks for on purpose, to test a client's retries and a handler's resilience.

Request faults answer the next ``count`` requests that match a method and a
path pattern (``*`` wildcards, e.g. ``/v1/issuing/authorizations*``):

* ``rate_limit`` — 429 with Stripe's ``rate_limit`` error, nothing executed;
* ``api_error`` — 500 ``api_error``, nothing executed, nothing stored for the
  idempotency key (so the SDK's retry with the same key runs for real);
* ``hang`` — executed and committed as usual, then the answer waits ``seconds``
  (a client that times out and retries with the same key gets the replay).

Both refusals carry ``Stripe-Should-Retry: true``, which the official SDKs obey.

Webhook faults change how the sandbox's events are delivered (``event_type`` picks which,
``*`` wildcards; ``count`` is in events):

* ``webhook_delay`` — every delivery is sent ``seconds`` late;
* ``webhook_out_of_order`` — each delivery is held a random 0..``seconds``, so events arrive
  shuffled;
* ``webhook_duplicate`` — each delivery is sent twice (the same event id), to test that a
  handler is idempotent.

Authorization faults (``count`` is in authorizations):

* ``network_fallback`` — the card network stands in for an unreachable Stripe: the
  test-helper purchase is decided by the network alone (``outcome`` approve, the default, or
  decline), recorded with reason ``network_fallback``, and no ``issuing_authorization.request``
  is sent. A network approval is held without a funds check (the network cannot see the
  balance), so it may take the cash below zero, as a stand-in approval can;
* ``realtime_slow`` — the platform's real-time handler answers ``seconds`` late: past the
  deadline, the request ends as ``webhook_timeout`` without the handler being asked.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from openissuing.domain.errors import InvalidRequest

REQUEST_KINDS = ("rate_limit", "api_error", "hang")
WEBHOOK_KINDS = ("webhook_delay", "webhook_out_of_order", "webhook_duplicate")
AUTHORIZATION_KINDS = ("network_fallback", "realtime_slow")
KINDS = REQUEST_KINDS + WEBHOOK_KINDS + AUTHORIZATION_KINDS
OUTCOMES = ("approve", "decline")
MAX_REALTIME_DELAY_SECONDS = 60
MAX_DELAY_SECONDS = 3600
METHODS = ("GET", "POST", "DELETE")
MAX_COUNT = 10_000
MAX_HANG_SECONDS = 600


@dataclass(frozen=True)
class Fault:
    id: str
    sandbox_id: str
    kind: str
    method: str | None
    path: str | None
    remaining: int | None
    seconds: int
    expires_at: int | None
    created: int
    event_type: str | None = None
    # network_fallback: what the network answers (approve | decline).
    outcome: str | None = None

    @property
    def on_requests(self) -> bool:
        return self.kind in REQUEST_KINDS

    def hears(self, event_type: str) -> bool:
        """A webhook fault touches this event type."""
        return self.kind in WEBHOOK_KINDS and (
            self.event_type is None or fnmatch.fnmatchcase(event_type, self.event_type)
        )

    def matches(self, method: str, path: str, now: int) -> bool:
        if not self.on_requests:
            return False
        if self.expires_at is not None and now >= self.expires_at:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.path is None or fnmatch.fnmatchcase(path, self.path)


def validate(
    kind: str,
    method: str | None,
    path: str | None,
    count: int | None,
    seconds: int,
    event_type: str | None = None,
    outcome: str | None = None,
) -> None:
    if kind not in KINDS:
        raise InvalidRequest(
            f"Invalid kind: must be one of {', '.join(KINDS)}.",
            code="parameter_invalid_string" if kind else "parameter_missing",
            param="kind",
        )
    if method is not None and method not in METHODS:
        raise InvalidRequest(
            f"Invalid method: must be one of {', '.join(METHODS)}.", param="method"
        )
    if path is not None and (not path.startswith("/") or len(path) > 255):
        raise InvalidRequest("A path pattern starts with / (e.g. /v1/issuing/*).", param="path")
    if count is not None and not 0 < count <= MAX_COUNT:
        raise InvalidRequest(
            f"count must be between 1 and {MAX_COUNT}.",
            code="parameter_invalid_integer",
            param="count",
        )
    if kind not in REQUEST_KINDS and (method is not None or path is not None):
        raise InvalidRequest(
            "Only request faults pick requests by method and path.",
            param="path" if path is not None else "method",
        )
    if kind in AUTHORIZATION_KINDS and event_type is not None:
        raise InvalidRequest("event_type applies to webhook faults only.", param="event_type")
    if outcome is not None and (kind != "network_fallback" or outcome not in OUTCOMES):
        raise InvalidRequest(
            "outcome is approve or decline, for network_fallback only.", param="outcome"
        )
    if kind == "realtime_slow" and not 0 < seconds <= MAX_REALTIME_DELAY_SECONDS:
        raise InvalidRequest(
            f"A slow handler answers between 1 and {MAX_REALTIME_DELAY_SECONDS} seconds late.",
            code="parameter_invalid_integer",
            param="seconds",
        )
    if kind in REQUEST_KINDS and event_type is not None:
        raise InvalidRequest("event_type applies to webhook faults only.", param="event_type")
    if event_type is not None and (not event_type or len(event_type) > 100):
        raise InvalidRequest("An event_type pattern has 1 to 100 characters.", param="event_type")
    timed = kind in ("webhook_delay", "webhook_out_of_order")
    if timed and not 0 < seconds <= MAX_DELAY_SECONDS:
        raise InvalidRequest(
            f"A delay lasts between 1 and {MAX_DELAY_SECONDS} seconds.",
            code="parameter_invalid_integer",
            param="seconds",
        )
    if kind == "hang" and not 0 < seconds <= MAX_HANG_SECONDS:
        raise InvalidRequest(
            f"A hang lasts between 1 and {MAX_HANG_SECONDS} seconds.",
            code="parameter_invalid_integer",
            param="seconds",
        )
