"""Stripe/Rack-style form decoding: raw ``key=value`` pairs -> nested params.

Stripe clients send every request parameter as
``application/x-www-form-urlencoded`` pairs whose keys encode nesting with
brackets: ``billing[address][city]=X`` for hashes, ``a[0]=x`` (Python SDK) or
``a[]=x`` (curl docs) for arrays. This module turns those pairs into plain
dicts/lists of strings, the shape ``openissuing.api.params`` then validates
against the endpoint's schema. Types are *not* coerced here: at this stage
every leaf is a string, because only the schema knows what a leaf means.

``""`` values are kept: to Stripe an empty value means "unset/clear"
(``metadata[k]=`` deletes one key, ``metadata=`` clears all).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from urllib.parse import unquote_plus

from openissuing.domain.errors import InvalidRequest, ParameterInvalid

__all__ = ["FormList", "parse_pairs", "decode", "flatten"]

# name followed by any number of [segment]s; anything else is a plain key and
# will be reported as unknown by the validator rather than guessed at here.
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_INDEX = re.compile(r"^[0-9]+$")
# Deeper keys are never legitimate; the cap keeps recursion bounded.
MAX_DEPTH = 32


class FormList(list):
    """A list decoded from ``a[i]`` keys that remembers the ``i`` each item
    was sent with.

    Two reasons: error params must name the index the client actually sent
    (``a[2][x]`` even though ``a[0]``..``a[1]`` were compacted away), and a
    map such as ``metadata`` may legitimately use digit-only keys
    (``metadata[0]=x``) which the validator turns back into a dict.
    """

    def __init__(self, items: Iterable[Any] = (), indexes: Iterable[str] = ()) -> None:
        super().__init__(items)
        self.indexes: tuple[str, ...] = tuple(indexes) or tuple(str(i) for i in range(len(self)))


# --------------------------------------------------------------------------
# Raw text -> pairs
# --------------------------------------------------------------------------


def parse_pairs(raw: bytes | str) -> list[tuple[str, str]]:
    """Split a form body or query string into percent-decoded pairs.

    Order is preserved because repeated keys and ``a[]`` appends depend on
    it. Blank values survive (``a=`` -> ``("a", "")``); a key with no ``=``
    is read the same way, as Rack does.

    A NUL (U+0000) anywhere is refused here, for every endpoint: PostgreSQL text cannot
    hold one, so letting it through would make the same request a 500 there and a
    silent miss or a stored NUL on SQLite (see ``openissuing.api.edge``).
    """
    text = _utf8(raw) if isinstance(raw, bytes) else raw
    pairs = []
    for part in text.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pair = (_unquote(key), _unquote(value))
        if NUL in pair[0] or NUL in pair[1]:
            raise _nul(pair[0])
        pairs.append(pair)
    return pairs


NUL = "\x00"


def _nul(key: str) -> ParameterInvalid:
    param = key.replace(NUL, "\\u0000")
    return ParameterInvalid(
        f"Invalid {param}: parameters must not contain the NUL character (\\u0000).",
        param=param,
    )


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("Invalid request body: form data must be UTF-8 encoded.") from None


def _unquote(text: str) -> str:
    try:
        return unquote_plus(text, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise InvalidRequest(
            f"Invalid percent-encoding in form data: {text!r} does not decode to UTF-8."
        ) from None


# --------------------------------------------------------------------------
# Pairs -> nested dicts/lists
# --------------------------------------------------------------------------


class _Hash(dict):
    """Under construction: a node addressed by named keys (``a[b]``)."""

    kind = "a hash (a[key])"


class _Array(dict):
    """Under construction: a node addressed by ``a[0]``/``a[]``, keyed by int
    index so that out-of-order and sparse indexes can be compacted later."""

    kind = "an array (a[0] or a[])"


def decode(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest bracketed keys into dicts and lists (see the module docstring).

    A leaf sent twice keeps the last value; a name used both as a leaf and
    as a container (``a=1&a[b]=2``), or as both a hash and an array
    (``a[0]=x&a[k]=y``), is ambiguous and rejected with ``param`` naming it.
    """
    root = _Hash()
    for key, value in pairs:
        if key:
            _insert(root, _split_key(key), value)
    return _finish(root)


