import inspect

from openissuing.api.errors import ERROR_TABLE, status_and_type
from openissuing.domain import errors


def _all_error_classes():
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.StripeError) and cls is not errors.StripeError
    ]


def test_every_error_class_has_a_row():
    mapped = {cls for cls, _, _ in ERROR_TABLE}
    assert set(_all_error_classes()) <= mapped | {errors.StripeError}


def test_subclass_uses_most_specific_row():
    assert status_and_type(errors.ParameterMissing("x")) == (400, "invalid_request_error")
    assert status_and_type(errors.ResourceMissing("issuing.card", "ic_1")) == (
        404,
        "invalid_request_error",
    )
    assert status_and_type(errors.IdempotencyMismatch("m")) == (400, "idempotency_error")
    assert status_and_type(errors.CardDeclined("m")) == (402, "card_error")
