"""Faults a sandbox asks for on purpose, to test a client's retries and a handler's resilience.

Request faults answer the next ``count`` requests that match a method and a
path pattern (``*`` wildcards, e.g. ``/v1/issuing/authorizations*``):

* ``rate_limit`` — 429 with Stripe's ``rate_limit`` error, nothing executed;
* ``api_error`` — 500 ``api_error``, nothing executed, nothing stored for the
  idempotency key (so the SDK's retry with the same key runs for real);
* ``hang`` — executed and committed as usual, then the answer waits ``seconds``
  (a client that times out and retries with the same key gets the replay).

Both refusals carry ``Stripe-Should-Retry: true``, which the official SDKs obey.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from openissuing.domain.errors import InvalidRequest

REQUEST_KINDS = ("rate_limit", "api_error", "hang")
KINDS = REQUEST_KINDS
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

    def matches(self, method: str, path: str, now: int) -> bool:
        if self.expires_at is not None and now >= self.expires_at:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.path is None or fnmatch.fnmatchcase(path, self.path)


def validate(
    kind: str, method: str | None, path: str | None, count: int | None, seconds: int
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
    if kind == "hang" and not 0 < seconds <= MAX_HANG_SECONDS:
        raise InvalidRequest(
            f"A hang lasts between 1 and {MAX_HANG_SECONDS} seconds.",
            code="parameter_invalid_integer",
            param="seconds",
        )
