"""Every JSON object we send is checked against the ``stripe`` SDK's own class for it.

The SDK (pinned) declares each object as a class with type annotations: every field a
client may read, its JSON type, whether it can be null, the closed set of an enum, the
nested classes. ``problems(body)`` reads those annotations (``typing.get_type_hints``
over the class the SDK's own ``OBJECT_CLASSES`` table names for the body's ``object``)
and returns every mismatch as ``"<path>: <what>"``, e.g.
``issuing.authorization.amount_details.atm_fee: missing``. Nothing here knows one object
type from another: a type added to the server is checked as soon as the SDK has a class
for it, and a body whose ``object`` the SDK has no class for is a problem of its own.

The rules, one per annotation form:

* every declared field is present (``null`` where unset), and no undeclared field is
  sent (private bookkeeping leaking out). The SDK writes ``Optional`` both for "nullable"
  and for "sent only when it applies" (not in the OpenAPI object's ``required`` list); the
  few fields of the second kind we send as Stripe does, absent where they do not apply,
  are listed in ``ABSENT_UNLESS_APPLIES`` and ``SPARSE`` (each with the test that asserts
  the absence). An error body may omit its fields (the SDK fills them in:
  ``ErrorObject._refresh_from`` says Stripe omits unset error fields);
* ``int`` is a JSON integer (not a bool, not a float); ``float`` any JSON number;
  ``bool`` a boolean; ``str`` a string; ``Decimal`` (``_field_encodings`` say
  ``decimal_string``) a string holding a finite decimal;
* ``Optional[X]`` allows ``null``; nothing else does;
* ``Literal[...]`` values are within the set. The SDK writes most enums as
  ``Union[Literal[...], str]`` so that a value Stripe adds later still parses; we are the
  server, not a client, so we hold ourselves to the closed set: a value outside it fails;
* ``List[X]`` is a list of X; ``Dict[str, X]`` / ``UntypedStripeObject[X]`` a map of X;
  ``ListObject[X]`` is ``{"object": "list", "data": [X…], "has_more": bool, "url": str}``;
  ``ExpandableField[X]`` (``Union[str, X]``) an id string or an expanded X;
* a nested class is checked field by field, recursively; a top-level class also checks
  ``object``. A field the SDK types as an id string holds an object only where the request
  expanded it (``expand[]``, passed in as ``expanded``): then it is checked as its own
  type. A map of ``Any`` that is a JSON object with an ``object`` string (an event's
  ``data.object``) is checked as that object type;
* a deleted object is ``{"id", "object", "deleted": true}`` (plus, at most, fields its
  class declares).
"""

from __future__ import annotations

import ast
import decimal
import functools
import importlib
import os
import re
import sys
import threading
import types
import typing
from typing import Any, Literal, Union

from stripe._error_object import ErrorObject
from stripe._list_object import ListObject
from stripe._object_classes import OBJECT_CLASSES
from stripe._stripe_object import StripeObject, UntypedStripeObject

NoneType = type(None)
# Fields Stripe sends only where they apply (optional in Stripe's OpenAPI ``required`` lists,
# ``field?:`` in stripe-node's types), keyed by the SDK class: absent is right, null is not
# needed. ``deleted`` on any class: only a deleted object's stub carries it.
ABSENT_UNLESS_APPLIES: frozenset[tuple[str, str]] = frozenset(
    {
        ("*", "deleted"),
        # Only connected accounts' events (tests/contract/test_events.py, test_webhooks.py).
        ("stripe._event.Event", "account"),
        # Only ``*.updated`` events (tests/contract/test_events.py).
        ("stripe._event.Event.Data", "previous_attributes"),
        # Only the create response (tests/contract/test_webhooks.py).
        ("stripe._webhook_endpoint.WebhookEndpoint", "secret"),
    }
)
# SDK classes that are maps keyed by name on the wire: only the keys that apply are sent
# (``account.capabilities`` lists the capabilities requested; tests/contract/test_accounts.py).
SPARSE: frozenset[str] = frozenset({"stripe._account.Account.Capabilities"})
# Fields Stripe sends that the SDK's class does not declare (the ephemeral key's
# ``associated_objects``, shown in Stripe's own ephemeral key responses): allowed, unchecked.
SENT_BUT_UNDECLARED: frozenset[tuple[str, str]] = frozenset(
    {("stripe._ephemeral_key.EphemeralKey", "associated_objects")}
)
# Enum values the SDK's own request params accept for a field its response class closes
# without them: Issuing funding instructions are asked for with
# ``bank_transfer[type]=gb_bank_transfer``, which FundingInstructions.BankTransfer.type omits.
EXTRA_VALUES: dict[tuple[str, str], frozenset[str]] = {
    ("stripe._funding_instructions.FundingInstructions.BankTransfer", "type"): frozenset(
        {"gb_bank_transfer"}
    ),
}
# Stripe objects with no SDK class at all, and why: only ``id`` and ``object`` are checked.
# Anything else the SDK has no class for fails ("the SDK has no class for object type …").
NO_SDK_CLASS: dict[str, str] = {
    "ephemeral_key_nonce": "Stripe.js's nonce for Issuing Elements (POST /v1/ephemeral_key_nonces)",
}
# Not in the SDK's ErrorObject, sent in every error body of ours (the Request-Id header's
# value; tests/contract/test_conventions.py asserts it).
ERROR_EXTRAS = frozenset({"request_id"})


