"""Generate ``openissuing/api/param_spec.json`` from the installed stripe SDK.

The SDK's ``stripe.params`` TypedDicts are generated from Stripe's OpenAPI
spec, so they are the most faithful machine-readable record of which request
parameters each endpoint accepts. We walk a ``StripeClient`` by each
endpoint's ``sdk`` accessor, find the TypedDict its ``params`` argument is
annotated with, and convert the TypedDict tree into the small JSON schema
language that ``openissuing.api.params`` validates against.

Usage (from the repo root)::

    .venv/bin/python tools/gen_param_spec.py [path/to/endpoints.json]

Node format (``openissuing.api.params`` depends on it)::

    {"type": "string" | "integer" | "number" | "boolean" | "decimal" | "any" | "empty"}
    {"type": "enum", "values": [...]}
    {"type": "object", "fields": {name: {"required": bool, "schema": NODE}}}
    {"type": "map", "values": NODE}
    {"type": "array", "items": NODE}
    {"type": "union", "options": [NODE, ...]}
    {"$ref": name}   (only if the output had to be deduplicated; see "$defs")
"""

from __future__ import annotations

import argparse
import ast
import decimal
import importlib
import inspect
import json
import sys
import types
import typing
from collections import Counter
from pathlib import Path
from typing import Any

import stripe
import typing_extensions
from stripe._request_options import RequestOptions

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sdk_surface  # noqa: E402  (tools/ is not a package)

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "openissuing" / "api" / "param_spec.json"
DEFAULT_ENDPOINTS = REPO.parent / "shared" / "reference" / "endpoints.json"

# Every params class inherits the client-side RequestOptions keys (api_key,
# stripe_account, headers...). They are SDK options, never sent on the wire.
REQUEST_OPTION_KEYS = frozenset(RequestOptions.__annotations__)
# `expand` is valid on every endpoint and is validated by params.py itself.
DROPPED_KEYS = REQUEST_OPTION_KEYS | {"expand"}
# Names some annotations mention but their modules only import under
# TYPE_CHECKING, so get_type_hints cannot see them.
EXTRA_NAMES = {
    "StripeContext": stripe.StripeContext,
    "Mapping": typing.Mapping,
    "Dict": dict,
    "List": list,
    "Any": typing.Any,
}
# Above this size the JSON is deduplicated into "$defs"; below it a flat tree
# is simpler to read and to diff.
DEDUP_THRESHOLD = 3_000_000

STRING = {"type": "string"}
EMPTY = {"type": "empty"}
SCALARS: dict[Any, dict] = {
    str: STRING,
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    decimal.Decimal: {"type": "decimal"},
    typing.Any: {"type": "any"},
}

# Record of annotations that had no clean mapping, for the report.
ODDITIES: Counter[str] = Counter()


# --------------------------------------------------------------------------
# Finding the params TypedDict for an endpoint
# --------------------------------------------------------------------------


def resolve_method(client: stripe.StripeClient, accessor: str) -> Any:
    """Walk ``client.v1.issuing.cards.create`` minus the leading ``client``."""
    obj: Any = client
    for part in accessor.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def forward_ref_name(annotation: Any) -> str:
    """The class name inside ``"X"`` or ``Optional[ForwardRef('X')]``."""
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, typing.ForwardRef):
        return annotation.__forward_arg__
    for arg in typing.get_args(annotation):
        if arg is not type(None):
            return forward_ref_name(arg)
    raise LookupError(f"no class name in annotation {annotation!r}")


def imports_of(module_name: str) -> dict[str, str]:
    """Map imported name -> module for every ``from X import Y`` in a module.

    Service modules import their params classes only under TYPE_CHECKING, and
    class names collide across packages (issuing vs treasury
    ``TransactionListParams``), so the service's own import is the only
    reliable way to know which class a method means.
    """
    source = inspect.getsource(sys.modules[module_name])
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                found[alias.asname or alias.name] = node.module
    return found


