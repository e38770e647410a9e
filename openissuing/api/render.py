"""Turning domain records into Stripe's JSON, with ``expand[]``.

Each object type registers one serializer (``@serializer("issuing.card")``) in
``openissuing.api.serializers``; they are the only code that knows the wire shape.
Expansion is generic: a dotted path whose value is an id is replaced by the
rendered object it names, provided the acting account can see it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openissuing.domain.errors import InvalidRequest
from openissuing.services.scope import Scope
from openissuing.storage.documents import Page
from openissuing.storage.uow import UnitOfWork

Json = dict[str, Any]
MAX_EXPAND_DEPTH = 4


@dataclass
class RenderContext:
    uow: UnitOfWork
    scope: Scope
    # Top-level expand paths for the object being rendered (e.g. {"number", "cvc"}).
    expand: set[str] = field(default_factory=set)
    # Retrieve endpoints may reveal secrets that list/create endpoints never do.
    reveal_secrets: bool = False

    def with_expand(self, paths: set[str]) -> RenderContext:
        return RenderContext(self.uow, self.scope, paths, self.reveal_secrets)


Serializer = Callable[[Json, RenderContext], Json]
SERIALIZERS: dict[str, Serializer] = {}


def serializer(object_type: str) -> Callable[[Serializer], Serializer]:
    def register(fn: Serializer) -> Serializer:
        SERIALIZERS[object_type] = fn
        return fn

    return register


def base(record: Json, object_type: str) -> Json:
    """The fields every top-level object has, then the record's own."""
    out = {"id": record["id"], "object": object_type}
    out.update(record)
    out["object"] = object_type
    out.setdefault("livemode", False)
    return out


def render(
    object_type: str, record: Json, ctx: RenderContext, expand: list[str] | None = None
) -> Json:
    paths = [p for p in (expand or []) if p]
    _check_depth(paths)
    top = {p.split(".", 1)[0] for p in paths}
    obj = SERIALIZERS[object_type](record, ctx.with_expand(top))
    return expand_paths(obj, paths, ctx)


def render_list(
    object_type: str, page: Page, url: str, ctx: RenderContext, expand: list[str] | None = None
) -> Json:
    inner = [p[len("data.") :] for p in (expand or []) if p.startswith("data.")]
    listed = RenderContext(ctx.uow, ctx.scope, set(), reveal_secrets=False)
    return {
        "object": "list",
        "data": [render(object_type, record, listed, inner) for record in page.records],
        "has_more": page.has_more,
        "url": url,
    }


def _check_depth(paths: list[str]) -> None:
    for path in paths:
        if path.count(".") >= MAX_EXPAND_DEPTH:
            raise InvalidRequest(
                f"You cannot expand more than {MAX_EXPAND_DEPTH} levels of a property. "
                f"Property: {path}",
                param="expand",
            )


def expand_paths(obj: Json, paths: list[str], ctx: RenderContext) -> Json:
    groups: dict[str, list[str]] = {}
    for path in paths:
        head, _, rest = path.partition(".")
        groups.setdefault(head, [])
        if rest:
            groups[head].append(rest)
    for head, rests in groups.items():
        if head not in obj:
            # Hidden fields (number, cvc…) are handled by serializers themselves.
            if head in ctx.expand:
                continue
            raise InvalidRequest(f"This property cannot be expanded ({head}).", param="expand")
        obj[head] = _expand_value(obj[head], rests, ctx)
    return obj


def _expand_value(value: Any, rests: list[str], ctx: RenderContext) -> Any:
    if isinstance(value, str):
        loaded = load_visible(value, ctx)
        if loaded is None:
            return value
        object_type, record = loaded
        return render(object_type, record, ctx, rests)
    if isinstance(value, dict) and rests:
        return expand_paths(value, rests, ctx)
    if isinstance(value, list):
        return [_expand_value(v, rests, ctx) for v in value]
    return value


def load_visible(object_id: str, ctx: RenderContext) -> tuple[str, Json] | None:
    """An object by id, only if it lives in the acting account (or is that account)."""
    found = ctx.uow.docs.owner_of(object_id)
    if found is None:
        return None
    object_type, owner = found
    visible = owner == ctx.scope.account or object_id == ctx.scope.account
    if not visible or object_type not in SERIALIZERS:
        return None
    record = ctx.uow.docs.get(object_type, object_id, owner)
    return None if record is None else (object_type, record)