def _split_key(key: str) -> list[str]:
    match = _KEY.match(key)
    if match is None:
        return [key]
    segments = [match.group(1), *_SEGMENT.findall(match.group(2))]
    if len(segments) > MAX_DEPTH:
        raise InvalidRequest(f"Parameter {key} is nested too deeply.", param=match.group(1))
    return segments


def _insert(root: _Hash, segments: list[str], value: str) -> None:
    parent: dict = root
    slot: Any = segments[0]
    trail: list[Any] = [slot]
    for position, segment in enumerate(segments[1:], start=1):
        kind = _Array if segment == "" or _INDEX.match(segment) else _Hash
        child = parent.get(slot)
        if child is None:
            child = parent[slot] = kind()
        elif not isinstance(child, kind):
            raise _conflict(trail, child, kind)
        parent, slot = child, _slot(child, segment, segments[position + 1 :])
        trail.append(slot)
    if isinstance(parent.get(slot), (_Hash, _Array)):
        raise _conflict(trail, parent[slot], str)
    parent[slot] = value


def _slot(node: dict, segment: str, rest: list[str]) -> Any:
    """The key inside ``node`` that ``segment`` addresses.

    ``a[]`` appends, except that ``a[][x]=1&a[][y]=2`` builds *one* object
    ``{x, y}``: Rack (and so Stripe) adds to the last element until a key
    repeats, which is how unindexed arrays of objects are spelled.
    """
    if isinstance(node, _Hash):
        return segment
    if segment != "":
        return int(segment)
    last = max(node, default=None)
    if last is not None and rest and rest[0] and not _INDEX.match(rest[0]):
        if isinstance(node[last], _Hash) and not _is_set(node[last], rest):
            return last
    return 0 if last is None else last + 1


def _is_set(node: Any, rest: list[str]) -> bool:
    for segment in rest:
        if not isinstance(node, dict) or not segment:
            return False
        key = int(segment) if isinstance(node, _Array) else segment
        if key not in node:
            return False
        node = node[key]
    return not isinstance(node, dict)


def _conflict(trail: list[Any], existing: Any, wanted: type) -> InvalidRequest:
    param = bracket_path(trail)
    old = getattr(existing, "kind", "a plain value")
    new = getattr(wanted, "kind", "a plain value")
    return InvalidRequest(
        f"Invalid parameter {param}: it was sent both as {old} and as {new}. "
        "Send it in one shape only.",
        param=param,
    )


def _finish(node: Any) -> Any:
    if isinstance(node, _Array):
        order = sorted(node)
        return FormList((_finish(node[i]) for i in order), (str(i) for i in order))
    if isinstance(node, _Hash):
        return {key: _finish(value) for key, value in node.items()}
    return node


def bracket_path(path: Iterable[Any]) -> str:
    """``("a", "b", 0, "c")`` -> ``"a[b][0][c]"``: how Stripe names a param."""
    head, *rest = [str(part) for part in path]
    return head + "".join(f"[{part}]" for part in rest)


# --------------------------------------------------------------------------
# Inverse: nested params -> pairs
# --------------------------------------------------------------------------


def flatten(params: dict[str, Any]) -> list[tuple[str, str]]:
    """Encode nested params as bracketed pairs, the way the Python SDK does.

    Lists are always indexed; ``None`` and empty lists/dicts produce no pair
    (the SDK omits them too); booleans become ``true``/``false``. Floats are
    refused: money must never pass through binary floating point.
    """
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        _flatten_into(pairs, str(key), value)
    return pairs


def _flatten_into(pairs: list[tuple[str, str]], prefix: str, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _flatten_into(pairs, f"{prefix}[{key}]", child)
    elif isinstance(value, (list, tuple)):
        for index, child in enumerate(value):
            _flatten_into(pairs, f"{prefix}[{index}]", child)
    elif value is None:
        return
    elif isinstance(value, bool):
        pairs.append((prefix, "true" if value else "false"))
    elif isinstance(value, (str, int, Decimal)):
        pairs.append((prefix, str(value)))
    else:
        raise TypeError(f"cannot form-encode {type(value).__name__} at {prefix}")