def params_class(method: Any) -> type:
    annotation = inspect.signature(method).parameters["params"].annotation
    name = forward_ref_name(annotation)
    module_globals = vars(sys.modules[method.__module__])
    if name in module_globals:
        return module_globals[name]
    module = importlib.import_module(imports_of(method.__module__)[name])
    return getattr(module, name)


# --------------------------------------------------------------------------
# TypedDict -> JSON node
# --------------------------------------------------------------------------


def is_typeddict(tp: Any) -> bool:
    return typing_extensions.is_typeddict(tp) or typing.is_typeddict(tp)


def strip_qualifiers(tp: Any) -> Any:
    """Drop ``NotRequired``/``Required`` wrappers; requiredness comes from
    ``__required_keys__`` instead."""
    origin = typing_extensions.get_origin(tp)
    qualifiers = {typing_extensions.NotRequired, typing_extensions.Required}
    if origin in qualifiers:
        return strip_qualifiers(typing_extensions.get_args(tp)[0])
    return tp


def convert(tp: Any, path: str) -> dict:
    tp = strip_qualifiers(tp)
    if tp in SCALARS:
        return SCALARS[tp]
    if is_typeddict(tp):
        return convert_typeddict(tp, path)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Literal or origin is typing_extensions.Literal:
        return convert_literal(args, path)
    if origin is typing.Union or origin is types.UnionType:  # X|Y in 3.10+
        return convert_union(args, path)
    if origin is list:
        return {"type": "array", "items": convert(args[0], f"{path}[]")}
    if origin in (dict, typing.Mapping) or _is_untyped_object(origin):
        value = args[-1] if args else typing.Any
        return {"type": "map", "values": convert(value, f"{path}[*]")}
    if _is_untyped_object(tp):
        return {"type": "map", "values": {"type": "any"}}
    ODDITIES[f"{path}: {tp!r}"] += 1
    return {"type": "any"}


def _is_untyped_object(tp: Any) -> bool:
    # UntypedStripeObject[X] is the SDK's "hash with arbitrary keys" type.
    return isinstance(tp, type) and tp.__name__ == "UntypedStripeObject"


def convert_literal(values: tuple, path: str) -> dict:
    strings = [v for v in values if isinstance(v, str)]
    if len(strings) != len(values):
        ODDITIES[f"{path}: non-string Literal {values!r}"] += 1
    options = []
    if "" in strings:
        options.append(EMPTY)
    named = [v for v in strings if v != ""]
    if named:
        options.append({"type": "enum", "values": named})
    return options[0] if len(options) == 1 else {"type": "union", "options": options}


def convert_union(args: tuple, path: str) -> dict:
    """Flatten, drop None, merge enums, and dedupe.

    Every SDK enum is written ``Literal[...] | str`` so that newer server
    values do not break type checks; the ``str`` is forward compatibility on
    the *client*, not a server promise, so it is dropped when an enum is
    present and the enum is what we validate.
    """
    options: list[dict] = []
    for arg in args:
        if arg is type(None):
            continue
        node = convert(arg, path)
        options.extend(node["options"] if node.get("type") == "union" else [node])
    enum_values = [v for o in options if o["type"] == "enum" for v in o["values"]]
    if enum_values:
        options = [o for o in options if o["type"] not in ("enum", "string")]
        options.append({"type": "enum", "values": list(dict.fromkeys(enum_values))})
    unique = list({json.dumps(o, sort_keys=True): o for o in options}.values())
    unique.sort(key=_union_order)
    return unique[0] if len(unique) == 1 else {"type": "union", "options": unique}


def _union_order(node: dict) -> int:
    # "" first so an empty value is recognised before any other option.
    return 0 if node.get("type") == "empty" else 1


