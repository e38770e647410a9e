"""Schema-driven coercion and validation of decoded request params.

This is stripe-mock's "coercer" stage: ``forms.decode`` produced a tree whose
leaves are all strings; here each leaf is checked and converted according to
the endpoint's schema in ``param_spec.json`` (generated from the stripe SDK
by ``tools/gen_param_spec.py``), so handlers receive ints, bools and
validated strings and never see a key Stripe would have rejected.

Error precedence mirrors Stripe's: an unknown or malformed parameter anywhere
is reported before a missing required one, so a typo in a required field's
name reads "unknown parameter" rather than "missing".

Money never becomes a float: integers are ``int``, ``number`` fields become
``int`` when integral and otherwise stay validated decimal text, and
``decimal`` fields always stay text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from openissuing.api.forms import FormList, bracket_path
from openissuing.domain.errors import (
    InvalidRequest,
    ParameterInvalid,
    ParameterMissing,
    ParameterUnknown,
)

__all__ = ["validate", "bracket", "spec_for"]

Path = tuple[Any, ...]

_INTEGER = re.compile(r"^[+-]?[0-9]+$")
# Plain decimal notation only: exponents ("1e999999") would let a client make
# us build huge numbers, and Stripe's own decimal params never use them.
_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
# Integer params are stored as 64-bit columns; anything wider is invalid.
_INT64 = range(-(2**63), 2**63)
# Stripe's own ceiling for an amount: eight digits of minor units ("Amount must be no more
# than $999,999.99"). It is also what keeps the ledger's 64-bit totals from overflowing:
# an account total reaches 2**62 (the database's bound on every total, see migration 0004)
# only after 4.6e10 transfers of the largest amount -- more than a century at a sustained
# ten maximal transfers per second on one account -- and then the database refuses the
# transfer rather than wrapping.
MAX_AMOUNT = 99_999_999
_MAX_AMOUNT_TEXT = "$999,999.99"
# Integer params that carry money, by name, wherever the spec puts them: every endpoint's
# ``amount``, ``*_amount`` (capture_amount, merchant_amount, refund_amount ...), the
# amount_details and receipt fields, spending limits.
_MONEY_NAMES = frozenset({"atm_fee", "total", "unit_cost"})
_EMPTY = {"type": "empty"}


def bracket(path: Path) -> str:
    """``("a", "b", 0, "c")`` -> ``"a[b][0][c]"``: how Stripe names a param."""
    return bracket_path(path)


@cache
def _spec() -> dict[str, Any]:
    """The SDK-derived spec, with ``param_spec_extra.json`` merged over it: what Stripe
    documents beyond the pinned SDK (whole endpoints, and fields of known ones)."""
    files = resources.files("openissuing.api")
    spec = json.loads(files.joinpath("param_spec.json").read_text("utf-8"))
    extra = json.loads(files.joinpath("param_spec_extra.json").read_text("utf-8"))
    endpoints = spec["endpoints"]
    for endpoint, schema in extra["endpoints"].items():
        if endpoint in endpoints:
            raise RuntimeError(f"param_spec_extra.json redefines {endpoint}; add fields instead")
        endpoints[endpoint] = schema
    for endpoint, fields in extra["fields"].items():
        known = endpoints[endpoint]["fields"]
        if set(fields) & set(known):
            raise RuntimeError(f"param_spec_extra.json redefines fields of {endpoint}")
        known.update(fields)
    return spec


def spec_for(endpoint: str) -> dict[str, Any]:
    """The schema node for ``"<METHOD> <path>"``; KeyError if unknown (a bug
    in routing, not something a client can cause)."""
    return _spec()["endpoints"][endpoint]


def validate(endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
    """Return ``params`` coerced to the endpoint's schema, or raise the
    Stripe error the first bad parameter deserves."""
    schema = spec_for(endpoint)
    body = dict(params)
    expand = body.pop("expand", None)
    run = _Run()
    result = run.node(schema, body, ())
    if expand is not None:
        result["expand"] = _expand(expand)
    if run.missing:
        raise ParameterMissing(run.missing[0])
    return result


def _expand(value: Any) -> list[str]:
    """``expand`` is accepted everywhere, as ``expand[]``/``expand[i]`` or,
    leniently, a single ``expand=field``; ``expand=`` means none."""
    if value == "":
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise InvalidRequest("Invalid array", param="expand")
    for index, item in zip(_indexes(value), value, strict=False):
        if not isinstance(item, str):
            raise ParameterInvalid(
                f"Invalid string: {_render(item)}", param=bracket(("expand", index))
            )
    return list(value)


class _Run:
    """One validation pass. Missing required params are collected rather
    than raised so that any unknown/invalid param found later in the walk
    still takes precedence."""

    def __init__(self) -> None:
        self.missing: list[str] = []

    def node(self, schema: dict, value: Any, path: Path) -> Any:
        schema = _deref(schema)
        kind = schema["type"]
        if value == "" and kind == "array":
            # The SDKs drop empty lists, so "" is how a client clears one (e.g. blocked_categories).
            return ""
        if value == "" and kind not in ("string", "empty", "any", "union"):
            raise _cannot_be_empty(path)
        handler: Callable[[dict, Any, Path], Any] = getattr(self, f"_{kind}")
        return handler(schema, value, path)

    # -- containers ------------------------------------------------------

    def _object(self, schema: dict, value: Any, path: Path) -> dict:
        if not isinstance(value, dict):
            raise InvalidRequest("Invalid object", param=_param(path))
        fields = schema["fields"]
        for key in value:
            if key not in fields:
                raise ParameterUnknown(bracket((*path, key)))
        self.missing.extend(
            bracket((*path, name))
            for name, field in fields.items()
            if field["required"] and name not in value
        )
        for key, item in value.items():
            # A required list cannot be cleared.
            if (
                item == ""
                and fields[key]["required"]
                and _deref(fields[key]["schema"])["type"] == "array"
            ):
                raise _cannot_be_empty((*path, key))
        return {
            key: self.node(fields[key]["schema"], item, (*path, key)) for key, item in value.items()
        }

    def _map(self, schema: dict, value: Any, path: Path) -> dict:
        if isinstance(value, FormList):
            # metadata[0]=x: digit-only keys are legitimate map keys.
            value = dict(zip(value.indexes, value, strict=False))
        if not isinstance(value, dict):
            raise InvalidRequest("Invalid object", param=_param(path))
        return {key: self.node(schema["values"], item, (*path, key)) for key, item in value.items()}

    def _array(self, schema: dict, value: Any, path: Path) -> list:
        if isinstance(value, dict) and value and all(_INTEGER.match(k) for k in value):
            ordered = sorted(value, key=int)
            value = FormList((value[k] for k in ordered), ordered)
        if not isinstance(value, list):
            raise InvalidRequest("Invalid array", param=_param(path))
        items = schema["items"]
        return [
            self.node(items, item, (*path, index))
            for index, item in zip(_indexes(value), value, strict=False)
        ]

    def _union(self, schema: dict, value: Any, path: Path) -> Any:
        options = [_deref(option) for option in schema["options"]]
        if value == "":
            return self._empty_in_union(options, path)
        candidates = _candidates(options, value)
        first_error: InvalidRequest | None = None
        for option in candidates:
            recorded = len(self.missing)
            try:
                return self.node(option, value, path)
            except ParameterInvalid as exc:
                del self.missing[recorded:]  # a rejected option's findings don't count
                first_error = first_error or exc
        if first_error is not None:
            raise first_error
        # Nothing has the right shape: let the main option explain why.
        return self.node(next(o for o in options if o["type"] != "empty"), value, path)

    def _empty_in_union(self, options: list[dict], path: Path) -> str:
        if any(o["type"] in ("empty", "string", "any") for o in options):
            return ""
        raise _cannot_be_empty(path)

    # -- scalars ---------------------------------------------------------

    def _string(self, schema: dict, value: Any, path: Path) -> str:
        if not isinstance(value, str):
            raise ParameterInvalid(f"Invalid string: {_render(value)}", param=_param(path))
        return value

    def _empty(self, schema: dict, value: Any, path: Path) -> str:
        if value != "":
            raise InvalidRequest(
                f"Invalid {_param(path)}: must be an empty string", param=_param(path)
            )
        return ""

    def _any(self, schema: dict, value: Any, path: Path) -> Any:
        return _plain(value)

    def _integer(self, schema: dict, value: Any, path: Path) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and _INTEGER.match(value) and len(value) <= 20:
            number = int(value)
        else:
            number = None
        if number is None or number not in _INT64:
            raise ParameterInvalid(
                f"Invalid integer: {_render(value)}",
                code="parameter_invalid_integer",
                param=_param(path),
            )
        if _is_amount(path) and number > MAX_AMOUNT:
            raise InvalidRequest(
                f"Amount must be no more than {_MAX_AMOUNT_TEXT}",
                code="amount_too_large",
                param=_param(path),
            )
        return number

    def _boolean(self, schema: dict, value: Any, path: Path) -> bool:
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise ParameterInvalid(
            f"Invalid boolean: {_render(value)}",
            code="parameter_invalid_boolean",
            param=_param(path),
        )

    def _number(self, schema: dict, value: Any, path: Path) -> int | str:
        text = self._decimal(schema, value, path)
        parsed = Decimal(text)
        return int(parsed) if parsed == parsed.to_integral_value() else text

    def _decimal(self, schema: dict, value: Any, path: Path) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and _DECIMAL.match(value) and len(value) <= 64:
            return value
        raise ParameterInvalid(
            f"Invalid decimal: {_render(value)}",
            code="parameter_invalid_decimal",
            param=_param(path),
        )

    def _enum(self, schema: dict, value: Any, path: Path) -> str:
        allowed = schema["values"]
        if isinstance(value, str) and value in allowed:
            return value
        error = ParameterInvalid(
            f"Invalid {_param(path)}: must be one of {_one_of(allowed)}", param=_param(path)
        )
        error.code = None  # Stripe's bad-enum errors carry no code
        raise error


# Order in which a string tries scalar union options: the strict parsers
# first, so "5" becomes 5 where an integer is allowed, and free text last.
_SCALAR_ORDER = ("integer", "boolean", "decimal", "number", "enum", "string", "any")


def _candidates(options: list[dict], value: Any) -> list[dict]:
    """The union options whose shape fits ``value``, best first."""
    if isinstance(value, dict):
        objects = [o for o in options if o["type"] == "object"]
        return _rank_objects(objects, value) + [o for o in options if o["type"] in ("map", "any")]
    if isinstance(value, list):
        return [o for o in options if o["type"] in ("array", "any")]
    rank = {kind: i for i, kind in enumerate(_SCALAR_ORDER)}
    scalars = [o for o in options if o["type"] in rank]
    return sorted(scalars, key=lambda o: rank[o["type"]])


def _rank_objects(objects: list[dict], value: dict) -> list[dict]:
    """Pick among several object shapes (e.g. ``external_account`` as bank
    account, card or card token) by an ``object`` discriminator, else by
    which shape knows every key sent; only the best one is tried so its
    errors (unknown/missing) are the ones reported."""
    if len(objects) <= 1:
        return objects
    tag = value.get("object")
    for option in objects:
        tag_field = option["fields"].get("object")
        allowed = _deref(tag_field["schema"]).get("values", ()) if tag_field else ()
        if tag in allowed:
            return [option]
    for option in objects:
        if set(value) <= set(option["fields"]):
            return [option]
    return objects[:1]


def _is_amount(path: Path) -> bool:
    """Whether the integer at ``path`` is an amount of money (see ``_MONEY_NAMES``)."""
    names = [part for part in path if isinstance(part, str) and not part.isdigit()]
    if not names:
        return False
    name = names[-1]
    return name == "amount" or name.endswith("_amount") or name in _MONEY_NAMES


def _deref(schema: dict) -> dict:
    while "$ref" in schema:
        schema = _spec()["$defs"][schema["$ref"]]
    return schema


def _indexes(value: list) -> tuple[str, ...] | range:
    return value.indexes if isinstance(value, FormList) else range(len(value))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _param(path: Path) -> str:
    return bracket(path) if path else ""


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(_plain(value), separators=(", ", ": "), default=str)


def _one_of(values: list[str]) -> str:
    if len(values) <= 2:
        return " or ".join(values)
    return ", ".join(values[:-1]) + f", or {values[-1]}"


def _cannot_be_empty(path: Path) -> ParameterInvalid:
    name = _param(path)
    return ParameterInvalid(
        f"You passed an empty string for '{name}'. We assume empty values are an attempt to "
        f"unset a parameter; however '{name}' cannot be unset. You should remove '{name}' "
        "from your request or supply a non-empty value.",
        code="parameter_invalid_empty",
        param=name,
    )