class ShapeError(AssertionError):
    """A body the server sent does not match the SDK's class for it."""


# ------------------------------------------------------------------ the SDK's declarations


def class_for(object_name: str) -> type[StripeObject] | None:
    """The SDK's class for an ``object`` string, or None when it has none."""
    found = OBJECT_CLASSES.get(object_name)
    if found is None or object_name in ("list", "search_result"):
        return None
    module, name = found
    return getattr(importlib.import_module(module), name)


# Bodies are checked on many threads at once (load generators, webhook receivers) and the
# declarations below are read lazily, on first use. Before 3.11.8, CPython kept ast.parse's
# recursion count in state all threads share, so a parse that lets another thread run (a
# garbage collection inside it) can fail with a spurious "SystemError: AST constructor
# recursion depth mismatch" (python/cpython#106905). Reading is serialized; once cached,
# declarations are read without the lock.
_READING_DECLARATIONS = threading.RLock()


@functools.cache
def _module_namespace(module_name: str) -> dict[str, Any]:
    """The module's globals plus the names it imports only under ``TYPE_CHECKING`` (the
    SDK's forward references like ``"Card"`` point there)."""
    with _READING_DECLARATIONS:
        return _read_module_namespace(module_name)


def _read_module_namespace(module_name: str) -> dict[str, Any]:
    module = sys.modules[module_name]
    namespace = dict(vars(module))
    source = module.__file__ or ""
    for node in ast.parse(open(source, encoding="utf-8").read()).body:
        if not (isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"):
            continue
        for imported in node.body:
            if not isinstance(imported, ast.ImportFrom) or imported.module is None:
                continue
            if imported.module.startswith("stripe.params"):
                continue  # request parameter types, never part of a response
            target = importlib.import_module(imported.module)
            for alias in imported.names:
                namespace[alias.asname or alias.name] = getattr(target, alias.name)
    return namespace


@functools.cache
def fields_of(cls: type) -> dict[str, Any]:
    """Wire name → resolved annotation, for every public field ``cls`` declares."""
    with _READING_DECLARATIONS:
        return _read_fields(cls)


def _read_fields(cls: type) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        own = klass.__dict__.get("__annotations__") or {}
        public = {k: v for k, v in own.items() if not k.startswith("_") and k != "OBJECT_NAME"}
        if not public:
            continue
        holder = type("Fields", (), {"__annotations__": public, "__module__": klass.__module__})
        hints = typing.get_type_hints(
            holder, globalns=_module_namespace(klass.__module__), localns=dict(vars(klass))
        )
        remap = getattr(klass, "_field_remappings", {}) or {}
        for name, hint in hints.items():
            if typing.get_origin(hint) is typing.ClassVar:
                continue
            out[remap.get(name, name)] = hint
    return out


def _decimal_fields(cls: type) -> frozenset[str]:
    encodings = getattr(cls, "_field_encodings", {}) or {}
    return frozenset(k for k, v in encodings.items() if v == "decimal_string")


# ------------------------------------------------------------------ checking


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class _Checker:
    def __init__(self, expanded: frozenset[str] = frozenset()) -> None:
        self.found: list[str] = []
        self.expanded = expanded
        self.root = ""

    def _expanded_here(self, path: str) -> bool:
        """Whether ``path`` is one the request asked to expand (``data.`` for list items)."""
        relative = path[len(self.root) + 1 :] if path.startswith(self.root + ".") else path
        relative = re.sub(r"\[[^]]*\]", "", relative)
        return relative in self.expanded

    def fail(self, path: str, what: str) -> None:
        self.found.append(f"{path}: {what}")

    # -- a value against an annotation

    def value(self, hint: Any, value: Any, path: str, *, decimal_string: bool = False) -> None:
        origin = typing.get_origin(hint)
        if hint is Any:
            self._any(value, path)
        elif origin is Union or isinstance(hint, types.UnionType):
            self._union(typing.get_args(hint), value, path, decimal_string)
        elif value is None:
            self.fail(path, "null, but the SDK does not declare it Optional")
        elif origin is Literal:
            self._literal(typing.get_args(hint), value, path)
        elif hint is decimal.Decimal or decimal_string:
            self._decimal(value, path)
        elif hint in (str, int, float, bool):
            self._primitive(hint, value, path)
        elif origin in (list, typing.List):  # noqa: UP006 - the SDK's spelling
            self._list(typing.get_args(hint)[0], value, path)
        elif origin in (dict, typing.Dict):  # noqa: UP006
            self._map(typing.get_args(hint)[1], value, path)
        elif isinstance(origin, type) and issubclass(origin, ListObject):
            self._list_object(typing.get_args(hint)[0], value, path)
        elif isinstance(origin, type) and issubclass(origin, UntypedStripeObject):
            item = typing.get_args(hint)[0]
            if item is Any and isinstance(value, dict) and isinstance(value.get("object"), str):
                self.body(value, path)  # an event's data.object: the object it names
            else:
                self._map(item, value, path)
        elif isinstance(hint, type) and issubclass(hint, StripeObject):
            self.object(hint, value, path)
        else:
            self.fail(path, f"the checker does not know the annotation {hint!r}")

    def _primitive(self, hint: type, value: Any, path: str) -> None:
        if hint is str and isinstance(value, dict) and self._expanded_here(path):
            self.body(value, path)  # an id the request expanded
            return
        if hint is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif hint is int:
            ok = type(value) is int
        else:
            ok = type(value) is hint
        if not ok:
            self.fail(path, f"expected {hint.__name__}, got {_json_type(value)} {value!r}"[:200])

    def _decimal(self, value: Any, path: str) -> None:
        if not isinstance(value, str):
            self.fail(path, f"expected a decimal string, got {_json_type(value)} {value!r}")
            return
        try:
            ok = decimal.Decimal(value).is_finite()
        except decimal.InvalidOperation:
            ok = False
        if not ok:
            self.fail(path, f"expected a decimal string, got {value!r}")

    def _literal(self, allowed: tuple[Any, ...], value: Any, path: str) -> None:
        if value not in allowed or type(value) not in {type(a) for a in allowed}:
            self.fail(path, f"{value!r} is not one of {sorted(map(str, allowed))}"[:300])

    def _union(self, args: tuple[Any, ...], value: Any, path: str, decimal_string: bool) -> None:
        nullable = NoneType in args
        rest = [a for a in args if a is not NoneType]
        if value is None:
            if not nullable:
                self.fail(path, "null, but the SDK does not declare it Optional")
            return
        literals = tuple(v for a in rest if typing.get_origin(a) is Literal for v in a.__args__)
        others = [a for a in rest if typing.get_origin(a) is not Literal]
        if literals and isinstance(value, (str, bool)):
            # Union[Literal[...], str] is an enum the SDK leaves open for clients; a server
            # stays within the values it names.
            self._literal(literals, value, path)
            return
        if len(others) == 1:
            self.value(others[0], value, path, decimal_string=decimal_string)
            return
        self._first_fitting(others, value, path, decimal_string)

    def _first_fitting(self, options: list[Any], value: Any, path: str, dec: bool) -> None:
        """One of several types (an id or an object; one of several object classes)."""
        if isinstance(value, str) and str in options:
            return
        candidates = [o for o in options if o is not str]
        if isinstance(value, dict) and isinstance(value.get("object"), str):
            named = [
                c
                for c in candidates
                if isinstance(c, type) and c.__dict__.get("OBJECT_NAME") == value["object"]
            ]
            candidates = named or candidates
        best: list[str] | None = None
        for option in candidates:
            trial = _Checker(self.expanded)
            trial.root = self.root
            trial.value(option, value, path, decimal_string=dec)
            if not trial.found:
                return
            if best is None or len(trial.found) < len(best):
                best = trial.found
        self.found.extend(best or [f"{path}: {_json_type(value)} fits none of {options}"])

    def _list(self, item: Any, value: Any, path: str) -> None:
        if not isinstance(value, list):
            self.fail(path, f"expected a list, got {_json_type(value)}")
            return
        for i, element in enumerate(value):
            self.value(item, element, f"{path}[{i}]")

    def _map(self, item: Any, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            self.fail(path, f"expected a map, got {_json_type(value)}")
            return
        for key, element in value.items():
            self.value(item, element, f"{path}[{key!r}]")

    def _list_object(self, item: Any, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            self.fail(path, f"expected a list object, got {_json_type(value)}")
            return
        declared = {"object": Literal["list"], "data": list[item], "has_more": bool, "url": str}
        self._fields(declared, value, path, frozenset())

    def _any(self, value: Any, path: str) -> None:
        """Untyped: a JSON object naming its type is checked as that type."""
        if isinstance(value, dict) and isinstance(value.get("object"), str):
            self.body(value, path)

    # -- objects

    def object(self, cls: type, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            self.fail(path, f"expected a {cls.__qualname__} object, got {_json_type(value)}")
            return
        name = cls.__dict__.get("OBJECT_NAME")
        if name is not None and value.get("object") != name:
            self.fail(f"{path}.object", f"expected {name!r}, got {value.get('object')!r}")
            return
        declared = fields_of(cls)
        if value.get("deleted") is True and "deleted" in declared:
            self._deleted(declared, value, path)
            return
        name = _name(cls)
        absent_ok = {f for c, f in ABSENT_UNLESS_APPLIES if c in ("*", name)}
        if name in SPARSE:
            absent_ok = set(declared)
        extra = {f for c, f in SENT_BUT_UNDECLARED if c == name}
        also = {f: v for (c, f), v in EXTRA_VALUES.items() if c == name}
        self._fields(declared, value, path, _decimal_fields(cls), absent_ok, extra, also)

    def _fields(
        self,
        declared: dict[str, Any],
        value: dict,
        path: str,
        decimals: frozenset[str],
        absent_ok: set[str] | frozenset[str] = frozenset(),
        undeclared_ok: set[str] | frozenset[str] = frozenset(),
        extra_values: dict[str, frozenset[str]] | None = None,
    ) -> None:
        for field, hint in declared.items():
            where = f"{path}.{field}"
            if field not in value:
                if field not in absent_ok:
                    self.fail(where, "missing")
                continue
            if isinstance(value[field], str) and value[field] in (extra_values or {}).get(
                field, ()
            ):
                continue
            self.value(hint, value[field], where, decimal_string=field in decimals)
        for field in value:
            if field not in declared and field not in undeclared_ok:
                self.fail(f"{path}.{field}", "not declared by the SDK (unexpected field)")

    def _deleted(self, declared: dict[str, Any], value: dict, path: str) -> None:
        """A deleted stub: id, object, deleted (Stripe's ``deleted_*`` schemas add a declared
        field or two, e.g. a deleted bank account's ``currency``: checked if present)."""
        if not isinstance(value.get("id"), str):
            self.fail(f"{path}.id", "a deleted object names its id")
        for field in sorted(set(value) - {"id", "object", "deleted"}):
            if field in declared:
                self.value(declared[field], value[field], f"{path}.{field}")
            else:
                self.fail(f"{path}.{field}", "not declared by the SDK (unexpected field)")

    # -- a whole body

    def body(self, value: Any, path: str | None = None) -> None:
        if path is None:
            self.root = value.get("object", "") if isinstance(value, dict) else ""
        if not isinstance(value, dict):
            self.fail(path or "body", f"expected a JSON object, got {_json_type(value)}")
            return
        if "error" in value and "object" not in value:
            self._error(value, path or "error")
            return
        name = value.get("object")
        if name == "list":
            self._list_body(value, path or "list")
            return
        if not isinstance(name, str):
            self.fail(path or "body", "a Stripe object names its type in `object`")
            return
        cls = class_for(name)
        if cls is None and name in NO_SDK_CLASS:
            if not isinstance(value.get("id"), str):
                self.fail(f"{path or name}.id", "missing")
            return
        if cls is None:
            self.fail(path or name, f"the SDK has no class for object type {name!r}")
            return
        self.object(cls, value, path or name)

    def _list_body(self, value: dict, path: str) -> None:
        declared = {"object": Literal["list"], "data": list[Any], "has_more": bool, "url": str}
        self._fields(declared, value, path, frozenset())
        for i, item in enumerate(value.get("data") or []):
            self.body(item, f"{path}.data[{i}]")

    def _error(self, value: dict, path: str) -> None:
        extra = sorted(set(value) - {"error"})
        if extra:
            self.fail(path, f"an error body is only {{'error': …}}; also sent {extra}")
        error = value["error"]
        if not isinstance(error, dict):
            self.fail(path, "expected an error object")
            return
        declared = fields_of(ErrorObject)
        for field, item in error.items():
            if field in ERROR_EXTRAS:
                self.value(str, item, f"{path}.{field}")
            elif field not in declared:
                self.fail(f"{path}.{field}", "not declared by the SDK (unexpected field)")
            else:
                self.value(declared[field], item, f"{path}.{field}")
        for field in ("type", "message"):
            if not isinstance(error.get(field), str):
                self.fail(f"{path}.{field}", "missing (every error has a type and a message)")


def _json_type(value: Any) -> str:
    return {
        NoneType: "null",
        bool: "bool",
        int: "int",
        float: "float",
        str: "str",
        list: "list",
        dict: "object",
    }.get(type(value), type(value).__name__)


def problems(body: Any, expanded: frozenset[str] = frozenset()) -> list[str]:
    """Every way ``body`` (a response, an event, a webhook body) differs from the SDK's class;
    ``expanded``: the request's ``expand[]`` paths."""
    checker = _Checker(expanded)
    checker.body(body)
    return checker.found


def check_as(cls: type, value: Any, path: str) -> list[str]:
    """``value`` checked against one SDK class (a nested class, in the checker's own tests)."""
    checker = _Checker()
    checker.object(cls, value, path)
    return checker.found


# Survey mode: OPENISSUING_TEST_SHAPES_LOG=<file> appends every problem to the file (one
# ``<request> | <path>: <what>`` line each) instead of failing tests, to see at once all that a
# set of tests finds (e.g. after adding an object type).
SURVEY_LOG = os.environ.get("OPENISSUING_TEST_SHAPES_LOG")


def fail_call(found: list[str], where: str) -> None:
    """Fail the call that received a bad body (unless surveying)."""
    if found and not SURVEY_LOG:
        raise ShapeError(_message(found, where))


def assert_shape(body: Any, where: str = "") -> None:
    found = problems(body)
    if found:
        raise ShapeError(_message(found, where))


def _message(found: list[str], where: str) -> str:
    head = f"{len(found)} shape problem(s) in {where or 'a body'}:\n  "
    shown = found[:40] + ([f"… and {len(found) - 40} more"] if len(found) > 40 else [])
    return head + "\n  ".join(shown)


# ------------------------------------------------------------------ per-test collection


class Collector:
    """Shape problems found while one test runs, wherever the body arrived (a webhook
    receiver's thread, a worker thread that swallows exceptions): the test fails at its end."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._found: list[str] = []

    def add(self, found: list[str], where: str) -> None:
        if SURVEY_LOG:
            with self._lock, open(SURVEY_LOG, "a", encoding="utf-8") as log:
                log.writelines(f"{where} | {problem}\n" for problem in found)
            return
        with self._lock:
            self._found.append(_message(found, where))

    def drain(self) -> list[str]:
        with self._lock:
            found, self._found = self._found, []
            return found


CURRENT = Collector()


def report(body: Any, where: str, expanded: frozenset[str] = frozenset()) -> list[str]:
    """Check ``body``; anything found is kept for the running test and returned."""
    found = problems(body, expanded)
    if found:
        CURRENT.add(found, where)
    return found
