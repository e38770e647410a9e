"""The one registry of object types (``openissuing.wire.registry``), checked against the code.

A type, id prefix or event type the code names without a registry entry fails here, when the
suite runs, instead of as a 500 on the first request that reaches it. Names are read from the
source: string literals, module constants (``TYPE``) and constants of imported modules
(``authorizations.TYPE``); f-strings must match a registered event type with their holes as
wildcards.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import openissuing
from openissuing.wire import registry

PACKAGE = Path(openissuing.__file__).parent
# Internal row ids (not Stripe objects): ids.new_id(prefix) takes these directly.
# Ids that are not Stripe objects: requests, deliveries, ledger accounts, Connect links (whose
# objects have no id on the wire), and the control plane's sandboxes and faults.
INTERNAL_PREFIXES = {"req", "wdl", "wda", "la", "link", "sbx", "flt"}


def _sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), ast.parse(path.read_text())


def _resolve(node: ast.AST, module) -> str | None:
    """The string an argument names, when it is known without running the code."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, (ast.Name, ast.Attribute)):
        chain = []
        while isinstance(node, ast.Attribute):
            chain.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        value = getattr(module, node.id, None)
        for attr in reversed(chain):
            value = getattr(value, attr, None)
        return value if isinstance(value, str) else None
    return None


def _pattern(node: ast.AST, module) -> re.Pattern | None:
    """An f-string as a pattern: known parts literal, unknown holes match one dotted word."""
    if not isinstance(node, ast.JoinedStr):
        return None
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(re.escape(value.value))
        else:
            known = _resolve(value.value, module)
            parts.append(re.escape(known) if known is not None else r"[a-z_]+")
    return re.compile("".join(parts) + r"\Z")


def _calls(function_name: str, owner: str | None = None):
    """(module, call) for every call of ``function_name`` (plain or as an attribute; with
    ``owner``, only as ``owner.function_name``)."""
    for name, tree in _sources():
        module = importlib.import_module(name)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute):
                called = func.attr
                if owner is not None and getattr(func.value, "id", None) != owner:
                    continue
            else:
                called = None if owner is not None else getattr(func, "id", None)
            if called == function_name:
                yield module, node


def test_every_id_is_minted_for_a_registered_type_with_a_prefix():
    seen = 0
    for module, call in _calls("id_for"):
        object_type = _resolve(call.args[0], module)
        if object_type is None:
            continue  # a parameter (received_flows mints for its caller's type)
        seen += 1
        assert object_type in registry.TYPES, f"{module.__name__}: {object_type}"
        assert registry.TYPES[object_type].prefix is not None, object_type
    assert seen >= 10


def test_internal_prefixes_never_collide_with_object_prefixes():
    prefixes = {entry.prefix for entry in registry.TYPES.values()}
    for module, call in _calls("new_id"):
        prefix = _resolve(call.args[0], module) if call.args else None
        if prefix is not None and module.__name__ != "openissuing.wire.registry":
            assert prefix in INTERNAL_PREFIXES, f"{module.__name__} mints {prefix}_: register it"
    assert not prefixes & INTERNAL_PREFIXES


def test_every_recorded_event_type_is_registered_for_its_object_type():
    seen = 0
    for module, call in _calls("record", owner="events"):
        if len(call.args) < 4:
            continue
        object_type = _resolve(call.args[3], module)
        if object_type is None:
            continue
        seen += 1
        assert object_type in registry.TYPES, f"{module.__name__}: {object_type}"
        event_type = _resolve(call.args[2], module)
        if event_type is not None:
            assert registry.EVENT_TYPES.get(event_type) == object_type, event_type
            continue
        pattern = _pattern(call.args[2], module)
        if pattern is not None:
            matching = [e for e, t in registry.EVENT_TYPES.items() if t == object_type]
            assert any(pattern.match(e) for e in matching), f"{module.__name__}: {pattern}"
    assert seen >= 25


def test_every_rendered_type_is_registered():
    seen = 0
    for function_name in ("render", "render_list", "present", "snapshot"):
        for module, call in _calls(function_name):
            if module.__name__.startswith("openissuing.dashboard"):
                continue  # its render() is Jinja2's, of templates, not of object types
            args = call.args
            # call.render(TYPE, …) / render(TYPE, …) / present(uow, scope, TYPE, …)
            position = 2 if function_name in ("present", "snapshot") else 0
            if len(args) <= position:
                continue
            object_type = _resolve(args[position], module)
            if object_type is None:
                continue
            seen += 1
            assert object_type in registry.TYPES, f"{module.__name__}: {object_type}"
    assert seen >= 30


def test_serializers_are_pure_functions_of_a_record_and_a_view():
    """No unit of work, scope or database handle reaches a serializer."""
    for entry in registry.TYPES.values():
        parameters = list(inspect.signature(entry.serializer).parameters)
        assert len(parameters) == 2 and parameters[1] == "view", entry.name
        assert entry.serializer.__module__.startswith("openissuing.wire"), entry.name


def test_the_registry_refuses_an_unknown_type_and_a_type_without_ids():
    import pytest

    with pytest.raises(KeyError):
        registry.id_for("issuing.cards")
    with pytest.raises(ValueError):
        registry.id_for("capability")
