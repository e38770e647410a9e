"""``expand[]`` and lists, on top of the presenter (``services.presenter``).

Serializers are pure (``openissuing.wire``) and the presenter loads their relations; this
module only walks expand paths: a dotted path whose value is an id is replaced by the
rendered object it names, provided the acting account can see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openissuing.domain.errors import InvalidRequest
from openissuing.services import presenter
from openissuing.services.scope import Scope
from openissuing.storage.documents import Page
from openissuing.storage.uow import UnitOfWork

Json = dict[str, Any]
MAX_EXPAND_DEPTH = 4


@dataclass(frozen=True)
class RenderContext:
    uow: UnitOfWork
    scope: Scope
    # Retrieve endpoints may reveal secrets that list/create endpoints never do.
    reveal_secrets: bool = False


def render(
    object_type: str, record: Json, ctx: RenderContext, expand: list[str] | None = None
) -> Json:
    paths = [p for p in (expand or []) if p]
    _check_depth(paths)
    top = frozenset(p.split(".", 1)[0] for p in paths)
    obj = presenter.present(
        ctx.uow, ctx.scope, object_type, record, expand=top, reveal_secrets=ctx.reveal_secrets
    )
    return expand_paths(obj, paths, ctx)


def render_list(
    object_type: str, page: Page, url: str, ctx: RenderContext, expand: list[str] | None = None
) -> Json:
    inner = [p[len("data.") :] for p in (expand or []) if p.startswith("data.")]
    listed = RenderContext(ctx.uow, ctx.scope, reveal_secrets=False)
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
            raise InvalidRequest(f"This property cannot be expanded ({head}).", param="expand")
        obj[head] = _expand_value(obj[head], rests, ctx)
    return obj


def _expand_value(value: Any, rests: list[str], ctx: RenderContext) -> Any:
    if isinstance(value, str):
        loaded = presenter.load_visible(ctx.uow, ctx.scope, value)
        if loaded is None:
            return value
        object_type, record = loaded
        return render(object_type, record, ctx, rests)
    if isinstance(value, dict) and rests:
        return expand_paths(value, rests, ctx)
    if isinstance(value, list):
        return [_expand_value(v, rests, ctx) for v in value]
    return value
