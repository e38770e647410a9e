"""The one table from named errors to HTTP status and Stripe error ``type``.

Handlers match along the class hierarchy (most specific class first), as
Starlette's exception handlers do; a test checks every error class has a row.
"""

from __future__ import annotations

from typing import Any

from openissuing.domain import errors

# (class, HTTP status, Stripe error type)
ERROR_TABLE: list[tuple[type[errors.StripeError], int, str]] = [
    (errors.IdempotencyMismatch, 400, "idempotency_error"),
    (errors.ParameterUnknown, 400, "invalid_request_error"),
    (errors.ParameterMissing, 400, "invalid_request_error"),
    (errors.ParameterInvalid, 400, "invalid_request_error"),
    (errors.AmountNotPositive, 400, "invalid_request_error"),
    (errors.PhysicalCardsOnly, 400, "invalid_request_error"),
    (errors.AmountTooLarge, 400, "invalid_request_error"),
    (errors.InsufficientFunds, 400, "invalid_request_error"),
    (errors.InvalidStatusTransition, 400, "invalid_request_error"),
    (errors.AlreadyDisputed, 400, "invalid_request_error"),
    (errors.FinancialAccountNotOpen, 400, "invalid_request_error"),
    (errors.FeatureNotEnabled, 400, "invalid_request_error"),
    (errors.ReversalRestricted, 400, "invalid_request_error"),
    (errors.InvalidRequest, 400, "invalid_request_error"),
    (errors.AuthenticationFailed, 401, "invalid_request_error"),
    (errors.CardDeclined, 402, "card_error"),
    (errors.PermissionDenied, 403, "invalid_request_error"),
    (errors.ResourceMissing, 404, "invalid_request_error"),
    (errors.Conflict, 409, "invalid_request_error"),
    (errors.RateLimited, 429, "invalid_request_error"),
]


def status_and_type(error: errors.StripeError) -> tuple[int, str]:
    for cls in type(error).__mro__:
        for known, status, error_type in ERROR_TABLE:
            if cls is known:
                return status, error_type
    raise LookupError(f"{type(error).__name__} has no row in ERROR_TABLE")


def doc_url(code: str) -> str:
    return "https://stripe.com/docs/error-codes/" + code.replace("_", "-")


def error_body(error: errors.StripeError, request_id: str) -> tuple[int, dict[str, Any]]:
    status, error_type = status_and_type(error)
    body: dict[str, Any] = {"type": error_type, "message": error.message, "request_log_url": None}
    if error.code:
        body["code"] = error.code
        body["doc_url"] = doc_url(error.code)
    if error.param:
        body["param"] = error.param
    if error.decline_code:
        body["decline_code"] = error.decline_code
    body["request_id"] = request_id
    return status, {"error": body}


def internal_error_body(request_id: str) -> dict[str, Any]:
    return {
        "error": {
            "type": "api_error",
            "message": "An unexpected error occurred on our side. The request has been logged "
            f"with id {request_id}; please retry.",
            "request_id": request_id,
        }
    }
