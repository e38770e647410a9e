"""Named, expected failures.

Every failure a client can cause is one of these classes, carrying Stripe's
error ``code`` and the offending ``param``. The web layer maps each class to an
HTTP status and Stripe error ``type`` in one table (``openissuing.api.errors``);
the domain never knows about HTTP.
"""

from __future__ import annotations


class StripeError(Exception):
    """Base of every expected failure. Never raised directly."""

    code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.param = param
        self.decline_code = decline_code


class InvalidRequest(StripeError):
    """The request is malformed or not allowed in the current state (400)."""


class ParameterUnknown(InvalidRequest):
    code = "parameter_unknown"

    def __init__(self, param: str) -> None:
        super().__init__(f"Received unknown parameter: {param}", param=param)


class ParameterMissing(InvalidRequest):
    code = "parameter_missing"

    def __init__(self, param: str) -> None:
        super().__init__(f"Missing required param: {param}.", param=param)


class ParameterInvalid(InvalidRequest):
    """A value of the wrong type or outside its enum; ``code`` says which."""

    code = "parameter_invalid_string"


class ResourceMissing(StripeError):
    """404: the object does not exist *for the acting account*."""

    code = "resource_missing"

    def __init__(self, object_name: str, object_id: str, param: str | None = None) -> None:
        super().__init__(f"No such {object_name}: '{object_id}'", param=param or "id")


class AuthenticationFailed(StripeError):
    """401: no key, or a key we do not know."""


class PermissionDenied(StripeError):
    """403: the key is valid but may not do this."""


class CardDeclined(StripeError):
    """402: parameters were valid but the request failed."""

    code = "card_declined"


class IdempotencyMismatch(StripeError):
    """400 idempotency_error: a key reused with different parameters."""

    code = "idempotency_key_in_use"


class Conflict(StripeError):
    """409: e.g. a concurrent request with the same idempotency key."""

    code = "idempotency_key_in_use"


class RateLimited(StripeError):
    """429."""

    code = "rate_limit"
