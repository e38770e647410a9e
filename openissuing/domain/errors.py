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


# ------------------------------------------------------------------ money rules
# Each recurring money failure is one class that owns its code and message, so
# every site that checks the rule answers the same bytes.


class AmountNotPositive(InvalidRequest):
    """An amount parameter of 0 or less (Stripe's wording for a minimum of 1)."""

    code = "parameter_invalid_integer"

    def __init__(self, param: str) -> None:
        super().__init__("This value must be greater than or equal to 1.", param=param)

    @classmethod
    def check(cls, amount: int, param: str) -> int:
        """``amount`` if it is at least 1 (the one "amount must be positive" rule)."""
        if amount <= 0:
            raise cls(param)
        return amount


class PhysicalCardsOnly(InvalidRequest):
    """A parameter that only physical cards take (shipping, personalization_design)."""

    def __init__(self, param: str) -> None:
        super().__init__(f"`{param}` can only be set on physical cards.", param=param)


class AmountTooLarge(InvalidRequest):
    """An amount beyond what is left to act on (held, refundable…)."""

    code = "amount_too_large"

    def __init__(self, param: str, limit: int, message: str | None = None) -> None:
        super().__init__(message or f"The {param} must be at most {limit}.", param=param)
        self.limit = limit


class InsufficientFunds(InvalidRequest):
    """The one expected ledger failure: the debit would exceed the account's available cash.

    Raised by the money primitive (``services.money``) when the ledger answers
    ``exceeds_available``; flows that decline instead of failing (authorizations,
    received debits) catch exactly this class.
    """

    code = "insufficient_funds"
    MESSAGE = "The financial account's cash balance is insufficient."

    def __init__(self, param: str | None = None) -> None:
        message = self.MESSAGE if param is None else f"{self.MESSAGE[:-1]} for this {param}."
        super().__init__(message, param=param)


class InvalidStatusTransition(InvalidRequest):
    """An operation the object's current status does not allow."""

    code = "status_transition_invalid"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message, param=param)


class AlreadyDisputed(InvalidRequest):
    """The transaction is disputed in full, or has an open dispute."""

    code = "charge_disputed"

    def __init__(self, message: str) -> None:
        super().__init__(message, param="transaction")


# ------------------------------------------------------------------ Treasury flows


class FinancialAccountNotOpen(InvalidRequest):
    """A money movement asked of a closed financial account (Stripe's v2 code for this)."""

    code = "financial_account_not_open"

    def __init__(self, fa_id: str, param: str = "financial_account") -> None:
        super().__init__(
            f"The financial account {fa_id} is closed: no money can move through it.", param=param
        )


class FeatureNotEnabled(InvalidRequest):
    """The financial account's feature for this flow is not active (Stripe's v2 code)."""

    code = "feature_not_enabled"

    def __init__(self, message: str, param: str = "financial_account") -> None:
        super().__init__(message, param=param)


class ReversalRestricted(InvalidRequest):
    """A received flow that cannot be reversed; ``reason`` is its ``restricted_reason``."""

    def __init__(self, message: str, reason: str, param: str) -> None:
        super().__init__(message, param=param)
        self.reason = reason
