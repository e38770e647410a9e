"""The layers of the house point one way, and no import goes round in a circle.

    shared (clock, ids, settings, secrets_box) <- domain <- wire <- storage <- services
        <- api | webhooks <- maintenance <- app <- commands <- cli

Every ``import`` of the package is read from the source (ast, function-level imports
included, so a late import cannot hide an upward arrow). A module may import a lower layer,
or another module of its own part; never a higher layer and never a sibling part of the same
layer (``api`` and ``webhooks`` do not know each other).
"""

from __future__ import annotations

import ast
from pathlib import Path

import openissuing

PACKAGE = Path(openissuing.__file__).parent

# (part, layer): the part is the first name under ``openissuing``.
LAYERS: dict[str, int] = {
    "__init__": 0,
    "clock": 0,
    "ids": 0,
    "settings": 0,
    "secrets_box": 0,
    # Request parameters the commands (and the tests) send: plain data.
    "fixtures": 0,
    # Prometheus metrics: counters the layers above increment (it imports nothing of ours).
    "observability": 0,
    # Stripe's form encoding for our own clients (commands, dashboard).
    "formencode": 0,
    "domain": 1,
    "wire": 2,
    "storage": 3,
    "services": 4,
    "bootstrap": 4,
    # Which keys sealed the database, and re-sealing with the newest (rotate-key).
    "keyring": 4,
    "api": 5,
    "webhooks": 5,
    # The web dashboard: a client of the API, in-process.
    "dashboard": 5,
    # Housekeeping prunes idempotency keys (storage) and concludes two-phase requests left by a
    # stopped server through api.resume, whose stored answer is rendered like the API's.
    "maintenance": 6,
    "app": 7,
    # The app factory `serve --workers N` names to uvicorn: each worker builds its runtime.
    "factory": 8,
    # The commands that steer a running server over HTTP (sandbox, clock, demo, listen…).
    "commands": 8,
    "cli": 9,
}
SHARED_LAYER = 0


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.relative_to(PACKAGE).parts
    }


def _is_package(name: str, modules: dict[str, Path]) -> bool:
    return modules[name].name == "__init__.py"


def _imports(name: str, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports, anywhere in its body."""
    tree = ast.parse(modules[name].read_text(), filename=str(modules[name]))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name if _is_package(name, modules) else name.rsplit(".", 1)[0]
                for _ in range(node.level - 1):
                    anchor = anchor.rsplit(".", 1)[0]
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in modules else base)
    return {target for target in found if target in modules and target != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, modules) for name in modules}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_part_of_the_package_has_a_layer():
    parts = {_part(module) for module in _modules()}
    assert parts - set(LAYERS) == set(), "give the new part a layer in LAYERS"


def test_imports_point_down_only():
    wrong = []
    for source, targets in _graph().items():
        source_part = _part(source)
        for target in targets:
            target_part = _part(target)
            if target_part == source_part:
                continue
            below = LAYERS[target_part] < LAYERS[source_part]
            shared = LAYERS[source_part] == LAYERS[target_part] == SHARED_LAYER
            if not (below or shared):
                wrong.append(f"{source} -> {target}")
    assert wrong == []


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm (iterative): the groups of modules that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                groups.append(group)
    return groups


def test_no_import_cycles():
    graph = _graph()
    cycles = [sorted(group) for group in _strongly_connected(graph) if len(group) > 1]
    assert cycles == []


def test_the_checker_sees_function_level_imports_and_cycles(tmp_path):
    """The walk itself: a late import inside a function is an import like any other."""
    fake = tmp_path / "fake.py"
    fake.write_text("def f():\n    from openissuing.api import render\n    return render\n")
    modules = {**_modules(), "openissuing.fake": fake}
    assert _imports("openissuing.fake", modules) == {"openissuing.api.render"}
    planted = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert sorted(map(sorted, _strongly_connected(planted))) == [["a", "b", "c"], ["d"]]
