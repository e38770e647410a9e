"""Inputs no database can hold, refused the same way on every database, before any SQL.

PostgreSQL's ``text`` cannot contain NUL (U+0000): a NUL reaching a query there is a
driver error (a 500), where SQLite simply finds nothing. No stored id or value can
contain one (the form decoder refuses NUL in every parameter, ``forms.parse_pairs``),
so an input with a NUL can only name something that does not exist. It is answered
here, identically on both databases:

* a path id (``/v1/accounts/acct_%00``): 404 ``resource_missing`` for that resource;
* ``Stripe-Account``: the 403 any unknown account gets;
* ``Idempotency-Key``: 400, naming the header;
* a query or form parameter: 400 naming it (``forms``).
"""

from __future__ import annotations

from collections.abc import Mapping

from openissuing.domain.errors import InvalidRequest, PermissionDenied, ResourceMissing

NUL = "\x00"
_NAMESPACES = ("issuing", "treasury")


def no_access(account_id: str) -> PermissionDenied:
    """The answer for a ``Stripe-Account`` that is not one of the platform's accounts."""
    return PermissionDenied(
        f"The provided key does not have access to account '{account_id}' (or that account "
        "does not exist). Application access may have been revoked.",
        code="account_invalid",
    )


def screen(path_template: str, path_params: Mapping[str, str], headers: Mapping[str, str]) -> None:
    """Raise the Stripe answer for a NUL in a path id or a header the pipeline reads."""
    for name, value in path_params.items():
        if NUL in value:
            raise ResourceMissing(object_name(path_template, name), value, param=name)
    account = headers.get("stripe-account")
    if account is not None and NUL in account:
        raise no_access(account)
    key = headers.get("idempotency-key")
    if key is not None and NUL in key:
        raise InvalidRequest(
            "Idempotency-Key must not contain the NUL character (\\u0000).",
            param="Idempotency-Key",
        )


def object_name(path_template: str, param: str) -> str:
    """The object a path parameter names, as ``ResourceMissing`` spells it:
    ``/v1/issuing/cards/{card}`` -> ``issuing.card``, ``/v1/events/{id}`` -> ``event``."""
    segments = [s for s in path_template.strip("/").split("/")[1:] if s != "test_helpers"]
    position = segments.index("{" + param + "}")
    collection = segments[position - 1] if position else param
    singular = collection[:-3] + "y" if collection.endswith("ies") else collection.rstrip("s")
    namespace = segments[0] if segments[0] in _NAMESPACES and position - 1 > 0 else None
    return f"{namespace}.{singular}" if namespace else singular