def convert_typeddict(cls: type, path: str, top_level: bool = False) -> dict:
    """Object node for a TypedDict.

    One deliberate override: every ``metadata`` map also accepts ``""``.
    The OpenAPI spec (hence the SDK types) omits the empty option on the
    Issuing/Treasury endpoints, yet the very docstring of those fields says
    "All keys can be unset by posting an empty value to `metadata`", and
    that is Stripe's documented behaviour everywhere.
    """
    hints = typing.get_type_hints(cls, include_extras=True, localns=EXTRA_NAMES)
    required = cls.__required_keys__
    fields = {}
    for name in sorted(hints):
        if top_level and name in DROPPED_KEYS:
            continue
        schema = convert(hints[name], f"{path}[{name}]" if path else name)
        if name == "metadata" and schema.get("type") == "map":
            schema = {"type": "union", "options": [EMPTY, schema]}
        fields[name] = {"required": name in required, "schema": schema}
    return {"type": "object", "fields": fields}


# --------------------------------------------------------------------------
# Optional deduplication
# --------------------------------------------------------------------------


def dedupe(endpoints: dict) -> tuple[dict, dict]:
    """Replace large repeated subtrees by ``{"$ref": name}`` entries."""
    counts: Counter[str] = Counter()

    def count(node: Any) -> None:
        if isinstance(node, dict):
            counts[json.dumps(node, sort_keys=True)] += 1
            for child in node.values():
                count(child)
        elif isinstance(node, list):
            for child in node:
                count(child)

    count(endpoints)
    names: dict[str, str] = {}
    defs: dict[str, Any] = {}

    def replace(node: Any) -> Any:
        if isinstance(node, list):
            return [replace(child) for child in node]
        if not isinstance(node, dict):
            return node
        key = json.dumps(node, sort_keys=True)
        if counts[key] > 1 and len(key) > 200 and "type" in node:
            if key not in names:
                names[key] = f"d{len(names)}"
                defs[names[key]] = {k: replace(v) for k, v in node.items()}
            return {"$ref": names[key]}
        return {k: replace(v) for k, v in node.items()}

    return {k: replace(v) for k, v in endpoints.items()}, defs


# --------------------------------------------------------------------------


def build(endpoints_path: Path) -> tuple[dict, list[str]]:
    client = stripe.StripeClient("sk_test_x")
    specs: dict[str, dict] = {}
    failures: list[str] = []
    entries = json.loads(endpoints_path.read_text()) if endpoints_path.exists() else []
    listed = {f"{entry['method']} {entry['path']}" for entry in entries}
    # Every SDK method in openissuing's namespaces, not only the reference's hand-kept list.
    entries += [
        {"method": e.method, "path": e.path, "sdk": e.accessor}
        for e in sdk_surface.endpoints()
        if e.key not in listed
    ]
    for entry in entries:
        key = f"{entry['method']} {entry['path']}"
        try:
            cls = params_class(resolve_method(client, entry["sdk"]))
            specs[key] = convert_typeddict(cls, "", top_level=True)
        except Exception as exc:  # report every failure, not just the first
            failures.append(f"{key} ({entry['sdk']}): {type(exc).__name__}: {exc}")
    return specs, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("endpoints", nargs="?", type=Path, default=DEFAULT_ENDPOINTS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    specs, failures = build(args.endpoints)
    document: dict[str, Any] = {"endpoints": specs}
    text = json.dumps(document, separators=(",", ":"), sort_keys=True)
    if len(text) > DEDUP_THRESHOLD:
        deduped, defs = dedupe(specs)
        document = {"endpoints": deduped, "$defs": defs}
        text = json.dumps(document, separators=(",", ":"), sort_keys=True)
    args.out.write_text(text + "\n")

    print(f"wrote {args.out} ({len(text):,} bytes, compact)")
    print(f"resolved {len(specs)} endpoints; {len(failures)} failures")
    for failure in failures:
        print("FAILED", failure)
    for oddity, n in sorted(ODDITIES.items()):
        print(f"no clean mapping ({n}x): {oddity}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
