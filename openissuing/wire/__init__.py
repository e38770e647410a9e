"""The wire shape of every Stripe object: pure serializers, and the one registry of object types.

A serializer is a pure function ``(record, view) -> dict``: it reads the stored record and
what ``view.related`` already holds (the balance, the embedded cardholder, revealed secrets,
``pending_webhooks``), and never a database. Loading those relations is the job of
``openissuing.services.presenter``, which reads through storage and then calls the
serializer; ``openissuing.api.render`` adds ``expand[]`` and lists on top.

This package sits beside ``domain`` at the bottom of the house: it imports the domain and
nothing above it, so services may render (an event stores its object as rendered when it
happens).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

Json = dict[str, Any]


def pretty(payload: Any) -> str:
    """``json.dumps(payload, indent=2)``, byte for byte: how a webhook's body is pretty-printed
    (the signature covers those exact bytes).

    The standard library's encoder is C only without ``indent``; with it, it walks the object
    in Python, ~0.3 ms for an authorization's event, on every real-time purchase and every
    webhook. orjson's two-space indent writes the same bytes wherever both can: ASCII text and
    integers within 64 bits (the standard library escapes non-ASCII as ``\\uXXXX``, orjson writes
    UTF-8) and no floats (the two format some differently: ``6.103515625e-05`` there,
    ``0.00006103515625`` here), so a payload with either takes the standard library's path.
    """
    try:
        text = orjson.dumps(payload, option=orjson.OPT_INDENT_2)
    except TypeError:  # an integer beyond 64 bits, a type orjson does not know
        text = b""
    if text and text.isascii() and not _FLOAT.search(text):
        return text.decode("ascii")
    return json.dumps(payload, indent=2)


# A line whose value is a number with a fraction or an exponent: indented output puts every
# value on its own line, after ``": `` or the indent, and a string's value starts with a quote.
# (A key that looks like one merely takes the slower path.)
_FLOAT = re.compile(rb'(?m)(?:": |^ *)-?[0-9]+[.eE]')


@dataclass(frozen=True)
class View:
    """How one object is being shown, and the relations the presenter loaded for it."""

    # Top-level expand paths for the object being rendered (e.g. {"number", "cvc"}).
    expand: frozenset[str] = frozenset()
    # Retrieve endpoints may reveal secrets that list/create endpoints never do.
    reveal_secrets: bool = False
    # Preloaded relations, by the names each serializer documents.
    related: Mapping[str, Any] = field(default_factory=dict)


Serializer = Callable[[Json, View], Json]


def base(record: Json, object_type: str) -> Json:
    """The fields every top-level object has, then the record's own."""
    out = {"id": record["id"], "object": object_type}
    out.update(record)
    out["object"] = object_type
    out.setdefault("livemode", False)
    return out


def is_private(key: str) -> bool:
    """Private bookkeeping: kept in the stored record, never on the wire (keys starting ``_``)."""
    return key.startswith("_")


def public(record: Json) -> Json:
    """Drop private bookkeeping."""
    return {k: v for k, v in record.items() if not is_private(k)}
